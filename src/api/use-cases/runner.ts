/** The runner's cycle: plan, brief, collect. */
import { OrchestratorError } from '../../errors.js';
import { findTaskAnywhere, getTask } from '../../domain/draft.js';
import { makeBrief, relevantTopics } from '../../domain/brief.js';
import { collect as collected, type Collected } from '../../domain/collect.js';
import { makePlan, type Plan } from '../../domain/plan.js';
import { parseSince, pickNext } from '../../domain/queries.js';
import type { CollectCycleOp } from '../../domain/ops/collect-cycle.js';
import type { Task } from '../../domain/types.js';
import { by, type Ctx } from '../context.js';

export async function plan(ctx: Ctx): Promise<Plan> {
  const view = await ctx.view();
  return makePlan(view.world, view.commit, view.now, view.staleMs);
}

/**
 * A markdown brief for one task (the next ready one of the workstream when
 * no id is given): the task, its dependencies' results, relevant knowledge,
 * recent events and the commands to report back.
 */
export async function brief(ctx: Ctx, i: { workstream: string; id?: string; agent?: string; command?: string }): Promise<{ task: Task; markdown: string }> {
  const view = await ctx.view();
  const state = view.state;
  const task = i.id ? getTask(state, i.workstream, i.id).task : pickNext(state, i.workstream);
  if (!task) throw new OrchestratorError('NOT_FOUND', `workstream "${i.workstream}" has no ready task to brief (see: task ready ${i.workstream})`, { workstream: i.workstream });
  const topics: Array<{ topic: string; content: string }> = [];
  for (const topic of view.world.topics) topics.push({ topic, content: (await view.knowledge(topic)) ?? '' });
  const deps = (task.depends_on ?? []).map((id) => findTaskAnywhere(state, id)?.task).filter((t): t is Task => !!t);
  const markdown = makeBrief({
    workstream: i.workstream,
    task,
    world: view.world,
    knowledge: relevantTopics(topics, i.workstream, task, deps),
    events: await view.events({ workstream: i.workstream, last: 10 }),
    command: i.command ?? 'orchestrator',
    agent: i.agent ?? task.assigned_to ?? undefined,
  });
  return { task, markdown };
}

/**
 * What happened since the last collect (or since a commit id or ISO time):
 * tasks completed with results, failed, still in progress, knowledge
 * written. Records a cycle marker commit so the next collect starts there.
 */
export async function collect(ctx: Ctx, i: { since?: string; record: boolean; agent?: string }): Promise<Collected> {
  const view = await ctx.view();
  const byCommit = i.since !== undefined && /^[0-9a-f]{7,40}$/.test(i.since);
  const sinceMs = i.since !== undefined && !byCommit ? parseSince(i.since) : null;
  let since = null as string | null;
  const entries = await view.history({ since: sinceMs !== null ? i.since : undefined }, (e) => {
    if (byCommit ? e.id.startsWith(i.since!) : i.since === undefined && e.op?.op === 'cycle.collect') since = e.id;
    return since !== null;
  });
  if (byCommit && since === null) throw new OrchestratorError('NOT_FOUND', `commit "${i.since}" is not in the history of the ${view.branch} branch`, { since: i.since });
  if (sinceMs !== null) since = new Date(sinceMs).toISOString();
  const out = collected(entries, view.world, since, new Date(ctx.session.now()).toISOString());
  if (i.record) {
    const marker = since;
    await ctx.session.run((_w, c) => ({
      op: 'cycle.collect',
      at: c.at,
      by: by(ctx, i.agent),
      since: marker && /^[0-9a-f]{40}$/.test(marker) ? marker : null,
      completed: out.completed_this_cycle.length,
      failed: out.failed_this_cycle.length,
      in_progress: out.still_in_progress.length,
    }) satisfies CollectCycleOp);
  }
  return out;
}
