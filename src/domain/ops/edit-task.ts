import { z } from '../zod.js';
import { conflict, invalid } from '../../errors.js';
import { cycleThrough, depsOf, showCycle } from '../dependencies.js';
import { editWorkstream, getTask, isReady, patchTask } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { LIMITS, rules } from '../rules.js';
import type { OrcEvent, Task } from '../types.js';
import { checkDependencies } from './add-task.js';
import { refuseIfArchived } from './archive-workstream.js';

export interface EditTaskOp extends OpBase {
  op: 'task.edit';
  workstream: string;
  id: string;
  title?: string;
  description?: string;
  priority?: number;
  /** null clears the estimate. */
  estimate?: string | null;
  /** The whole new list; [] removes every dependency. */
  depends_on?: string[];
  /** The whole new list of resources; [] removes them. */
  needs?: string[];
}

const FIELDS = ['title', 'description', 'priority', 'estimate', 'depends_on', 'needs'] as const;
type Field = (typeof FIELDS)[number];

/**
 * Changes a task's title, description, priority, estimate, dependencies or
 * resources; fields left out keep their value. Any task on the board can be
 * edited (fixing a done task's title is fine) except in an archived
 * workstream (CONFLICT). Dependencies and resources decide when a task may
 * start, so they change only while it is pending (CONFLICT otherwise).
 * Dependencies must exist (NOT_FOUND), not be the task itself or listed
 * twice (INVALID_INPUT), and must not close a cycle (CONFLICT naming it:
 * `a -> b -> a`). An edit that changes nothing makes no commit.
 *
 * Event: `task_edited` with `changed` (the field names) and the new values
 * of the short fields (a new description is only named); when the edit left
 * a pending task with every dependency done, `task_unblocked` as well.
 */
export const editTask: OpSpec<EditTaskOp, Task> = {
  type: 'task.edit',
  labels: { depends_on: 'dependency', needs: 'resource' },
  params: () =>
    z.object({
      workstream: rules.workstream,
      id: rules.taskId,
      title: z.optional(rules.title),
      description: z.optional(rules.text),
      priority: z.optional(rules.priority),
      estimate: z.optional(rules.estimate),
      depends_on: z.optional(z.array(rules.taskId).check(z.maxLength(LIMITS.dependencies, `at most ${LIMITS.dependencies} dependencies`))),
      needs: z.optional(z.array(rules.resource).check(z.maxLength(LIMITS.dependencies, `at most ${LIMITS.dependencies} resources`))),
    }),
  apply(world, op) {
    const given = FIELDS.filter((f) => op[f] !== undefined);
    if (!given.length) throw invalid(`nothing to edit: give at least one of ${FIELDS.join(', ')}`, { task_id: op.id });
    const { ws, task, index } = getTask(world.state, op.workstream, op.id);
    refuseIfArchived(ws, op.workstream, `edit task "${op.id}"`);
    const next: Partial<Task> = {};
    if (op.title !== undefined) next.title = op.title;
    if (op.description !== undefined) next.description = op.description;
    if (op.priority !== undefined) next.priority = op.priority;
    if (op.estimate !== undefined) next.estimate = op.estimate;
    if (op.depends_on !== undefined) next.depends_on = [...op.depends_on];
    if (op.needs !== undefined) next.needs = [...new Set(op.needs)];
    const changed = given.filter((f) => !same(task[f], next[f]));
    if (!changed.length) return { noop: true, result: task };
    if ((changed.includes('depends_on') || changed.includes('needs')) && task.status !== 'pending') {
      throw conflict(`task "${op.id}" is ${task.status}; its dependencies and resources change only while it is pending`, {
        workstream: op.workstream,
        task_id: op.id,
        status: task.status,
      });
    }
    if (changed.includes('depends_on') && op.depends_on!.length) {
      checkDependencies(world.state, op.id, op.depends_on!);
      const cycle = cycleThrough(depsOf(world.state), op.id, op.depends_on!);
      if (cycle) throw conflict(`these dependencies would make a cycle: ${showCycle(cycle)}; a task on a cycle could never start`, { task_id: op.id, cycle });
    }
    const { state, ws: draft } = editWorkstream(world.state, op.workstream);
    const patch: Partial<Task> = { updated_at: op.at };
    for (const f of changed) (patch as Record<Field, unknown>)[f] = next[f];
    const edited = patchTask(draft, index, patch);
    // Lists are omitted when empty, as task.add writes them.
    if (edited.depends_on && !edited.depends_on.length) delete edited.depends_on;
    if (edited.needs && !edited.needs.length) delete edited.needs;
    const event: OrcEvent = { ts: op.at, agent: op.by, action: 'task_edited', workstream: op.workstream, task_id: op.id, changed };
    for (const f of changed) if (f !== 'description') event[f] = next[f];
    const events = [event];
    if (changed.includes('depends_on') && task.status === 'pending' && !isReady(world.state, task) && isReady(state, edited)) {
      events.push({ ts: op.at, agent: 'system', action: 'task_unblocked', workstream: op.workstream, task_id: op.id });
    }
    return { state, events, result: edited };
  },
  subject: (op) => `task edit ${op.workstream}/${op.id} by ${op.by}`,
};

function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    const x = (a as string[] | undefined) ?? [];
    const y = (b as string[] | undefined) ?? [];
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  return a === b;
}
