import { z } from '../zod.js';
import { conflict } from '../../errors.js';
import { editWorkstream, getTask, patchTask, taskIndex } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { rules } from '../rules.js';
import type { Task } from '../types.js';

export interface ClaimTaskOp extends OpBase {
  op: 'task.claim';
  workstream: string;
  id: string;
  agent: string;
  /** Set when the task was chosen by "next" rather than named. */
  next?: boolean;
}

/**
 * Assigns a pending task to an agent. Refused (CONFLICT) when the task is not
 * pending (the message names its status and holder) or when one of its
 * dependencies is not done yet.
 */
export const claimTask: OpSpec<ClaimTaskOp, Task> = {
  type: 'task.claim',
  params: () => z.object({ workstream: rules.workstream, id: rules.taskId, agent: rules.agent, next: z.optional(z.boolean()) }),
  apply(world, op) {
    const { task, index } = getTask(world.state, op.workstream, op.id);
    if (task.status !== 'pending') {
      const holder = task.assigned_to ? ` (assigned to ${task.assigned_to})` : '';
      throw conflict(`task "${op.id}" is ${task.status}${holder}, not pending`, {
        workstream: op.workstream,
        task_id: op.id,
        status: task.status,
        assigned_to: task.assigned_to,
      });
    }
    if (task.depends_on?.length) {
      const byId = taskIndex(world.state);
      const open = task.depends_on.filter((d) => byId.get(d)?.status !== 'done');
      if (open.length) {
        throw conflict(`task "${op.id}" is blocked by ${open.map((d) => `"${d}" (${byId.get(d)?.status ?? 'missing'})`).join(', ')}`, {
          workstream: op.workstream,
          task_id: op.id,
          blocked_by: open,
        });
      }
    }
    const { state, ws } = editWorkstream(world.state, op.workstream);
    const claimed = patchTask(ws, index, { status: 'in_progress', assigned_to: op.agent, updated_at: op.at });
    return {
      state,
      events: [{ ts: op.at, agent: op.agent, action: 'task_claimed', workstream: op.workstream, task_id: op.id }],
      result: claimed,
    };
  },
  subject: (op) => `task claim ${op.workstream}/${op.id} by ${op.agent}`,
};
