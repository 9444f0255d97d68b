import { z } from '../zod.js';
import { conflict, invalid, known, notFound } from '../../errors.js';
import { editWorkstream, findTaskAnywhere, taskIndex } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { LIMITS, rules } from '../rules.js';
import { refuseIfArchived } from './archive-workstream.js';
import type { State, Task } from '../types.js';

export interface AddTaskOp extends OpBase {
  op: 'task.add';
  workstream: string;
  id: string;
  title: string;
  description: string;
  priority: number;
  estimate: string | null;
  depends_on?: string[];
  needs?: string[];
}

/** Adds a pending task. Dependencies must name existing tasks and never form a cycle. */
export const addTask: OpSpec<AddTaskOp, Task> = {
  type: 'task.add',
  labels: { depends_on: 'dependency', needs: 'resource' },
  params: () =>
    z.object({
      workstream: rules.workstream,
      id: rules.taskId,
      title: rules.title,
      description: rules.text,
      priority: rules.priority,
      estimate: rules.estimate,
      depends_on: z.optional(z.array(rules.taskId).check(z.maxLength(LIMITS.dependencies, `at most ${LIMITS.dependencies} dependencies`))),
      needs: z.optional(z.array(rules.resource).check(z.maxLength(LIMITS.dependencies, `at most ${LIMITS.dependencies} resources`))),
    }),
  apply(world, op) {
    const existing = findTaskAnywhere(world.state, op.id);
    if (existing) throw conflict(`task id "${op.id}" already exists in workstream "${existing.workstream}"`, { task_id: op.id });
    const { state, ws } = editWorkstream(world.state, op.workstream);
    refuseIfArchived(ws, op.workstream, 'add tasks to it');
    const task: Task = {
      id: op.id,
      title: op.title,
      description: op.description,
      status: 'pending',
      priority: op.priority,
      estimate: op.estimate,
      assigned_to: null,
      created_at: op.at,
      updated_at: op.at,
      result: null,
    };
    if (op.depends_on && op.depends_on.length) {
      checkDependencies(world.state, op.id, op.depends_on);
      task.depends_on = [...op.depends_on];
    }
    if (op.needs && op.needs.length) task.needs = [...new Set(op.needs)];
    ws.tasks.push(task);
    return {
      state,
      events: [{ ts: op.at, agent: op.by, action: 'task_created', workstream: op.workstream, task_id: op.id, title: op.title }],
      result: task,
    };
  },
  subject: (op) => `task add ${op.workstream}/${op.id} by ${op.by}`,
};

/**
 * Dependencies must exist. A new task cannot close a cycle (nothing depends
 * on it yet), but duplicates and self references are refused too.
 */
export function checkDependencies(state: State, id: string, deps: string[]): void {
  const index = taskIndex(state);
  const seen = new Set<string>();
  for (const dep of deps) {
    if (dep === id) throw invalid(`task "${id}" cannot depend on itself`, { task_id: id });
    if (seen.has(dep)) throw invalid(`dependency "${dep}" is listed twice`, { task_id: dep });
    seen.add(dep);
    if (!index.has(dep)) {
      throw notFound(`dependency "${dep}" not found (known: ${known(index.keys())})`, { task_id: dep });
    }
  }
}
