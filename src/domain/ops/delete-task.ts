import { z } from '../zod.js';
import { conflict } from '../../errors.js';
import { editWorkstream, getTask } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { rules } from '../rules.js';
import type { Task } from '../types.js';

export interface DeleteTaskOp extends OpBase {
  op: 'task.delete';
  workstream: string;
  id: string;
}

/**
 * Removes a pending task from the board (a task added by mistake, or work
 * no longer wanted). Refused (CONFLICT) for a task that is not pending:
 * work that started or ended stays on the record (release it first, or
 * archive it when done). Refused (CONFLICT, naming them) while other tasks
 * depend on it: edit their dependencies first.
 *
 * Event: `task_deleted` with its title, so the log still says what it was.
 */
export const deleteTask: OpSpec<DeleteTaskOp, Task> = {
  type: 'task.delete',
  params: () => z.object({ workstream: rules.workstream, id: rules.taskId }),
  apply(world, op) {
    const { task, index } = getTask(world.state, op.workstream, op.id);
    if (task.status !== 'pending') {
      const holder = task.assigned_to ? ` (assigned to ${task.assigned_to})` : '';
      throw conflict(`task "${op.id}" is ${task.status}${holder}; only a pending task can be deleted`, { workstream: op.workstream, task_id: op.id, status: task.status });
    }
    const dependents: Array<{ workstream: string; id: string }> = [];
    for (const [name, ws] of Object.entries(world.state.workstreams)) for (const t of ws.tasks) if (t.depends_on?.includes(op.id)) dependents.push({ workstream: name, id: t.id });
    if (dependents.length) {
      throw conflict(`task "${op.id}" is a dependency of ${dependents.map((d) => `"${d.id}" (${d.workstream})`).join(', ')}; change their dependencies first`, {
        workstream: op.workstream,
        task_id: op.id,
        dependents: dependents.map((d) => d.id),
      });
    }
    const { state, ws } = editWorkstream(world.state, op.workstream);
    ws.tasks.splice(index, 1);
    return {
      state,
      events: [{ ts: op.at, agent: op.by, action: 'task_deleted', workstream: op.workstream, task_id: op.id, title: task.title }],
      result: task,
    };
  },
  subject: (op) => `task delete ${op.workstream}/${op.id} by ${op.by}`,
};
