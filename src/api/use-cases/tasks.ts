/**
 * Tasks: add, claim, complete, fail, release, requeue, and the reads of the
 * board. A write is a planner: it builds one operation from the newest
 * state (the engine retries it on a new tip); a read answers from one view.
 */
import { OrchestratorError } from '../../errors.js';
import { findTaskAnywhere, getTask, getWorkstream } from '../../domain/draft.js';
import { completionTarget, staleInProgress } from '../../domain/selection.js';
import { taskDetail, type TaskDetail } from '../../domain/task-detail.js';
import { pickNext, readyTasks } from '../../domain/queries.js';
import type { AddTaskOp } from '../../domain/ops/add-task.js';
import type { ClaimTaskOp } from '../../domain/ops/claim-task.js';
import type { CompleteTaskOp } from '../../domain/ops/complete-task.js';
import type { FailTaskOp } from '../../domain/ops/fail-task.js';
import type { ReleaseTaskOp } from '../../domain/ops/release-task.js';
import type { RequeueTasksOp } from '../../domain/ops/requeue-tasks.js';
import type { Task } from '../../domain/types.js';
import type { Ctx } from '../context.js';
import { byWho, type Planner } from '../declare.js';

export type { TaskDetail };

export interface AddTaskInput {
  workstream: string;
  title: string;
  description: string;
  priority: number;
  estimate?: string | null;
  after?: string[];
  needs?: string[];
  agent?: string;
}

export const add: Planner<AddTaskInput, Task> = (world, c, i, who) => {
  let id = c.newId();
    while (findTaskAnywhere(world.state, id)) id = c.newId();
    const op: AddTaskOp = {
      op: 'task.add',
      at: c.at,
      by: byWho(who, i.agent),
      workstream: i.workstream,
      id,
      title: i.title,
      description: i.description,
      priority: i.priority,
      estimate: i.estimate ?? null,
    };
    if (i.after?.length) op.depends_on = i.after;
    if (i.needs?.length) op.needs = i.needs;
    return op;
};

export async function list(ctx: Ctx, i: { workstream: string }): Promise<Task[]> {
  return getWorkstream((await ctx.view()).state, i.workstream).tasks;
}

/** One task by id, searched in every workstream when none is given. */
export async function get(ctx: Ctx, i: { id: string; workstream?: string }): Promise<Task & { workstream: string }> {
  const state = (await ctx.view()).state;
  if (i.workstream) return { ...getTask(state, i.workstream, i.id).task, workstream: i.workstream };
  const found = findTaskAnywhere(state, i.id);
  if (!found) throw new OrchestratorError('NOT_FOUND', `task "${i.id}" not found`, { task_id: i.id });
  return { ...found.task, workstream: found.workstream };
}

export async function ready(ctx: Ctx, i: { workstream?: string }): Promise<Array<Task & { workstream: string }>> {
  return readyTasks((await ctx.view()).state, i.workstream);
}

/** A task with its dependencies, dependents and history; archived tasks too. */
export async function show(ctx: Ctx, i: { workstream: string; id: string }): Promise<TaskDetail> {
  const view = await ctx.view();
  const state = view.state;
  let task: Task & { archived?: boolean };
  try {
    task = getTask(state, i.workstream, i.id).task;
  } catch (err) {
    const archived = err instanceof OrchestratorError && err.code === 'NOT_FOUND' && state.workstreams[i.workstream] ? (await view.archived({ id: i.id }))[0] : undefined;
    if (!archived || archived.workstream !== i.workstream) throw err;
    const { workstream: _ws, ...rest } = archived;
    task = { ...rest, archived: true };
  }
  return taskDetail(state, i.workstream, task, await view.history({ task: i.id }));
}

export const claim: Planner<{ workstream: string; id: string; agent: string }, Task> = (_w, c, i) =>
  ({ op: 'task.claim', at: c.at, by: i.agent, workstream: i.workstream, id: i.id, agent: i.agent }) satisfies ClaimTaskOp;

export const next: Planner<{ workstream: string; agent: string }, Task | null> = (world, c, i) => {
  const task = pickNext(world.state, i.workstream);
  if (!task) return { noop: true, result: null };
  return { op: 'task.claim', at: c.at, by: i.agent, workstream: i.workstream, id: task.id, agent: i.agent, next: true } satisfies ClaimTaskOp;
};

export interface CompleteInput {
  workstream: string;
  id?: string | null;
  result?: string | null;
  agent?: string;
  force?: boolean;
  /** The original CLI's `t complete <ws> "<result>"` (see completionTarget). */
  loose?: boolean;
}

/** `force: true` when asked for (recorded in the operation); nothing otherwise. */
const forced = (force?: boolean) => (force ? { force: true } : {});

// Who completes, fails or releases is the agent named (else the acting
// agent), never the task's holder: with no known actor it is "system".
export const complete: Planner<CompleteInput, Task> = (world, c, i, who) => {
  const target = completionTarget(world.state, i.workstream, i);
  return { op: 'task.complete', at: c.at, by: byWho(who, i.agent), workstream: i.workstream, id: target.id, result: target.result, ...forced(i.force) } satisfies CompleteTaskOp;
};

export const fail: Planner<{ workstream: string; id: string; reason: string; agent?: string; force?: boolean }, Task> = (_w, c, i, who) =>
  ({ op: 'task.fail', at: c.at, by: byWho(who, i.agent), workstream: i.workstream, id: i.id, reason: i.reason, ...forced(i.force) }) satisfies FailTaskOp;

export const release: Planner<{ workstream: string; id: string; agent?: string; force?: boolean }, Task> = (_w, c, i, who) =>
  ({ op: 'task.release', at: c.at, by: byWho(who, i.agent), workstream: i.workstream, id: i.id, ...forced(i.force) }) satisfies ReleaseTaskOp;

/** The named tasks, or with `stale` those of agents quiet for longer than the stale window (the call's, else the session's). */
export const requeue: Planner<{ workstream: string; ids?: string[]; stale: boolean; stale_ms?: number; agent?: string }, Task[]> = (world, c, i, who) => {
  if (!i.stale && !i.ids?.length) throw new OrchestratorError('INVALID_INPUT', 'name the tasks to requeue, or requeue the stale ones (--stale)');
  getWorkstream(world.state, i.workstream);
  const ids = i.ids?.length ? i.ids : staleInProgress(world.state, i.workstream, Date.parse(c.at), i.stale_ms ?? who.staleMs);
  if (!ids.length) return { noop: true, result: [] };
  return { op: 'task.requeue', at: c.at, by: byWho(who, i.agent), workstream: i.workstream, ids, reason: i.ids?.length ? 'manual' : 'stale' } satisfies RequeueTasksOp;
};
