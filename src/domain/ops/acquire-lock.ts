import { z } from '../zod.js';
import { OrchestratorError } from '../../errors.js';
import { shallowState } from '../draft.js';
import { isTakeable, LOCK_SKEW_MS, makeLock } from '../locks.js';
import type { OpBase, OpSpec } from '../op.js';
import { own } from '../own.js';
import { rules } from '../rules.js';
import type { Lock, OrcEvent } from '../types.js';

export interface AcquireLockOp extends OpBase {
  op: 'lock.acquire';
  resource: string;
  agent: string;
  ttl_ms: number;
}

/**
 * Takes a lock, or renews it when the agent already holds it. Refused with
 * LOCK_HELD (naming the holder and expiry) while another agent holds it.
 */
export const acquireLock: OpSpec<AcquireLockOp, Lock & { renewed: boolean }> = {
  type: 'lock.acquire',
  params: () => z.object({ resource: rules.resource, agent: rules.agent, ttl_ms: rules.ttl }),
  apply(world, op) {
    const held = own(world.locks, op.resource);
    const at = Date.parse(op.at);
    const events: OrcEvent[] = [];
    if (held && held.agent !== op.agent) {
      if (!isTakeable(held, at)) throw lockHeld(held, at);
      events.push({ ts: op.at, agent: 'system', action: 'lock_expired', resource: op.resource, holder: held.agent, expired_at: held.expires_at });
    }
    const lock = makeLock(op.resource, op.agent, op.at, op.ttl_ms);
    const renewed = held?.agent === op.agent;
    events.push({ ts: op.at, agent: op.agent, action: 'lock_acquired', resource: op.resource, ttl_ms: op.ttl_ms });
    return { state: shallowState(world.state), events, locks: { [op.resource]: lock }, result: { ...lock, renewed } };
  },
  subject: (op) => `lock acquire ${JSON.stringify(op.resource)} by ${op.agent}`,
};

export function lockHeld(held: Lock, atMs: number): OrchestratorError {
  const left = Math.max(0, Date.parse(held.expires_at) - atMs);
  const when = left > 0 ? `until ${held.expires_at} (${Math.ceil(left / 1000)}s left)` : `until ${held.expires_at} (expired; free ${LOCK_SKEW_MS / 1000}s later, the clock-skew margin)`;
  return new OrchestratorError('LOCK_HELD', `lock "${held.resource}" is held by ${held.agent} ${when}`, {
    resource: held.resource,
    holder: held.agent,
    acquired_at: held.acquired_at,
    expires_at: held.expires_at,
  });
}
