import { z } from '../zod.js';
import { conflict } from '../../errors.js';
import { editWorkstream, getTask, patchTask, refuseOthersTask } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { formatOf } from '../types.js';
import { rules } from '../rules.js';
import { refuseIfArchived } from './archive-workstream.js';
import type { Task } from '../types.js';

export interface ReleaseTaskOp extends OpBase {
  op: 'task.release';
  workstream: string;
  id: string;
  /** Release a task another agent holds (recorded; see refuseOthersTask). */
  force?: boolean;
}

/**
 * Gives a task back: in progress (or failed) becomes pending and unassigned,
 * so "next" can hand it to someone else. CONFLICT for pending or done tasks,
 * and for a task in progress with another agent (unless forced).
 */
export const releaseTask: OpSpec<ReleaseTaskOp, Task> = {
  type: 'task.release',
  params: () => z.object({ workstream: rules.workstream, id: rules.taskId, force: z.optional(z.boolean()) }),
  apply(world, op) {
    const { ws: current, task, index } = getTask(world.state, op.workstream, op.id);
    refuseIfArchived(current, op.workstream, `release task "${op.id}"`);
    if (task.status !== 'in_progress' && task.status !== 'failed') {
      throw conflict(`task "${op.id}" is ${task.status}; only a task in progress or failed can be released`, { workstream: op.workstream, task_id: op.id, status: task.status });
    }
    refuseOthersTask(task, op.workstream, op, 'release', formatOf(world.state));
    const { state, ws } = editWorkstream(world.state, op.workstream);
    const released = patchTask(ws, index, { status: 'pending', assigned_to: null, updated_at: op.at });
    return {
      state,
      events: [{ ts: op.at, agent: op.by, action: 'task_released', workstream: op.workstream, task_id: op.id, previous_agent: task.assigned_to, previous_status: task.status, ...(op.force ? { forced: true } : {}) }],
      result: released,
    };
  },
  subject: (op) => `task release ${op.workstream}/${op.id} by ${op.by}${op.force ? ' (forced)' : ''}`,
};
