/**
 * Reads an original orchestrator's data directory (state.json, events.jsonl,
 * knowledge/*.md, locks inside state.json) and validates all of it before
 * anything is written. Errors name the file and the line or field:
 * `events.jsonl line 17: "ts" must be a string`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod/mini';
import { OrchestratorError } from '../errors.js';
import { LIMITS, rules } from '../domain/rules.js';
import { FORMAT_VERSION, TASK_STATUSES, type Lock, type OrcEvent, type State, type TaskStatus } from '../domain/types.js';

export interface SeedData {
  state: State;
  events: OrcEvent[];
  knowledge: Record<string, string>;
  locks: Record<string, Lock>;
}

export type Progress = (message: string) => void;

const HEADER = /^<!-- Updated by .* at .* -->\r?\n/;

function bad(file: string, where: string, message: string): OrchestratorError {
  return new OrchestratorError('INVALID_INPUT', `${file}${where ? ` ${where}` : ''}: ${message}`, { file, where });
}

const time = z.string('must be a string');
const seedTask = z.object({
  id: rules.taskId,
  title: rules.title,
  description: z.optional(z.nullable(rules.text)),
  status: z.enum(TASK_STATUSES as [TaskStatus, ...TaskStatus[]], `must be ${TASK_STATUSES.join(', ')}`),
  priority: z.optional(z.nullable(rules.priority)),
  estimate: z.optional(rules.estimate),
  assigned_to: z.optional(z.nullable(rules.agent)),
  created_at: time,
  updated_at: z.optional(time),
  result: z.optional(z.nullable(rules.text)),
  depends_on: z.optional(z.array(rules.taskId)),
  needs: z.optional(z.array(rules.resource)),
});
const seedState = z.object({
  version: z.optional(z.int('must be an integer').check(z.gte(0, 'must not be negative'))),
  updated_at: z.optional(time),
  workstreams: z.record(
    rules.workstream,
    z.object({
      description: z.optional(z.nullable(rules.text)),
      priority: z.optional(z.nullable(rules.priority)),
      status: z.optional(z.string()),
      created_at: z.optional(time),
      tasks: z.array(seedTask),
    }),
  ),
  agents: z.optional(
    z.record(
      rules.agent,
      z.object({
        type: z.optional(rules.agentType),
        status: z.optional(z.string()),
        capabilities: z.optional(z.array(rules.capability)),
        registered_at: z.optional(time),
        last_seen: z.optional(time),
      }),
    ),
  ),
  locks: z.optional(z.record(rules.resource, z.object({ agent: rules.agent, acquired_at: time, ttl_ms: rules.ttl }))),
});

function where(pathParts: PropertyKey[]): string {
  return pathParts.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)), '');
}

/** Line and column of a JSON.parse error position, for the message. */
function jsonPosition(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  let pos: number;
  if (m) pos = Number(m[1]);
  else {
    // Newer engines quote the text around the error instead: ..."streams": }" is not valid JSON
    const q = /"(?:\.\.\.)?([\s\S]*?)(?:\.\.\.)?" is not valid JSON/.exec(err.message);
    const at = q && q[1] ? text.indexOf(q[1]) : -1;
    if (at < 0) return '';
    pos = at + q![1].length - 1;
  }
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return ` (line ${line}, column ${pos - before.lastIndexOf('\n')})`;
}

export function readSeedDir(dir: string, progress?: Progress): SeedData {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new OrchestratorError('NOT_FOUND', `${dir} is not a directory (give the original orchestrator's data directory, e.g. .orchestrator/)`, { dir });
  }
  const statePath = path.join(dir, 'state.json');
  if (!fs.existsSync(statePath)) throw bad('state.json', '', `missing from ${dir}; is this an orchestrator data directory?`);

  // state.json
  const text = fs.readFileSync(statePath, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad('state.json', '', `not valid JSON: ${(err as Error).message}${jsonPosition(text, err as Error)}`);
  }
  const parsed = seedState.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw bad('state.json', `field ${where(issue.path)}`, issue.message);
  }
  const s = parsed.data;
  const now = new Date().toISOString();
  const state: State = { format: FORMAT_VERSION, version: s.version ?? 0, updated_at: s.updated_at ?? now, workstreams: {}, agents: {} };
  const ids = new Map<string, string>();
  for (const [name, ws] of Object.entries(s.workstreams)) {
    state.workstreams[name] = {
      description: ws.description ?? '',
      priority: ws.priority ?? 5,
      status: ws.status ?? 'active',
      tasks: ws.tasks.map((t, i) => {
        const other = ids.get(t.id);
        if (other) throw bad('state.json', `field workstreams.${name}.tasks[${i}].id`, `task id "${t.id}" is used twice (also in workstream "${other}")`);
        ids.set(t.id, name);
        return {
          id: t.id,
          title: t.title,
          description: t.description ?? '',
          status: t.status,
          priority: t.priority ?? 5,
          estimate: t.estimate ?? null,
          assigned_to: t.assigned_to ?? null,
          created_at: t.created_at,
          updated_at: t.updated_at ?? t.created_at,
          result: t.result ?? null,
          ...(t.depends_on?.length ? { depends_on: t.depends_on } : {}),
          ...(t.needs?.length ? { needs: t.needs } : {}),
        };
      }),
      created_at: ws.created_at ?? now,
    };
  }
  for (const [name, ws] of Object.entries(state.workstreams)) {
    ws.tasks.forEach((t, i) =>
      t.depends_on?.forEach((d) => {
        if (!ids.has(d)) throw bad('state.json', `field workstreams.${name}.tasks[${i}].depends_on`, `unknown task "${d}"`);
      }),
    );
  }
  for (const [id, a] of Object.entries(s.agents ?? {})) {
    const seen = a.last_seen ?? a.registered_at ?? now;
    state.agents[id] = { type: a.type ?? 'general', status: a.status ?? 'active', capabilities: a.capabilities ?? [], registered_at: a.registered_at ?? seen, last_seen: seen };
  }
  const locks: Record<string, Lock> = {};
  for (const [resource, l] of Object.entries(s.locks ?? {})) {
    const acquired = Date.parse(l.acquired_at);
    if (Number.isNaN(acquired)) throw bad('state.json', `field locks.${resource}.acquired_at`, 'must be an ISO time');
    locks[resource] = { resource, agent: l.agent, acquired_at: l.acquired_at, ttl_ms: l.ttl_ms, expires_at: new Date(acquired + l.ttl_ms).toISOString() };
  }
  progress?.(`state.json: ${Object.keys(state.workstreams).length} workstreams, ${ids.size} tasks, ${Object.keys(state.agents).length} agents, ${Object.keys(locks).length} locks`);

  // events.jsonl
  const events: OrcEvent[] = [];
  const eventsPath = path.join(dir, 'events.jsonl');
  if (fs.existsSync(eventsPath)) {
    const lines = fs.readFileSync(eventsPath, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let e: unknown;
      try {
        e = JSON.parse(line);
      } catch (err) {
        throw bad('events.jsonl', `line ${i + 1}`, `not valid JSON: ${(err as Error).message}`);
      }
      if (!e || typeof e !== 'object' || Array.isArray(e)) throw bad('events.jsonl', `line ${i + 1}`, 'must be a JSON object');
      for (const key of ['ts', 'agent', 'action']) {
        if (typeof (e as Record<string, unknown>)[key] !== 'string') throw bad('events.jsonl', `line ${i + 1}`, `"${key}" must be a string`);
      }
      if (Number.isNaN(Date.parse((e as OrcEvent).ts))) throw bad('events.jsonl', `line ${i + 1}`, `"ts" is not a time: ${JSON.stringify((e as OrcEvent).ts)}`);
      events.push(e as OrcEvent);
      if (progress && events.length % 50_000 === 0) progress(`events.jsonl: ${events.length} events read`);
    });
    progress?.(`events.jsonl: ${events.length} events`);
  }

  // knowledge/
  const knowledge: Record<string, string> = {};
  const kdir = path.join(dir, 'knowledge');
  if (fs.existsSync(kdir)) {
    for (const file of fs.readdirSync(kdir).sort()) {
      if (!file.endsWith('.md')) continue;
      const topic = file.slice(0, -3);
      const r = rules.topic.safeParse(topic);
      if (!r.success) throw bad(`knowledge/${file}`, '', `topic name ${JSON.stringify(topic)} is invalid: ${r.error.issues[0].message}`);
      const content = fs.readFileSync(path.join(kdir, file), 'utf8').replace(HEADER, '');
      if (content.length > LIMITS.knowledge) throw bad(`knowledge/${file}`, '', `is over ${LIMITS.knowledge} characters`);
      knowledge[topic] = content;
    }
    progress?.(`knowledge/: ${Object.keys(knowledge).length} topics`);
  }
  return { state, events, knowledge, locks };
}
