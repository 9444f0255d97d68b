/**
 * Copy-on-write helpers for operations. A parsed state is shared (cached by
 * commit id), so operations copy only the objects they change: the state's
 * top level, one workstream, its task array and the tasks they touch.
 */
import { conflict, known, notFound } from '../errors.js';
import type { Agent, State, Task, Workstream } from './types.js';

export function getWorkstream(state: State, name: string): Workstream {
  const ws = Object.prototype.hasOwnProperty.call(state.workstreams, name) ? state.workstreams[name] : undefined;
  if (!ws) {
    throw notFound(`workstream "${name}" not found (known: ${known(Object.keys(state.workstreams))})`, { workstream: name });
  }
  return ws;
}

export function getTask(state: State, workstream: string, id: string): { ws: Workstream; task: Task; index: number } {
  const ws = getWorkstream(state, workstream);
  const index = ws.tasks.findIndex((t) => t.id === id);
  if (index < 0) {
    const elsewhere = findTaskAnywhere(state, id);
    const hint = elsewhere ? `; it is in workstream "${elsewhere.workstream}"` : '';
    throw notFound(`task "${id}" not found in workstream "${workstream}"${hint}`, { workstream, task_id: id });
  }
  return { ws, task: ws.tasks[index], index };
}

/**
 * Task lists whose ids are known as text, " id1 id2 ... " (a large board
 * read lazily by the store): an id that is not in them is told without
 * reading every task.
 */
const knownIds = new WeakMap<readonly Task[], string>();

/** `ids`: the list's task ids, as a list or joined by spaces. */
export function rememberIds(tasks: readonly Task[], ids: readonly string[] | string): void {
  knownIds.set(tasks, ' ' + (typeof ids === 'string' ? ids : ids.join(' ')) + ' ');
}

export function findTaskAnywhere(state: State, id: string): { workstream: string; task: Task } | null {
  for (const [name, ws] of Object.entries(state.workstreams)) {
    const known = knownIds.get(ws.tasks);
    if (known !== undefined && !known.includes(' ' + id + ' ')) continue;
    const task = ws.tasks.find((t) => t.id === id);
    if (task) return { workstream: name, task };
  }
  return null;
}

export function getAgent(state: State, id: string): Agent {
  const agent = Object.prototype.hasOwnProperty.call(state.agents, id) ? state.agents[id] : undefined;
  if (!agent) {
    throw notFound(`agent "${id}" not found (known: ${known(Object.keys(state.agents))}); register it with: agent register ${id}`, { agent: id });
  }
  return agent;
}

/** A new state object sharing everything with `state`. */
export function shallowState(state: State): State {
  return { ...state, workstreams: { ...state.workstreams }, agents: { ...state.agents } };
}

/** Copies `state`, the named workstream and its task array so tasks can be replaced. */
export function editWorkstream(state: State, name: string): { state: State; ws: Workstream } {
  const next = shallowState(state);
  const ws = { ...getWorkstream(state, name) };
  ws.tasks = ws.tasks.slice();
  next.workstreams[name] = ws;
  return { state: next, ws };
}

/** Replaces `ws.tasks[index]` (ws must come from editWorkstream) with `patch` applied. */
export function patchTask(ws: Workstream, index: number, patch: Partial<Task>): Task {
  const task = { ...ws.tasks[index], ...patch };
  ws.tasks[index] = task;
  return task;
}

/** Is every dependency of `task` done? Unknown ids count as not done. */
export function isReady(state: State, task: Task, index?: Map<string, Task>): boolean {
  if (!task.depends_on || task.depends_on.length === 0) return true;
  const byId = index ?? taskIndex(state);
  return task.depends_on.every((id) => byId.get(id)?.status === 'done');
}

export function taskIndex(state: State): Map<string, Task> {
  const map = new Map<string, Task>();
  for (const ws of Object.values(state.workstreams)) for (const t of ws.tasks) map.set(t.id, t);
  return map;
}

/**
 * Refuses (CONFLICT, naming the holder) an agent acting on a task in
 * progress that another agent holds, unless forced. "system" (no known
 * actor) may act, as in the original, where anyone could complete any task.
 */
export function refuseOthersTask(task: Task, workstream: string, op: { by: string; force?: boolean }, verb: string, format: number): void {
  // A rule of format 2: a branch written before it replays as it was written.
  if (format < 2) return;
  const holder = task.assigned_to;
  if (task.status !== 'in_progress' || !holder || holder === op.by || op.by === 'system' || op.force) return;
  throw conflict(`task "${task.id}" is held by ${holder}, not ${op.by}; ${verb} it as ${holder}, or pass --force to ${verb} it anyway (recorded as forced)`, {
    workstream,
    task_id: task.id,
    holder,
    agent: op.by,
  });
}
