import { z } from '../zod.js';
import { conflict } from '../../errors.js';
import { editWorkstream, getTask, patchTask, refuseOthersTask } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { formatOf } from '../types.js';
import { rules } from '../rules.js';
import type { OrcEvent, State, Task } from '../types.js';

export interface CompleteTaskOp extends OpBase {
  op: 'task.complete';
  workstream: string;
  id: string;
  result: string | null;
  /** Complete a task another agent holds (recorded; see refuseOthersTask). */
  force?: boolean;
}

/**
 * Marks a task done with its result. Refused (CONFLICT) when it is already
 * done or failed, or in progress with another agent (unless forced).
 * Writes `task_unblocked` for every task this made ready.
 */
export const completeTask: OpSpec<CompleteTaskOp, Task> = {
  type: 'task.complete',
  params: () => z.object({ workstream: rules.workstream, id: rules.taskId, result: z.nullable(rules.text), force: z.optional(z.boolean()) }),
  apply(world, op) {
    const { task, index } = getTask(world.state, op.workstream, op.id);
    if (task.status === 'done' || task.status === 'failed') {
      throw conflict(`task "${op.id}" is already ${task.status}`, { workstream: op.workstream, task_id: op.id, status: task.status });
    }
    refuseOthersTask(task, op.workstream, op, 'complete', formatOf(world.state));
    const { state, ws } = editWorkstream(world.state, op.workstream);
    const done = patchTask(ws, index, { status: 'done', result: op.result, updated_at: op.at });
    const events: OrcEvent[] = [
      { ...taskEvent(task, op), action: 'task_completed', workstream: op.workstream, task_id: op.id, result: op.result, ...forced(task, op) },
      ...unblockedBy(state, op.id).map((t) => ({
        ts: op.at,
        agent: 'system',
        action: 'task_unblocked',
        workstream: t.workstream,
        task_id: t.id,
        by_task: op.id,
      })),
    ];
    return { state, events, result: done };
  },
  subject: (op) => `task complete ${op.workstream}/${op.id} by ${op.by}${op.force ? ' (forced)' : ''}`,
};

/**
 * Who a task event names: the acting agent; with none known ("system"),
 * the task's agent, as the original's event log did, and then `by`
 * says that nobody known acted.
 */
export function taskEvent(task: Task, op: OpBase): { ts: string; agent: string; by?: string } {
  if (op.by !== 'system' || !task.assigned_to) return { ts: op.at, agent: op.by };
  return { ts: op.at, agent: task.assigned_to, by: op.by };
}

/** What a forced change records in its event: that it was forced, and whose task it was. */
export function forced(task: Task, op: { force?: boolean }): { forced?: true; holder?: string | null } {
  return op.force ? { forced: true, holder: task.assigned_to } : {};
}

/** Pending tasks that depend on `id` and whose dependencies are now all done. */
export function unblockedBy(state: State, id: string): Array<{ workstream: string; id: string }> {
  const status = new Map<string, string>();
  for (const ws of Object.values(state.workstreams)) for (const t of ws.tasks) status.set(t.id, t.status);
  const out: Array<{ workstream: string; id: string }> = [];
  for (const [name, ws] of Object.entries(state.workstreams)) {
    for (const t of ws.tasks) {
      if (t.status !== 'pending' || !t.depends_on?.includes(id)) continue;
      if (t.depends_on.every((d) => status.get(d) === 'done')) out.push({ workstream: name, id: t.id });
    }
  }
  return out;
}
