import { z } from '../zod.js';
import { notFound } from '../../errors.js';
import { shallowState } from '../draft.js';
import { makeLock } from '../locks.js';
import type { OpBase, OpSpec } from '../op.js';
import { own } from '../own.js';
import { rules } from '../rules.js';
import type { Lock } from '../types.js';
import { lockHeld } from './acquire-lock.js';

export interface RenewLockOp extends OpBase {
  op: 'lock.renew';
  resource: string;
  agent: string;
  ttl_ms: number;
}

/**
 * Extends a lock its holder still has (even if it expired, as long as nobody
 * took it). LOCK_HELD when another agent holds it, NOT_FOUND when nobody does.
 */
export const renewLock: OpSpec<RenewLockOp, Lock> = {
  type: 'lock.renew',
  params: () => z.object({ resource: rules.resource, agent: rules.agent, ttl_ms: rules.ttl }),
  apply(world, op) {
    const held = own(world.locks, op.resource);
    if (!held) throw notFound(`lock "${op.resource}" is not held by anyone; acquire it instead`, { resource: op.resource });
    if (held.agent !== op.agent) throw lockHeld(held, Date.parse(op.at));
    const lock = makeLock(op.resource, op.agent, op.at, op.ttl_ms);
    return {
      state: shallowState(world.state),
      events: [{ ts: op.at, agent: op.agent, action: 'lock_renewed', resource: op.resource, ttl_ms: op.ttl_ms }],
      locks: { [op.resource]: lock },
      result: lock,
    };
  },
  subject: (op) => `lock renew ${JSON.stringify(op.resource)} by ${op.agent}`,
};
