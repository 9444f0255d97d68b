/** The runner's cycle: plan, brief, collect. */
import { OrchestratorError } from '../../errors.js';
import { findTaskAnywhere, getTask, getWorkstream, taskIndex } from '../../domain/draft.js';
import { makeBrief, relevantTopics } from '../../domain/brief.js';
import { collect as collected, type Collected } from '../../domain/collect.js';
import { makePlan, type Plan, type Recommended } from '../../domain/plan.js';
import { parseSince, pickNext } from '../../domain/queries.js';
import type { CollectCycleOp } from '../../domain/ops/collect-cycle.js';
import type { State, Task } from '../../domain/types.js';
import { by, type Ctx } from '../context.js';
import type { View } from '../view.js';

/** Every topic with its content, read once per call (briefs judge relevance by content). */
async function allTopics(view: View): Promise<Array<{ topic: string; content: string }>> {
  const out: Array<{ topic: string; content: string }> = [];
  for (const topic of view.world.topics) out.push({ topic, content: (await view.knowledge(topic)) ?? '' });
  return out;
}

/** The markdown brief of one task, from one view. */
async function briefOf(view: View, topics: Array<{ topic: string; content: string }>, workstream: string, task: Task, agent: string | undefined, command: string): Promise<string> {
  const state = view.state;
  const deps = (task.depends_on ?? []).map((id) => findTaskAnywhere(state, id)?.task).filter((t): t is Task => !!t);
  return makeBrief({
    workstream,
    task,
    world: view.world,
    knowledge: relevantTopics(topics, workstream, task, deps),
    events: await view.events({ workstream, last: 10 }),
    command,
    agent,
  });
}

export type PlanWithBriefs = Plan<Recommended & { brief: string }>;

/** The cycle plan (see domain/plan.ts), each recommended task with its brief, as the original's runner gave. */
export async function plan(ctx: Ctx, i: { command?: string } = {}): Promise<PlanWithBriefs> {
  const view = await ctx.view();
  const p = makePlan(view.world, view.commit, view.now, view.staleMs);
  const topics = p.recommended_parallel.length ? await allTopics(view) : [];
  const recommended: PlanWithBriefs['recommended_parallel'] = [];
  for (const r of p.recommended_parallel) {
    recommended.push({ ...r, brief: await briefOf(view, topics, r.workstream, r.task, r.agent ?? undefined, i.command ?? 'orchestrator') });
  }
  return { ...p, recommended_parallel: recommended };
}

/** What `brief` answers when the workstream has no ready task: the original's words, and what the pending tasks wait for. */
function nothingReady(state: State, workstream: string): string {
  const ws = getWorkstream(state, workstream);
  const pending = ws.tasks.filter((t) => t.status === 'pending');
  if (!pending.length) return 'No pending tasks.\n';
  return `No pending tasks are ready: ${pending.length} wait${pending.length === 1 ? 's' : ''} for dependencies (see: task show ${workstream} ${pending[0].id}).\n`;
}

/**
 * A markdown brief for one task (the next ready one of the workstream when
 * no id is given): the task, its dependencies' results, relevant knowledge,
 * recent events and the commands to report back. With no ready task, the
 * original's "No pending tasks." and `task: null`.
 */
export async function brief(ctx: Ctx, i: { workstream: string; id?: string; agent?: string; command?: string }): Promise<{ task: Task | null; markdown: string }> {
  const view = await ctx.view();
  const state = view.state;
  const task = i.id ? getTask(state, i.workstream, i.id).task : pickNext(state, i.workstream);
  if (!task) return { task: null, markdown: nothingReady(state, i.workstream) };
  const markdown = await briefOf(view, await allTopics(view), i.workstream, task, i.agent ?? task.assigned_to ?? undefined, i.command ?? 'orchestrator');
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
  // Tasks of the cycle archived since: their titles come from the archive.
  const present = taskIndex(view.state);
  const gone = new Set(entries.filter((e) => (e.op?.op === 'task.complete' || e.op?.op === 'task.fail') && !present.has(String(e.op.id))).map((e) => String(e.op!.id)));
  const archived = new Map((await view.archived({ ids: gone })).map((t) => [t.id, t.title]));
  const out = collected(entries, view.world, since, new Date(ctx.session.now()).toISOString(), archived);
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
