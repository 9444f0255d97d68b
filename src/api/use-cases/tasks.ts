/**
 * Tasks: add, claim, complete, fail, release, requeue, and the reads of the
 * board. Each function builds one operation from the newest state (the
 * engine retries it on a new tip) or answers from one view.
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
import { by, type Ctx } from '../context.js';

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

export function add(ctx: Ctx, i: AddTaskInput): Promise<Task> {
  return ctx.session.run((world, c) => {
    let id = c.newId();
    while (findTaskAnywhere(world.state, id)) id = c.newId();
    const op: AddTaskOp = {
      op: 'task.add',
      at: c.at,
      by: by(ctx, i.agent),
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
  });
}

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

export function claim(ctx: Ctx, i: { workstream: string; id: string; agent: string }): Promise<Task> {
  return ctx.session.run((_w, c) => ({ op: 'task.claim', at: c.at, by: i.agent, workstream: i.workstream, id: i.id, agent: i.agent }) satisfies ClaimTaskOp);
}

export function next(ctx: Ctx, i: { workstream: string; agent: string }): Promise<Task | null> {
  return ctx.session.run<Task | null>((world, c) => {
    const task = pickNext(world.state, i.workstream);
    if (!task) return { noop: true, result: null };
    return { op: 'task.claim', at: c.at, by: i.agent, workstream: i.workstream, id: task.id, agent: i.agent, next: true } satisfies ClaimTaskOp;
  });
}

export interface CompleteInput {
  workstream: string;
  id?: string | null;
  result?: string | null;
  agent?: string;
  /** The original CLI's `t complete <ws> "<result>"` (see completionTarget). */
  loose?: boolean;
}

export function complete(ctx: Ctx, i: CompleteInput): Promise<Task> {
  return ctx.session.run((world, c) => {
    const target = completionTarget(world.state, i.workstream, i);
    const task = getTask(world.state, i.workstream, target.id).task;
    return { op: 'task.complete', at: c.at, by: by(ctx, i.agent ?? task.assigned_to), workstream: i.workstream, id: target.id, result: target.result } satisfies CompleteTaskOp;
  });
}

export function fail(ctx: Ctx, i: { workstream: string; id: string; reason: string; agent?: string }): Promise<Task> {
  return ctx.session.run((world, c) => ({
    op: 'task.fail',
    at: c.at,
    by: by(ctx, i.agent ?? getTask(world.state, i.workstream, i.id).task.assigned_to),
    workstream: i.workstream,
    id: i.id,
    reason: i.reason,
  }) satisfies FailTaskOp);
}

export function release(ctx: Ctx, i: { workstream: string; id: string; agent?: string }): Promise<Task> {
  return ctx.session.run((_w, c) => ({ op: 'task.release', at: c.at, by: by(ctx, i.agent), workstream: i.workstream, id: i.id }) satisfies ReleaseTaskOp);
}

export function requeue(ctx: Ctx, i: { workstream: string; ids?: string[]; stale: boolean; staleMs?: number; agent?: string }): Promise<Task[]> {
  if (!i.stale && !i.ids?.length) throw new OrchestratorError('INVALID_INPUT', 'name the tasks to requeue, or requeue the stale ones (--stale)');
  const staleMs = i.staleMs ?? ctx.session.staleMs;
  return ctx.session.run<Task[]>((world, c) => {
    getWorkstream(world.state, i.workstream);
    const ids = i.ids?.length ? i.ids : staleInProgress(world.state, i.workstream, Date.parse(c.at), staleMs);
    if (!ids.length) return { noop: true, result: [] };
    return { op: 'task.requeue', at: c.at, by: by(ctx, i.agent), workstream: i.workstream, ids, reason: i.ids?.length ? 'manual' : 'stale' } satisfies RequeueTasksOp;
  });
}
