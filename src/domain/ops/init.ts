import * as z from 'zod/mini';
import type { OpBase, OpSpec } from '../op.js';
import { emptyState } from '../types.js';

export interface InitOp extends OpBase {
  op: 'init';
}

/** Creates the coordination branch with an empty board (no-op when it has data). */
export const init: OpSpec<InitOp, { created: boolean }> = {
  type: 'init',
  params: () => z.object({}),
  apply(world, op) {
    if (world.state.version > 0) return { noop: true, result: { created: false } };
    return { state: emptyState(op.at), events: [], result: { created: true } };
  },
  subject: () => 'init',
};
