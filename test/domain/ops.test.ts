import { describe, expect, it } from 'vitest';
import { applyOp } from '../../src/domain/apply.js';
import { isNoChange, type OpBase } from '../../src/domain/op.js';
import { serializeState } from '../../src/store/layout.js';
import type { Effect } from '../../src/domain/types.js';
import { LOCK_SKEW_MS } from '../../src/domain/locks.js';
import { fileToResource, resourceToFile } from '../../src/domain/rules.js';
import { at, refused, run, task, world, ws as makeWs } from './world.js';

const ws = makeWs();

describe('operations are deterministic', () => {
  it('applying the same operations twice gives the same bytes', () => {
    const ops = [ws, task('aaaaaaaa'), { op: 'agent.register', id: 'agent-1', type: 'worker', capabilities: [], by: 'agent-1' }, { op: 'task.claim', workstream: 'revenue', id: 'aaaaaaaa', agent: 'agent-1', by: 'agent-1' }];
    const a = run(world(), ...ops);
    const b = run(world(), ...ops);
    expect(serializeState(a.world.state)).toBe(serializeState(b.world.state));
    expect(JSON.stringify(a.effects.map((e) => e.events))).toBe(JSON.stringify(b.effects.map((e) => e.events)));
  });

  it('never mutates the world it was given', () => {
    const { world: w } = run(world(), ws, task('aaaaaaaa'));
    const before = serializeState(w.state);
    applyOp(w, { op: 'task.claim', at: at(1), by: 'agent-1', workstream: 'revenue', id: 'aaaaaaaa', agent: 'agent-1' } as OpBase);
    expect(serializeState(w.state)).toBe(before);
  });

  it('bumps version and updated_at on every change', () => {
    const { world: w } = run(world(), ws, { ...task('aaaaaaaa'), at: at(5) });
    expect(w.state.version).toBe(2);
    expect(w.state.updated_at).toBe(at(5));
  });
});

describe('validation refuses bad input with INVALID_INPUT', () => {
  const base = run(world(), ws, task('aaaaaaaa')).world;
  it.each([
    ['empty workstream name', { ...ws, name: '' }],
    ['workstream name with a slash', { ...ws, name: 'a/b' }],
    ['workstream name with a space', { ...ws, name: 'a b' }],
    ['over-long workstream name', { ...ws, name: 'x'.repeat(65) }],
    ['workstream name with control characters', { ...ws, name: 'ab\u0007' }],
    ['priority that is not an integer', { ...ws, name: 'p1', priority: 1.5 }],
    ['priority as a string', { ...ws, name: 'p2', priority: '3' }],
    ['negative priority', { ...ws, name: 'p3', priority: -1 }],
    ['empty title', task('bbbbbbbb', { title: '  ' })],
    ['title with a newline', task('bbbbbbbb', { title: 'a\nb' })],
    ['over-long title', task('bbbbbbbb', { title: 'x'.repeat(501) })],
    ['bad agent id', { op: 'task.claim', workstream: 'revenue', id: 'aaaaaaaa', agent: '../x' }],
    ['negative ttl', { op: 'lock.acquire', resource: 'git', agent: 'a', ttl_ms: -5 }],
    ['zero ttl', { op: 'lock.acquire', resource: 'git', agent: 'a', ttl_ms: 0 }],
    ['absurd ttl', { op: 'lock.acquire', resource: 'git', agent: 'a', ttl_ms: 1e12 }],
    ['fractional ttl', { op: 'lock.acquire', resource: 'git', agent: 'a', ttl_ms: 1.5 }],
    ['empty resource', { op: 'lock.acquire', resource: '', agent: 'a', ttl_ms: 1000 }],
    ['resource with a newline', { op: 'lock.acquire', resource: 'a\nb', agent: 'a', ttl_ms: 1000 }],
    ['over-long resource', { op: 'lock.acquire', resource: 'r'.repeat(201), agent: 'a', ttl_ms: 1000 }],
    ['topic ../x', { op: 'knowledge.write', topic: '../x', content: 'c' }],
    ['topic a/../../b', { op: 'knowledge.write', topic: 'a/../../b', content: 'c' }],
    ['topic .hidden', { op: 'knowledge.write', topic: '.hidden', content: 'c' }],
    ['topic with a NUL', { op: 'knowledge.write', topic: 'a\u0000b', content: 'c' }],
    ['event action with spaces', { op: 'event.log', agent: 'a', action: 'two words', data: {} }],
    ['event data overriding ts', { op: 'event.log', agent: 'a', action: 'x', data: { ts: 'now' } }],
    ['unknown field', { ...ws, name: 'z', colour: 'red' }],
    ['unknown operation', { op: 'task.explode' }],
  ])('%s', (_label, op) => {
    const err = refused(() => applyOp(base, { at: at(), by: 'system', ...op } as OpBase));
    expect(err.code).toBe('INVALID_INPUT');
  });

  it('names the field and the value in the message', () => {
    const err = refused(() => applyOp(base, { ...ws, name: 'a/b', at: at(), by: 'system' } as OpBase));
    expect(err.message).toContain('workstream name "a/b"');
  });
});

describe('workstreams and tasks', () => {
  it('refuses a duplicate workstream with CONFLICT', () => {
    const { world: w } = run(world(), ws);
    expect(refused(() => applyOp(w, { ...ws, at: at(), by: 'system' } as OpBase)).code).toBe('CONFLICT');
  });

  it('names the known workstreams when one is missing', () => {
    const { world: w } = run(world(), ws, { ...ws, name: 'product' });
    const err = refused(() => applyOp(w, { ...task('aaaaaaaa'), workstream: 'nope', at: at(), by: 'system' } as OpBase));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe('workstream "nope" not found (known: product, revenue)');
  });

  it('writes the original event names', () => {
    const { effects } = run(world(), ws, task('aaaaaaaa'), { op: 'task.claim', workstream: 'revenue', id: 'aaaaaaaa', agent: 'agent-1' }, {
      op: 'task.complete',
      workstream: 'revenue',
      id: 'aaaaaaaa',
      result: 'ok',
    });
    expect(effects.map((e) => e.events.map((x) => x.action))).toEqual([['workstream_created'], ['task_created'], ['task_claimed'], ['task_completed']]);
    expect(effects[3].events[0]).toMatchObject({ agent: 'agent-1', workstream: 'revenue', task_id: 'aaaaaaaa', result: 'ok' });
  });

  it('refuses to claim a task that is not pending, naming its status and holder', () => {
    const { world: w } = run(world(), ws, task('aaaaaaaa'), { op: 'task.claim', workstream: 'revenue', id: 'aaaaaaaa', agent: 'agent-1' });
    const err = refused(() => applyOp(w, { op: 'task.claim', at: at(), by: 'agent-2', workstream: 'revenue', id: 'aaaaaaaa', agent: 'agent-2' } as OpBase));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('in_progress (assigned to agent-1)');
  });

  it('refuses a task id that exists anywhere', () => {
    const { world: w } = run(world(), ws, { ...ws, name: 'product' }, task('aaaaaaaa'));
    expect(refused(() => applyOp(w, { ...task('aaaaaaaa'), workstream: 'product', at: at(), by: 'system' } as OpBase)).code).toBe('CONFLICT');
  });

  it('refuses to complete a done task', () => {
    const { world: w } = run(world(), ws, task('aaaaaaaa'), { op: 'task.complete', workstream: 'revenue', id: 'aaaaaaaa', result: null });
    expect(refused(() => applyOp(w, { op: 'task.complete', at: at(), by: 'system', workstream: 'revenue', id: 'aaaaaaaa', result: null } as OpBase)).code).toBe(
      'CONFLICT',
    );
  });
});

describe('dependencies', () => {
  it('refuses unknown dependencies and self references', () => {
    const { world: w } = run(world(), ws, task('aaaaaaaa'));
    expect(refused(() => applyOp(w, { ...task('bbbbbbbb', { depends_on: ['cccccccc'] }), at: at(), by: 'system' } as OpBase)).code).toBe('NOT_FOUND');
    expect(refused(() => applyOp(w, { ...task('bbbbbbbb', { depends_on: ['bbbbbbbb'] }), at: at(), by: 'system' } as OpBase)).code).toBe('INVALID_INPUT');
  });

  it('refuses to claim a blocked task and unblocks it on completion', () => {
    const { world: w } = run(world(), ws, task('aaaaaaaa'), task('bbbbbbbb', { depends_on: ['aaaaaaaa'] }));
    const err = refused(() => applyOp(w, { op: 'task.claim', at: at(), by: 'x', workstream: 'revenue', id: 'bbbbbbbb', agent: 'x' } as OpBase));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('blocked by "aaaaaaaa"');
    const { effects } = run(w, { op: 'task.complete', workstream: 'revenue', id: 'aaaaaaaa', result: 'done' });
    expect(effects[0].events.map((e) => e.action)).toEqual(['task_completed', 'task_unblocked']);
    expect(effects[0].events[1]).toMatchObject({ task_id: 'bbbbbbbb', by_task: 'aaaaaaaa' });
  });
});

describe('agents', () => {
  it('refreshes the acting agent\'s last_seen in the same change', () => {
    const { world: w } = run(world(), ws, task('aaaaaaaa'), { op: 'agent.register', id: 'agent-1', type: 'worker', capabilities: [], by: 'agent-1' });
    const { world: after } = run(w, { op: 'task.claim', workstream: 'revenue', id: 'aaaaaaaa', agent: 'agent-1', by: 'agent-1', at: at(60_000) });
    expect(after.state.agents['agent-1'].last_seen).toBe(at(60_000));
  });

  it('heartbeat changes nothing while last_seen is fresh, and refuses unknown agents', () => {
    const { world: w } = run(world(), { op: 'agent.register', id: 'agent-1', type: 'worker', capabilities: [], by: 'agent-1' });
    const fresh = applyOp(w, { op: 'agent.heartbeat', at: at(1000), by: 'agent-1', id: 'agent-1', min_interval_ms: 150_000 } as OpBase);
    expect(isNoChange(fresh)).toBe(true);
    const old = applyOp(w, { op: 'agent.heartbeat', at: at(200_000), by: 'agent-1', id: 'agent-1', min_interval_ms: 150_000 } as OpBase);
    expect(isNoChange(old)).toBe(false);
    expect(refused(() => applyOp(w, { op: 'agent.heartbeat', at: at(), by: 'ghost', id: 'ghost', min_interval_ms: 0 } as OpBase)).code).toBe('NOT_FOUND');
  });
});

describe('locks', () => {
  const acquire = (agent: string, ms = 0, ttl = 10_000) => ({ op: 'lock.acquire', resource: 'git', agent, ttl_ms: ttl, at: at(ms), by: agent });

  it('is held against others until it expires plus the skew margin', () => {
    const { world: w } = run(world(), acquire('a'));
    const held = refused(() => applyOp(w, acquire('b', 5_000) as OpBase));
    expect(held.code).toBe('LOCK_HELD');
    expect(held.data).toMatchObject({ holder: 'a', expires_at: at(10_000) });
    expect(refused(() => applyOp(w, acquire('b', 10_000 + LOCK_SKEW_MS - 1) as OpBase)).code).toBe('LOCK_HELD');
    const taken = applyOp(w, acquire('b', 10_000 + LOCK_SKEW_MS) as OpBase) as Effect;
    expect(taken.locks?.git).toMatchObject({ agent: 'b' });
    expect(taken.events.map((e) => e.action)).toEqual(['lock_expired', 'lock_acquired']);
  });

  it('is renewed by its holder', () => {
    const { world: w } = run(world(), acquire('a'));
    const renewed = applyOp(w, acquire('a', 5_000) as OpBase) as Effect<{ renewed: boolean; expires_at: string }>;
    expect(renewed.result.renewed).toBe(true);
    expect(renewed.result.expires_at).toBe(at(15_000));
  });

  it('is released only by its holder unless forced', () => {
    const { world: w } = run(world(), acquire('a'));
    const release = (agent: string, force?: boolean) => ({ op: 'lock.release', resource: 'git', agent, at: at(1000), by: agent, ...(force ? { force } : {}) });
    expect(refused(() => applyOp(w, release('b') as OpBase)).code).toBe('LOCK_HELD');
    expect((applyOp(w, release('b', true) as OpBase) as Effect).events[0]).toMatchObject({ action: 'lock_released', forced: true, holder: 'a' });
    expect((applyOp(w, release('a') as OpBase) as Effect).locks).toEqual({ git: null });
    expect(refused(() => applyOp(world(), release('a') as OpBase)).code).toBe('NOT_FOUND');
  });

  it.each(['git', 'a b', 'x/../../etc/passwd', '..', '.', 'ünïcødé 🔒', '%41', 'C:\\temp', 'a'.repeat(200), '.git'])('resource %j round-trips through its file name', (r) => {
    const file = resourceToFile(r);
    expect(file).not.toMatch(/[/\\]/);
    expect(file.startsWith('.')).toBe(false);
    expect(fileToResource(file)).toBe(r);
  });
});

describe('knowledge and events', () => {
  it('writes exactly the content and refuses deleting an unknown topic', () => {
    const { world: w, effects } = run(world(), { op: 'knowledge.write', topic: 'api', content: '# API\n' });
    expect(effects[0].knowledge).toEqual({ api: '# API\n' });
    expect(w.topics).toEqual(['api']);
    expect(refused(() => applyOp(w, { op: 'knowledge.delete', topic: 'nope', at: at(), by: 'system' } as OpBase)).code).toBe('NOT_FOUND');
  });

  it('logs custom events in the original shape', () => {
    const { effects } = run(world(), { op: 'event.log', agent: 'agent-1', action: 'deployed', data: { service: 'api', version: '2.0' } });
    expect(effects[0].events).toEqual([{ ts: at(), agent: 'agent-1', action: 'deployed', service: 'api', version: '2.0' }]);
  });
});

describe("another agent's task", () => {
  const held = () => run(world(), ws, task('aaaaaaaa'), { op: 'task.claim', workstream: 'revenue', id: 'aaaaaaaa', agent: 'agent-1', by: 'agent-1' }).world;
  const ops: Array<[string, Record<string, unknown>]> = [
    ['task.complete', { result: 'r' }],
    ['task.fail', { reason: 'no' }],
    ['task.release', {}],
  ];

  it.each(ops)('%s by another agent is refused naming the holder; forced, it records force, the holder and who acted', (type, extra) => {
    const op = { op: type, at: at(1), by: 'agent-2', workstream: 'revenue', id: 'aaaaaaaa', ...extra } as OpBase;
    const err = refused(() => applyOp(held(), op));
    expect(err.code).toBe('CONFLICT');
    expect(err.data).toMatchObject({ holder: 'agent-1', agent: 'agent-2', task_id: 'aaaaaaaa' });
    const out = applyOp(held(), { ...op, force: true } as OpBase) as Effect;
    expect(out.events[0]).toMatchObject({ agent: 'agent-2', forced: true });
    // Deterministic: applied twice, the same bytes.
    expect(serializeState((applyOp(held(), { ...op, force: true } as OpBase) as Effect).state)).toBe(serializeState(out.state));
  });

  it.each(ops)('%s by its holder or by system needs no force; system keeps the holder as the event agent, with by', (type, extra) => {
    const mine = applyOp(held(), { op: type, at: at(1), by: 'agent-1', workstream: 'revenue', id: 'aaaaaaaa', ...extra } as OpBase) as Effect;
    expect(mine.events[0]).toMatchObject({ agent: 'agent-1' });
    expect(mine.events[0]).not.toHaveProperty('forced');
    const anon = applyOp(held(), { op: type, at: at(1), by: 'system', workstream: 'revenue', id: 'aaaaaaaa', ...extra } as OpBase) as Effect;
    if (type === 'task.release') expect(anon.events[0]).toMatchObject({ agent: 'system', previous_agent: 'agent-1' });
    else expect(anon.events[0]).toMatchObject({ agent: 'agent-1', by: 'system' });
  });
});

describe('import', () => {
  const data = { source: 'seed', force: false, state: { ...world().state, version: 3, workstreams: {}, agents: {} }, log: { sealed: [], live: '', count: 0 }, knowledge: { notes: 'x' }, locks: {} };

  it('goes into a branch init just made (settings kept), and needs force over data', () => {
    const { world: fresh } = run(world(), { op: 'init' }, { op: 'settings.set', settings: { events_per_segment: 100 } });
    const out = applyOp(fresh, { op: 'import', at: at(1), by: 'system', ...data } as OpBase) as Effect;
    expect(out.state.settings).toEqual({ events_per_segment: 100 });
    const { world: full } = run(world(), ws);
    expect(refused(() => applyOp(full, { op: 'import', at: at(1), by: 'system', ...data } as OpBase)).code).toBe('CONFLICT');
    expect(isNoChange(applyOp(full, { op: 'import', at: at(1), by: 'system', ...data, force: true } as OpBase))).toBe(false);
  });
});

describe('archive', () => {
  it('keeps counting the archived tasks of a workstream as done', () => {
    const { world: w } = run(world(), ws, task('aaaaaaaa'), task('bbbbbbbb'), { op: 'task.complete', workstream: 'revenue', id: 'aaaaaaaa', result: 'ok' });
    const out = applyOp(w, { op: 'task.archive', at: at(1), by: 'system', ids: ['aaaaaaaa'] } as OpBase) as Effect;
    expect(out.state.workstreams.revenue).toMatchObject({ archived_tasks: 1 });
    expect(out.state.workstreams.revenue.tasks.map((t) => t.id)).toEqual(['bbbbbbbb']);
  });
});
