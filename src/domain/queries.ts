/**
 * Read-only views of a world, in the original's result shapes. Pure: the
 * caller passes the current time.
 */
import { OrchestratorError } from '../errors.js';
import { getWorkstream, isReady, taskIndex } from './draft.js';
import { isActive } from './locks.js';
import { oneLine } from './text.js';
import type { Agent, Lock, OrcEvent, State, Task, Workstream } from './types.js';

export const DEFAULT_STALE_MS = 5 * 60 * 1000;

export interface WorkstreamSummary extends Workstream {
  name: string;
  /** Its tasks, archived ones included. */
  task_count: number;
  pending: number;
  in_progress: number;
  /** Done tasks, archived ones included. */
  done: number;
  failed: number;
  /** Of those done, how many were moved to the archive. */
  archived: number;
}

/** Workstreams with their task counts, most urgent first; archived ones only with `includeArchived`. */
export function listWorkstreams(state: State, includeArchived = false): WorkstreamSummary[] {
  return Object.entries(state.workstreams)
    .filter(([, ws]) => includeArchived || ws.status !== 'archived')
    .map(([name, ws]) => {
      const count = (s: string) => ws.tasks.filter((t) => t.status === s).length;
      const archived = ws.archived_tasks ?? 0;
      return {
        name,
        ...ws,
        task_count: ws.tasks.length + archived,
        pending: count('pending'),
        in_progress: count('in_progress'),
        done: count('done') + archived,
        failed: count('failed'),
        archived,
      };
    })
    .sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name));
}

export interface AgentView extends Agent {
  id: string;
  stale: boolean;
}

export function listAgents(state: State, nowMs: number, staleMs = DEFAULT_STALE_MS): AgentView[] {
  return Object.entries(state.agents).map(([id, a]) => ({ id, ...a, stale: nowMs - Date.parse(a.last_seen) > staleMs }));
}

export function activeLocks(locks: Readonly<Record<string, Lock>>, nowMs: number): Lock[] {
  return Object.values(locks)
    .filter((l) => isActive(l, nowMs))
    .sort((a, b) => a.resource.localeCompare(b.resource));
}

/**
 * The order "next" takes tasks in: lowest priority number, then oldest (ISO
 * times compare as text), then first in the list.
 */
function takesBefore(a: Task, b: Task): boolean {
  return a.priority < b.priority || (a.priority === b.priority && a.created_at < b.created_at);
}

/** Pending tasks whose dependencies are done, in the order "next" takes them. */
export function readyTasks(state: State, workstream?: string): Array<Task & { workstream: string }> {
  let index: Map<string, Task> | undefined;
  const names = workstream ? [workstream] : Object.keys(state.workstreams);
  const out: Array<Task & { workstream: string; order: number }> = [];
  for (const name of names) {
    const ws = getWorkstream(state, name);
    ws.tasks.forEach((t, order) => {
      if (t.status !== 'pending') return;
      if (t.depends_on?.length && !isReady(state, t, (index ??= taskIndex(state)))) return;
      out.push({ ...t, workstream: name, order });
    });
  }
  out.sort((a, b) => (takesBefore(a, b) ? -1 : takesBefore(b, a) ? 1 : 0) || a.order - b.order);
  return out.map(({ order: _order, ...t }) => t);
}

/**
 * The task "next" claims: lowest priority number, then oldest; null when
 * none is ready. One pass over the workstream's tasks, no copies: a claim
 * costs about what an add costs however many tasks are pending.
 */
export function pickNext(state: State, workstream: string): Task | null {
  let index: Map<string, Task> | undefined;
  let best: Task | null = null;
  for (const t of getWorkstream(state, workstream).tasks) {
    if (t.status !== 'pending' || (best && !takesBefore(t, best))) continue;
    // Dependencies are looked up only for a task that would be taken.
    if (t.depends_on?.length && !isReady(state, t, (index ??= taskIndex(state)))) continue;
    best = t;
  }
  return best;
}

export function tasksInProgress(state: State, workstream: string, agent?: string): Task[] {
  return getWorkstream(state, workstream).tasks.filter((t) => t.status === 'in_progress' && (!agent || t.assigned_to === agent));
}

/**
 * The task `complete` means when no id is given: the one in progress in the
 * workstream (the agent's own, when the agent is known). AMBIGUOUS names
 * them when there are several; NOT_FOUND when there is none.
 */
export function soleInProgress(state: State, workstream: string, agent?: string): Task {
  let tasks = tasksInProgress(state, workstream);
  if (agent && tasks.length > 1) {
    const own = tasks.filter((t) => t.assigned_to === agent);
    if (own.length) tasks = own;
  }
  if (tasks.length === 1) return tasks[0];
  if (tasks.length === 0) {
    throw new OrchestratorError('NOT_FOUND', `no task is in progress in workstream "${workstream}"; name the task: task complete ${workstream} <taskId> [result]`, { workstream });
  }
  const list = tasks.map((t) => `${t.id} (${t.title}${t.assigned_to ? ', ' + t.assigned_to : ''})`).join(', ');
  throw new OrchestratorError('AMBIGUOUS', `${tasks.length} tasks are in progress in workstream "${workstream}": ${list}; name one: task complete ${workstream} <taskId> [result]`, {
    workstream,
    tasks: tasks.map((t) => t.id),
  });
}

export interface EventFilter {
  agent?: string;
  action?: string;
  /** Events about this workstream. */
  workstream?: string;
  /** ISO time or anything Date.parse understands; events at or after it. */
  since?: string;
  last?: number;
}

export function parseSince(since: string): number {
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) throw new OrchestratorError('INVALID_INPUT', `since ${JSON.stringify(since)} is not a time (use ISO, like 2026-01-31T12:00:00Z)`, { field: 'since' });
  return ms;
}

/** Filters the lines of an event log, scanning from the newest when only the last N are wanted. */
export function filterEvents(text: string, filter: EventFilter): OrcEvent[] {
  const sinceMs = filter.since !== undefined ? parseSince(filter.since) : null;
  const match = (e: OrcEvent) =>
    (!filter.agent || e.agent === filter.agent) &&
    (!filter.action || e.action === filter.action) &&
    (!filter.workstream || e.workstream === filter.workstream) &&
    (sinceMs === null || Date.parse(e.ts) >= sinceMs);
  const lines = text.split('\n');
  if (filter.last !== undefined && filter.last >= 0) {
    const out: OrcEvent[] = [];
    for (let i = lines.length - 1; i >= 0 && out.length < filter.last; i--) {
      if (!lines[i]) continue;
      const e = JSON.parse(lines[i]) as OrcEvent;
      if (match(e)) out.push(e);
    }
    return out.reverse();
  }
  const out: OrcEvent[] = [];
  for (const line of lines) {
    if (!line) continue;
    const e = JSON.parse(line) as OrcEvent;
    if (match(e)) out.push(e);
  }
  return out;
}

export interface StatusView {
  version: number;
  updated_at: string;
  commit: string | null;
  branch: string;
  workstreams: WorkstreamSummary[];
  agents: AgentView[];
  active_locks: Lock[];
  recent_events: OrcEvent[];
  knowledge_topics: string[];
}

function clock(ts: string): string {
  return ts.split('T')[1]?.split('.')[0] ?? ts;
}

/** The original's status text, plus the commit the view was read from. Every value from the branch is shown on its own line (oneLine). */
export function statusText(s: StatusView): string {
  const lines: string[] = [];
  lines.push('=== Orchestrator Status ===');
  lines.push(
    s.commit
      ? `State version: ${s.version} | Updated: ${s.updated_at} | Branch: ${s.branch} @ ${s.commit.slice(0, 8)}`
      : `State version: 0 | Branch: ${s.branch} does not exist yet (the first change creates it)`,
  );
  lines.push('');
  lines.push('--- Workstreams ---');
  for (const ws of s.workstreams) {
    const failed = ws.failed ? `, ${ws.failed} failed` : '';
    lines.push(`[P${ws.priority}] ${oneLine(ws.name)}: ${ws.pending} pending, ${ws.in_progress} active, ${ws.done} done${failed}`);
  }
  if (s.workstreams.length === 0) lines.push('(none)');
  lines.push('');
  lines.push('--- Agents ---');
  for (const a of s.agents) lines.push(`${oneLine(a.id)} (${oneLine(a.type)}): ${oneLine(a.status)}${a.stale ? ' [STALE]' : ''}`);
  if (s.agents.length === 0) lines.push('(none registered)');
  lines.push('');
  lines.push('--- Active Locks ---');
  for (const l of s.active_locks) lines.push(`${oneLine(l.resource)}: held by ${oneLine(l.agent)} until ${clock(l.expires_at)}`);
  if (s.active_locks.length === 0) lines.push('(none)');
  lines.push('');
  lines.push('--- Recent Events ---');
  for (const e of s.recent_events) lines.push(`[${oneLine(clock(e.ts))}] ${oneLine(e.agent)}: ${oneLine(e.action)}`);
  if (s.recent_events.length === 0) lines.push('(none)');
  lines.push('');
  lines.push('--- Knowledge Base ---');
  lines.push(s.knowledge_topics.map(oneLine).join(', ') || '(empty)');
  return lines.join('\n');
}
