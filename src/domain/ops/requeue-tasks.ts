import { z } from '../zod.js';
import { conflict, invalid } from '../../errors.js';
import { editWorkstream, getTask, patchTask } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { rules } from '../rules.js';
import type { OrcEvent, Task } from '../types.js';

export interface RequeueTasksOp extends OpBase {
  op: 'task.requeue';
  workstream: string;
  ids: string[];
  /** Why: "stale" (their agents stopped sending heartbeats) or "manual". */
  reason: 'stale' | 'manual';
}

/** Returns tasks in progress to pending, with a `task_requeued` event each. */
export const requeueTasks: OpSpec<RequeueTasksOp, Task[]> = {
  type: 'task.requeue',
  labels: { ids: 'task id' },
  params: () =>
    z.object({
      workstream: rules.workstream,
      ids: z.array(rules.taskId).check(z.minLength(1, 'name at least one task'), z.maxLength(10_000, 'too many tasks')),
      reason: z.enum(['stale', 'manual']),
    }),
  apply(world, op) {
    if (new Set(op.ids).size !== op.ids.length) throw invalid('a task is listed twice', { ids: op.ids });
    let state = world.state;
    const events: OrcEvent[] = [];
    const out: Task[] = [];
    const edit = editWorkstream(state, op.workstream);
    state = edit.state;
    for (const id of op.ids) {
      const { task, index } = getTask(state, op.workstream, id);
      if (task.status !== 'in_progress') throw conflict(`task "${id}" is ${task.status}, not in progress`, { workstream: op.workstream, task_id: id, status: task.status });
      out.push(patchTask(edit.ws, index, { status: 'pending', assigned_to: null, updated_at: op.at }));
      events.push({ ts: op.at, agent: op.by, action: 'task_requeued', workstream: op.workstream, task_id: id, previous_agent: task.assigned_to, reason: op.reason });
    }
    return { state, events, result: out };
  },
  subject: (op) => `task requeue ${op.workstream}/${op.ids.join(',')} (${op.reason}) by ${op.by}`,
};
