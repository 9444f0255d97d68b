import { z } from '../zod.js';
import { notFound } from '../../errors.js';
import { shallowState } from '../draft.js';
import { isTakeable } from '../locks.js';
import type { OpBase, OpSpec } from '../op.js';
import { own } from '../own.js';
import { rules } from '../rules.js';
import { lockHeld } from './acquire-lock.js';

export interface ReleaseLockOp extends OpBase {
  op: 'lock.release';
  resource: string;
  agent: string;
  force?: boolean;
}

export interface ReleaseResult {
  resource: string;
  released: boolean;
  holder: string;
  /** The lock had expired and was removed (held by someone else). */
  expired?: boolean;
  forced?: boolean;
}

/**
 * Releases a lock held by `agent`. Another agent's lock is refused
 * (LOCK_HELD) unless it has expired (then its file is removed) or `force`.
 * NOT_FOUND when nobody holds it.
 */
export const releaseLock: OpSpec<ReleaseLockOp, ReleaseResult> = {
  type: 'lock.release',
  params: () => z.object({ resource: rules.resource, agent: rules.agent, force: z.optional(z.boolean()) }),
  apply(world, op) {
    const held = own(world.locks, op.resource);
    if (!held) throw notFound(`lock "${op.resource}" is not held by anyone`, { resource: op.resource });
    const state = shallowState(world.state);
    const at = Date.parse(op.at);
    if (held.agent === op.agent || op.force) {
      const forced = held.agent !== op.agent;
      return {
        state,
        events: [{ ts: op.at, agent: op.agent, action: 'lock_released', resource: op.resource, ...(forced ? { forced: true, holder: held.agent } : {}) }],
        locks: { [op.resource]: null },
        result: { resource: op.resource, released: true, holder: held.agent, ...(forced ? { forced: true } : {}) },
      };
    }
    if (!isTakeable(held, at)) throw lockHeld(held, at);
    return {
      state,
      events: [{ ts: op.at, agent: 'system', action: 'lock_expired', resource: op.resource, holder: held.agent, expired_at: held.expires_at }],
      locks: { [op.resource]: null },
      result: { resource: op.resource, released: false, holder: held.agent, expired: true },
    };
  },
  subject: (op) => `lock release ${JSON.stringify(op.resource)} by ${op.agent}${op.force ? ' (forced)' : ''}`,
};
