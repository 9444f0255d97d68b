/**
 * Operations as data: a named, pure way to build each operation from its
 * input, so a writer whose turn it is can carry the operations other
 * writers wait with (group commit, the request board).
 */
import type { Ctx, Planner } from './engine.js';
import type { World } from './domain/types.js';
import { pickNext } from './domain/queries.js';
import type { ClaimTaskOp } from './domain/ops/claim-task.js';

export const PLANNERS = {
  /** Claims the next ready task of a workstream for an agent (nothing when none is ready). */
  'task.next': (world: World, ctx: Ctx, i: { workstream: string; agent: string }) => {
    const task = pickNext(world.state, i.workstream);
    if (!task) return { noop: true as const, result: null };
    return { op: 'task.claim', at: ctx.at, by: i.agent, workstream: i.workstream, id: task.id, agent: i.agent, next: true } satisfies ClaimTaskOp;
  },
} satisfies Record<string, Planner>;
