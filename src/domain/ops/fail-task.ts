import { z } from '../zod.js';
import { conflict, invalid } from '../../errors.js';
import { editWorkstream, getTask, patchTask, refuseOthersTask } from '../draft.js';
import { forced, taskEvent } from './complete-task.js';
import type { OpBase, OpSpec } from '../op.js';
import { formatOf } from '../types.js';
import { rules } from '../rules.js';
import type { Task } from '../types.js';

export interface FailTaskOp extends OpBase {
  op: 'task.fail';
  workstream: string;
  id: string;
  reason: string;
  /** Fail a task another agent holds (recorded; see refuseOthersTask). */
  force?: boolean;
}

/**
 * Marks a task failed, with the reason as its result. Tasks that depend on
 * it stay blocked until it is released and done. CONFLICT when done
 * already, or in progress with another agent (unless forced).
 */
export const failTask: OpSpec<FailTaskOp, Task> = {
  type: 'task.fail',
  params: () => z.object({ workstream: rules.workstream, id: rules.taskId, reason: rules.text, force: z.optional(z.boolean()) }),
  labels: { reason: 'reason' },
  apply(world, op) {
    if (!op.reason.trim()) throw invalid('a failure needs a reason', { field: 'reason' });
    const { task, index } = getTask(world.state, op.workstream, op.id);
    if (task.status === 'done' || task.status === 'failed') {
      throw conflict(`task "${op.id}" is already ${task.status}`, { workstream: op.workstream, task_id: op.id, status: task.status });
    }
    refuseOthersTask(task, op.workstream, op, 'fail', formatOf(world.state));
    const { state, ws } = editWorkstream(world.state, op.workstream);
    const failed = patchTask(ws, index, { status: 'failed', result: op.reason, updated_at: op.at });
    return {
      state,
      events: [{ ...taskEvent(task, op), action: 'task_failed', workstream: op.workstream, task_id: op.id, reason: op.reason, ...forced(task, op) }],
      result: failed,
    };
  },
  subject: (op) => `task fail ${op.workstream}/${op.id} by ${op.by}${op.force ? ' (forced)' : ''}`,
};
