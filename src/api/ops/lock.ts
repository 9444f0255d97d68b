/** Resource locks with a time to live. */
import { DEFAULT_TTL_MS } from '../../domain/locks.js';
import type { ReleaseResult } from '../../domain/ops/release-lock.js';
import { declare, f } from '../declare.js';
import * as locks from '../use-cases/locks.js';

const resource = f.string('the resource (any printable text)');
const ttl = f.int('time to live in ms').default(DEFAULT_TTL_MS).alias('ttl_ms').arg('ms');

export const acquireLock = declare({
  name: 'lock.acquire',
  kind: 'write',
  summary: 'take a lock, or renew it when the agent holds it; refused with the holder and expiry',
  input: {
    resource,
    agent: f.agent('who takes it'),
    ttl,
    wait: f.int('wait up to this many ms while another agent holds it').default(0).min(0).arg('ms'),
  },
  result: 'Lock & {renewed, waited_ms}',
  refusals: ['LOCK_HELD'],
  run: locks.acquire,
  library: {
    acquireLock: { args: ['resource', 'agent', 'ttl'], map: () => true, refused: { LOCK_HELD: false } },
    lock: { args: ['resource', 'agent', { ttlMs: 'ttl' }], map: ({ waited_ms: _w, ...lock }: locks.Acquired) => lock },
    lockWait: { args: ['resource', 'agent', { ttlMs: 'ttl', waitMs: 'wait' }] },
  },
  cli: { group: 'lock', name: 'acquire', args: ['resource', 'agent'] },
  rest: {
    method: 'POST',
    path: '/locks',
    answer: (l: locks.Acquired) => ({ acquired: true, ...l }),
    refused: { LOCK_HELD: (d) => ({ acquired: false, holder: d.holder, expires_at: d.expires_at }) },
  },
  mcp: { tool: 'lock' },
});

export const renewLock = declare({
  name: 'lock.renew',
  kind: 'write',
  summary: 'extend a lock the agent holds',
  input: { resource, agent: f.agent('its holder'), ttl },
  result: 'Lock',
  refusals: ['LOCK_HELD', 'NOT_FOUND'],
  plan: locks.renew,
  library: { renewLock: { args: ['resource', 'agent', { ttlMs: 'ttl' }] } },
  cli: { group: 'lock', name: 'renew', args: ['resource', 'agent'] },
  rest: { method: 'POST', path: '/locks/:resource/renew' },
});

export const releaseLock = declare({
  name: 'lock.release',
  kind: 'write',
  summary: 'release a lock held by the agent',
  input: { resource, agent: f.agent('its holder'), force: f.bool("release another agent's lock (recorded as forced)") },
  result: 'ReleaseResult',
  refusals: ['LOCK_HELD', 'NOT_FOUND'],
  plan: locks.release,
  library: {
    releaseLock: { args: ['resource', 'agent'], map: (r: ReleaseResult) => r.released, refused: { LOCK_HELD: false, NOT_FOUND: false } },
    unlock: { args: ['resource', 'agent', ['force']] },
  },
  cli: { group: 'lock', name: 'release', args: ['resource', 'agent'] },
  rest: {
    method: 'DELETE',
    path: '/locks/:resource',
    // As the original: a lock the agent does not hold is not released, and that is an answer, not an error.
    answered: {
      LOCK_HELD: (d) => ({ resource: d.resource, released: false, holder: d.holder, expires_at: d.expires_at }),
      NOT_FOUND: (d) => ({ resource: d.resource, released: false, holder: null }),
    },
  },
  mcp: { tool: 'unlock' },
});

export const listLocks = declare({
  name: 'lock.list',
  kind: 'read',
  summary: 'list active locks (never expired ones)',
  input: {},
  result: 'Lock[]',
  refusals: [],
  run: locks.list,
  library: { listLocks: { args: [] } },
  cli: { group: 'lock', name: ['list', 'ls'] },
  rest: { method: 'GET', path: '/locks' },
});
