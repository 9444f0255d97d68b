/**
 * Lock expiry rules. Machines' clocks disagree, so another agent may take a
 * lock over only LOCK_SKEW_MS after it expired by the holder's clock: clocks
 * that are off by less than that never let two agents hold one lock. The
 * holder itself should renew before `expires_at`.
 */
import type { Lock } from './types.js';

export const LOCK_SKEW_MS = 2000;
export const DEFAULT_TTL_MS = 60_000;

/** Shown as active (lock list, status) until expires_at. */
export function isActive(lock: Lock, nowMs: number): boolean {
  return nowMs < Date.parse(lock.expires_at);
}

/** Another agent may take the lock once the skew margin has passed too. */
export function isTakeable(lock: Lock, nowMs: number): boolean {
  return nowMs >= Date.parse(lock.expires_at) + LOCK_SKEW_MS;
}

export function makeLock(resource: string, agent: string, at: string, ttlMs: number): Lock {
  return { resource, agent, acquired_at: at, ttl_ms: ttlMs, expires_at: new Date(Date.parse(at) + ttlMs).toISOString() };
}
