import { z } from '../zod.js';
import type { OpBase, OpSpec } from '../op.js';
import { emptyState, formatOf, FORMAT_VERSION } from '../types.js';

export interface InitOp extends OpBase {
  op: 'init';
}

/**
 * Creates the coordination branch with an empty board. On a branch that has
 * data it changes nothing, except that a branch of an older format is
 * upgraded to this one (its later operations follow the newer rules; its
 * history still replays by the rules it was written under).
 */
export const init: OpSpec<InitOp, { created: boolean; upgraded?: { from: number; to: number } }> = {
  type: 'init',
  params: () => z.object({}),
  apply(world, op) {
    if (world.state.version > 0) {
      const from = formatOf(world.state);
      if (from >= FORMAT_VERSION) return { noop: true, result: { created: false } };
      return {
        state: { ...world.state, format: FORMAT_VERSION },
        events: [{ ts: op.at, agent: op.by, action: 'branch_upgraded', from, to: FORMAT_VERSION }],
        result: { created: false, upgraded: { from, to: FORMAT_VERSION } },
      };
    }
    // A new branch is made in the format of the world it starts from (the current one; replaying an old branch, its own).
    return { state: { ...emptyState(op.at), format: formatOf(world.state) }, events: [], result: { created: true } };
  },
  // Unchanged since the first version: replay of old branches recomputes it.
  subject: () => 'init',
};
