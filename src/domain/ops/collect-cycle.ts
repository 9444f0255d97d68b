import { z } from '../zod.js';
import { shallowState } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';

export interface CollectCycleOp extends OpBase {
  op: 'cycle.collect';
  /** The commit the collected cycle started after (null: the beginning). */
  since: string | null;
  completed: number;
  failed: number;
  in_progress: number;
}

/** Marks the end of a runner cycle: the next collect starts after this commit. */
export const collectCycle: OpSpec<CollectCycleOp, null> = {
  type: 'cycle.collect',
  params: () =>
    z.object({
      since: z.nullable(z.string().check(z.regex(/^[0-9a-f]{40}$/, 'must be a commit id'))),
      completed: z.int().check(z.gte(0)),
      failed: z.int().check(z.gte(0)),
      in_progress: z.int().check(z.gte(0)),
    }),
  apply(world, op) {
    return {
      state: shallowState(world.state),
      events: [{ ts: op.at, agent: op.by, action: 'cycle_collected', completed: op.completed, failed: op.failed, in_progress: op.in_progress }],
      result: null,
    };
  },
  subject: (op) => `cycle collect: ${op.completed} completed, ${op.failed} failed, ${op.in_progress} in progress`,
};
