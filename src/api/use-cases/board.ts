/** Workstreams and the whole board: status, the original's state shape. */
import type { CreateWorkstreamOp, WorkstreamResult } from '../../domain/ops/create-workstream.js';
import { activeLocks, listAgents, listWorkstreams, type StatusView, type WorkstreamSummary } from '../../domain/queries.js';
import type { Lock, State } from '../../domain/types.js';
import type { Ctx } from '../context.js';
import { byWho, type Planner } from '../declare.js';

export interface SeedState extends State {
  /** Active locks in the original's shape, read from locks/. */
  locks: Record<string, Omit<Lock, 'resource'>>;
}

export const createWorkstream: Planner<{ name: string; description: string; priority: number; agent?: string }, WorkstreamResult> = (_w, c, i, who) =>
  ({ op: 'workstream.create', at: c.at, by: byWho(who, i.agent), name: i.name, description: i.description, priority: i.priority }) satisfies CreateWorkstreamOp;

export async function workstreams(ctx: Ctx): Promise<WorkstreamSummary[]> {
  return listWorkstreams((await ctx.view()).state);
}

/** Everything the status text shows, plus the commit it was read from. */
export async function status(ctx: Ctx): Promise<StatusView> {
  const view = await ctx.view();
  const state = view.state;
  return {
    version: state.version,
    updated_at: state.updated_at,
    commit: view.commit,
    branch: view.branch,
    workstreams: listWorkstreams(state),
    agents: listAgents(state, view.now, view.staleMs),
    active_locks: activeLocks(view.world.locks, view.now),
    recent_events: await view.events({ last: 10 }),
    knowledge_topics: [...view.world.topics],
  };
}

/** The state in the original's shape (locks included, read from locks/). */
export async function state(ctx: Ctx): Promise<SeedState> {
  const view = await ctx.view();
  const locks: SeedState['locks'] = Object.fromEntries(activeLocks(view.world.locks, view.now).map(({ resource, ...rest }) => [resource, rest]));
  return { ...view.state, locks };
}
