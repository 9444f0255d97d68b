/**
 * Which tasks an operation acts on when the caller does not name them all:
 * the tasks to requeue because their agents went quiet, the done tasks to
 * archive, and the task `complete` means. Pure: the caller passes the time.
 */
import { getWorkstream } from './draft.js';
import { own } from './own.js';
import { soleInProgress } from './queries.js';
import type { State } from './types.js';

/**
 * Tasks in progress in a workstream whose agent's last sign of life is
 * older than the stale window (an unregistered agent's is its claim).
 */
export function staleInProgress(state: State, workstream: string, nowMs: number, staleMs: number): string[] {
  return getWorkstream(state, workstream)
    .tasks.filter((t) => t.status === 'in_progress')
    .filter((t) => {
      const a = t.assigned_to ? own(state.agents, t.assigned_to) : undefined;
      const lastSign = a ? Date.parse(a.last_seen) : Date.parse(t.updated_at);
      return nowMs - lastSign > staleMs;
    })
    .map((t) => t.id);
}

/** Done tasks last updated at or before `cutoffMs`, except those an unfinished task depends on. */
export function archivable(state: State, cutoffMs: number): string[] {
  const needed = new Set<string>();
  for (const ws of Object.values(state.workstreams)) for (const t of ws.tasks) if (t.status !== 'done') for (const d of t.depends_on ?? []) needed.add(d);
  const ids: string[] = [];
  for (const ws of Object.values(state.workstreams)) {
    for (const t of ws.tasks) if (t.status === 'done' && Date.parse(t.updated_at) <= cutoffMs && !needed.has(t.id)) ids.push(t.id);
  }
  return ids;
}

/**
 * The task `complete` acts on and its result. With an id, that task. With
 * none, the one task in progress (the agent's own when the agent is known).
 * `loose` is the original CLI's `t complete <ws> "<result>"`: a single
 * argument that is not a task id of the workstream (ids are 8 hex digits)
 * is the result of the task in progress.
 */
export function completionTarget(
  state: State,
  workstream: string,
  given: { id?: string | null; result?: string | null; agent?: string; loose?: boolean },
): { id: string; result: string | null } {
  const result = given.result ?? null;
  if (given.id && given.loose && given.result == null && !/^[0-9a-f]{8}$/.test(given.id)) {
    const named = getWorkstream(state, workstream).tasks.find((t) => t.id === given.id);
    if (!named) return { id: soleInProgress(state, workstream, given.agent).id, result: given.id };
  }
  if (given.id) return { id: given.id, result };
  return { id: soleInProgress(state, workstream, given.agent).id, result };
}
