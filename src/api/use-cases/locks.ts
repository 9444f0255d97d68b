/** Locks: acquire (waiting while held), renew, release, list. */
import { OrchestratorError } from '../../errors.js';
import { LOCK_SKEW_MS } from '../../domain/locks.js';
import { activeLocks } from '../../domain/queries.js';
import type { AcquireLockOp } from '../../domain/ops/acquire-lock.js';
import type { ReleaseLockOp, ReleaseResult } from '../../domain/ops/release-lock.js';
import type { RenewLockOp } from '../../domain/ops/renew-lock.js';
import type { Lock } from '../../domain/types.js';
import type { Ctx } from '../context.js';
import type { Planner } from '../declare.js';

export type Acquired = Lock & { renewed: boolean; waited_ms: number };

function take(ctx: Ctx, resource: string, agent: string, ttl: number): Promise<Lock & { renewed: boolean }> {
  return ctx.session.run((_w, c) => ({ op: 'lock.acquire', at: c.at, by: agent, resource, agent, ttl_ms: ttl }) satisfies AcquireLockOp);
}

/**
 * Takes (or renews) a lock, waiting up to `wait` ms while another agent
 * holds it: it sleeps until the holder's lock can be taken (expiry plus the
 * skew margin) or polls with growing intervals, never busily. LOCK_HELD
 * names the holder and expiry when the wait ends.
 */
export async function acquire(ctx: Ctx, i: { resource: string; agent: string; ttl: number; wait: number }): Promise<Acquired> {
  const started = ctx.session.now();
  const deadline = started + i.wait;
  let interval = 100;
  for (;;) {
    try {
      const lock = await take(ctx, i.resource, i.agent, i.ttl);
      return { ...lock, waited_ms: ctx.session.now() - started };
    } catch (err) {
      if (!(err instanceof OrchestratorError) || err.code !== 'LOCK_HELD') throw err;
      const now = ctx.session.now();
      if (now >= deadline) throw err;
      const freeAt = Date.parse(String(err.data.expires_at)) + LOCK_SKEW_MS;
      // Poll (a holder may release early) but never past the moment it frees up or the deadline.
      const sleep = Math.max(20, Math.min(interval, freeAt - now, deadline - now)) * (0.8 + 0.4 * Math.random());
      await new Promise((r) => setTimeout(r, sleep));
      interval = Math.min(interval * 2, 2000);
    }
  }
}

export const renew: Planner<{ resource: string; agent: string; ttl: number }, Lock> = (_w, c, i) =>
  ({ op: 'lock.renew', at: c.at, by: i.agent, resource: i.resource, agent: i.agent, ttl_ms: i.ttl }) satisfies RenewLockOp;

export const release: Planner<{ resource: string; agent: string; force: boolean }, ReleaseResult> = (_w, c, i) => {
  const op: ReleaseLockOp = { op: 'lock.release', at: c.at, by: i.agent, resource: i.resource, agent: i.agent };
  if (i.force) op.force = true;
  return op;
};

export async function list(ctx: Ctx): Promise<Lock[]> {
  const view = await ctx.view();
  return activeLocks(view.world.locks, view.now);
}
