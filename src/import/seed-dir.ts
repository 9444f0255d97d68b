/**
 * Reads an original orchestrator's data directory (state.json, events.jsonl,
 * knowledge/*.md, locks inside state.json) and validates all of it before
 * anything is written. Errors are INVALID_INPUT and name the file and the
 * line or field: `events.jsonl line 17: "ts" must be a string`.
 *
 * The directory is untrusted input: every file must be a regular file inside
 * it (a symbolic link may point only within it), times must be ISO times in
 * a plausible range, dependencies must not form a cycle. The event log is
 * read line by line (forEachEvent), so its size does not bound memory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from '../domain/zod.js';
import { OrchestratorError } from '../errors.js';
import { LIMITS, rules } from '../domain/rules.js';
import { FORMAT_VERSION, TASK_STATUSES, type Lock, type OrcEvent, type State, type TaskStatus } from '../domain/types.js';

export interface SeedData {
  state: State;
  knowledge: Record<string, string>;
  locks: Record<string, Lock>;
  /** The event log to read with forEachEvent, or null when the directory has none. */
  eventsFile: string | null;
}

export type Progress = (message: string) => void;

const HEADER = /^<!-- Updated by .* at .* -->\r?\n/;

function bad(file: string, where: string, message: string): OrchestratorError {
  return new OrchestratorError('INVALID_INPUT', `${file}${where ? ` ${where}` : ''}: ${message}`, { file, where });
}

// Times the original wrote are its clock's ISO times: none before 2000, none a day ahead of ours.
const EARLIEST_MS = Date.parse('2000-01-01T00:00:00.000Z');
const AHEAD_MS = 24 * 60 * 60 * 1000;

function timeProblem(value: unknown): string | null {
  if (typeof value !== 'string' || !rules.time.safeParse(value).success) return 'must be an ISO time like 2026-01-31T12:00:00.000Z';
  const ms = Date.parse(value);
  if (ms < EARLIEST_MS) return `${value} is before the year 2000`;
  if (ms > Date.now() + AHEAD_MS) return `${value} is in the future (more than a day ahead of this clock)`;
  return null;
}

const time = z.string('must be an ISO time like 2026-01-31T12:00:00.000Z').check(
  z.superRefine((value, ctx) => {
    const problem = timeProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
  }),
);
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

/**
 * The real path of an entry of the data directory, or null when it does not
 * exist; INVALID_INPUT when it is a link that leads outside the directory or
 * is not of the kind expected.
 */
function entryPath(root: string, rel: string, kind: 'file' | 'dir'): string | null {
  const file = path.join(root, rel);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return null;
  }
  let real = file;
  if (st.isSymbolicLink()) {
    try {
      real = fs.realpathSync(file);
    } catch {
      throw bad(rel, '', 'is a symbolic link that leads nowhere');
    }
    if (real !== root && !real.startsWith(root + path.sep)) throw bad(rel, '', `is a symbolic link to ${real}, outside the data directory; copy the file in instead`);
    st = fs.statSync(real);
  }
  if (kind === 'file' && !st.isFile()) throw bad(rel, '', st.isDirectory() ? 'is a directory, not a file' : 'is not a regular file');
  if (kind === 'dir' && !st.isDirectory()) throw bad(rel, '', 'is not a directory');
  return real;
}

/** Self references and cycles among dependencies (ids in any workstream). */
function checkDependencyGraph(state: State): void {
  const deps = new Map<string, { ws: string; index: number; on: string[] }>();
  for (const [name, ws] of Object.entries(state.workstreams)) ws.tasks.forEach((t, index) => deps.set(t.id, { ws: name, index, on: t.depends_on ?? [] }));
  const field = (id: string) => `field workstreams.${deps.get(id)!.ws}.tasks[${deps.get(id)!.index}].depends_on`;
  for (const [id, d] of deps) {
    if (d.on.includes(id)) throw bad('state.json', field(id), `task "${id}" depends on itself`);
  }
  // Depth-first, without recursion: 0 unseen, 1 on the current path, 2 done.
  const color = new Map<string, number>();
  for (const start of deps.keys()) {
    if (color.get(start)) continue;
    const stack: Array<{ id: string; next: number }> = [{ id: start, next: 0 }];
    color.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const on = deps.get(top.id)!.on;
      if (top.next >= on.length) {
        color.set(top.id, 2);
        stack.pop();
        continue;
      }
      const dep = on[top.next++];
      const c = color.get(dep) ?? 0;
      if (c === 1) {
        const cycle = [...stack.slice(stack.findIndex((s) => s.id === dep)).map((s) => s.id), dep];
        throw bad('state.json', field(top.id), `dependencies form a cycle: ${cycle.join(' -> ')}`);
      }
      if (c === 0) {
        color.set(dep, 1);
        stack.push({ id: dep, next: 0 });
      }
    }
  }
}

/** Reads and validates everything but the events (see forEachEvent), writing nothing. */
export function readSeedDir(dir: string, progress?: Progress): SeedData {
  let root: string;
  try {
    root = fs.realpathSync(dir);
  } catch {
    root = '';
  }
  if (!root || !fs.statSync(root).isDirectory()) {
    throw new OrchestratorError('NOT_FOUND', `${dir} is not a directory (give the original orchestrator's data directory, e.g. .orchestrator/)`, { dir });
  }
  const statePath = entryPath(root, 'state.json', 'file');
  if (!statePath) throw bad('state.json', '', `missing from ${dir}; is this an orchestrator data directory?`);

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
  checkDependencyGraph(state);
  for (const [id, a] of Object.entries(s.agents ?? {})) {
    const seen = a.last_seen ?? a.registered_at ?? now;
    state.agents[id] = { type: a.type ?? 'general', status: a.status ?? 'active', capabilities: a.capabilities ?? [], registered_at: a.registered_at ?? seen, last_seen: seen };
  }
  const locks: Record<string, Lock> = {};
  for (const [resource, l] of Object.entries(s.locks ?? {})) {
    const acquired = Date.parse(l.acquired_at);
    locks[resource] = { resource, agent: l.agent, acquired_at: l.acquired_at, ttl_ms: l.ttl_ms, expires_at: new Date(acquired + l.ttl_ms).toISOString() };
  }
  progress?.(`state.json: ${Object.keys(state.workstreams).length} workstreams, ${ids.size} tasks, ${Object.keys(state.agents).length} agents, ${Object.keys(locks).length} locks`);

  // knowledge/
  const knowledge: Record<string, string> = {};
  const kdir = entryPath(root, 'knowledge', 'dir');
  if (kdir) {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    for (const file of fs.readdirSync(kdir).sort()) {
      if (!file.endsWith('.md')) continue;
      const rel = `knowledge/${file}`;
      const topic = file.slice(0, -3);
      const r = rules.topic.safeParse(topic);
      if (!r.success) throw bad(rel, '', `topic name ${JSON.stringify(topic)} is invalid: ${r.error.issues[0].message}`);
      const filePath = entryPath(root, rel, 'file')!;
      let content: string;
      try {
        content = decoder.decode(fs.readFileSync(filePath)).replace(HEADER, '');
      } catch {
        throw bad(rel, '', 'is not UTF-8 text');
      }
      if (content.length > LIMITS.knowledge) throw bad(rel, '', `is over ${LIMITS.knowledge} characters`);
      const valid = rules.knowledge.safeParse(content);
      if (!valid.success) throw bad(rel, '', `content ${valid.error.issues[0].message}`);
      knowledge[topic] = content;
    }
    progress?.(`knowledge/: ${Object.keys(knowledge).length} topics`);
  }
  return { state, knowledge, locks, eventsFile: entryPath(root, 'events.jsonl', 'file') };
}

/**
 * Reads the event log line by line, validating each event, and hands each
 * line to `take` (without surrounding blanks). Returns how many events there
 * were. Memory stays bounded whatever the file size.
 */
export async function forEachEvent(file: string, take: (line: string) => void | Promise<void>, progress?: Progress): Promise<number> {
  const fd = fs.openSync(file, 'r');
  const chunk = Buffer.allocUnsafe(1 << 20);
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  let lineNo = 0;
  let count = 0;
  // Synchronous but for the writes `take` makes as segments fill (an await a line would cost seconds on a large log).
  const line = (raw: string): void | Promise<void> => {
    lineNo++;
    const text = raw.trim();
    if (!text) return;
    let e: unknown;
    try {
      e = JSON.parse(text);
    } catch (err) {
      throw bad('events.jsonl', `line ${lineNo}`, `not valid JSON: ${(err as Error).message}`);
    }
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw bad('events.jsonl', `line ${lineNo}`, 'must be a JSON object');
    const o = e as Record<string, unknown>;
    for (const key of ['ts', 'agent', 'action']) {
      if (typeof o[key] !== 'string') throw bad('events.jsonl', `line ${lineNo}`, `"${key}" must be a string`);
    }
    const ms = Date.parse(o.ts as string);
    if (Number.isNaN(ms)) throw bad('events.jsonl', `line ${lineNo}`, `"ts" is not a time: ${JSON.stringify(o.ts)}`);
    if (ms < EARLIEST_MS || ms > Date.now() + AHEAD_MS) throw bad('events.jsonl', `line ${lineNo}`, `"ts" ${timeProblem(new Date(ms).toISOString())}`);
    count++;
    if (progress && count % 50_000 === 0) progress(`events.jsonl: ${count} events read`);
    // The line as the original wrote it: one JSON object (parsed above), kept byte for byte.
    return take(text);
  };
  try {
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      const text = rest + decoder.decode(chunk.subarray(0, n), { stream: n > 0 });
      const lines = text.split('\n');
      // The last piece may be cut mid-line; at the end of the file it is the last line.
      rest = n > 0 ? lines.pop()! : '';
      for (const l of lines) {
        const pending = line(l);
        if (pending) await pending;
      }
      if (n === 0) break;
    }
  } finally {
    fs.closeSync(fd);
  }
  progress?.(`events.jsonl: ${count} events`);
  return count;
}
