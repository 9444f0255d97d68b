/**
 * One task as `t show` and the REST API present it: with its dependencies
 * (and their results), the tasks waiting for it and its history. Pure: the
 * caller finds the task (also in the archive) and reads the history.
 */
import type { LogEntry, State, Task } from './types.js';

export interface TaskDetail extends Task {
  workstream: string;
  /** Set when the task was found in the archive. */
  archived?: boolean;
  /** Pending with every dependency done. */
  ready: boolean;
  dependencies: Array<{ workstream: string | null; id: string; title: string | null; status: string; result: string | null }>;
  dependents: Array<{ workstream: string; id: string; title: string; status: string }>;
  /** The commits that touched the task, newest first. */
  history: LogEntry[];
}

export function taskDetail(state: State, workstream: string, task: Task & { archived?: boolean }, history: LogEntry[]): TaskDetail {
  const where = new Map<string, { ws: string; task: Task }>();
  for (const [name, w] of Object.entries(state.workstreams)) for (const t of w.tasks) where.set(t.id, { ws: name, task: t });
  const dependencies = (task.depends_on ?? []).map((id) => {
    const d = where.get(id);
    return d ? { workstream: d.ws, id, title: d.task.title, status: d.task.status, result: d.task.result } : { workstream: null, id, title: null, status: 'missing', result: null };
  });
  const dependents = [...where.values()].filter((d) => d.task.depends_on?.includes(task.id)).map((d) => ({ workstream: d.ws, id: d.task.id, title: d.task.title, status: d.task.status }));
  return { workstream, ...task, ready: task.status === 'pending' && dependencies.every((d) => d.status === 'done'), dependencies, dependents, history };
}
