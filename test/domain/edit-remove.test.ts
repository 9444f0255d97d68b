/** task.edit, task.delete, workstream.archive and agent.remove: what each changes, refuses and records. */
import { describe, expect, it } from 'vitest';
import { applyOp } from '../../src/domain/apply.js';
import { anyCycle, cycleThrough } from '../../src/domain/dependencies.js';
import { isNoChange, type OpBase } from '../../src/domain/op.js';
import { listWorkstreams } from '../../src/domain/queries.js';
import { makePlan } from '../../src/domain/plan.js';
import type { Effect, Task, World } from '../../src/domain/types.js';
import { serializeState } from '../../src/store/layout.js';
import { at, refused, run, task, world, ws, type OpInput } from './world.js';

const apply = (w: World, o: OpInput) => applyOp(w, { at: at(1000), by: 'alice', ...o } as OpBase);
const effect = (w: World, o: OpInput) => apply(w, o) as Effect<any>;
const tasksOf = (w: World, name = 'revenue') => w.state.workstreams[name].tasks;
const edit = (id: string, fields: Record<string, unknown>) => ({ op: 'task.edit', workstream: 'revenue', id, ...fields });
const claim = (id: string, agent = 'bob') => ({ op: 'task.claim', workstream: 'revenue', id, agent, by: agent });
const register = (id: string) => ({ op: 'agent.register', id, type: 'worker', capabilities: [], by: id });
const lock = (resource: string, agent: string, ttl = 60_000, ms = 0) => ({ op: 'lock.acquire', resource, agent, ttl_ms: ttl, by: agent, at: at(ms) });

describe('task.edit', () => {
  const base = run(world(), ws(), task('a'), task('b'), task('c', { depends_on: ['b'] })).world;

  it('changes only the fields given, records them and bumps updated_at', () => {
    const out = effect(base, edit('a', { title: 'New title', priority: 2, estimate: '3h', description: 'long text' }));
    const t = out.state.workstreams.revenue.tasks[0];
    expect(t).toMatchObject({ id: 'a', title: 'New title', priority: 2, estimate: '3h', description: 'long text', status: 'pending', updated_at: at(1000), created_at: at() });
    expect(out.events).toEqual([
      { ts: at(1000), agent: 'alice', action: 'task_edited', workstream: 'revenue', task_id: 'a', changed: ['title', 'description', 'priority', 'estimate'], title: 'New title', priority: 2, estimate: '3h' },
    ]);
    expect(out.result).toEqual(t);
    expect(base.state.workstreams.revenue.tasks[0].title).toBe('Task a');
  });

  it('clears the estimate with null and removes dependencies and resources with []', () => {
    const w = run(base, edit('a', { estimate: '1d', needs: ['db'] })).world;
    expect(tasksOf(w)[0]).toMatchObject({ estimate: '1d', needs: ['db'] });
    const cleared = effect(w, edit('a', { estimate: null, needs: [] })).state.workstreams.revenue.tasks[0];
    expect(cleared.estimate).toBeNull();
    expect('needs' in cleared).toBe(false);
    const freed = effect(base, edit('c', { depends_on: [] }));
    expect('depends_on' in freed.state.workstreams.revenue.tasks[2]).toBe(false);
  });

  it('makes no change when every value given is the current one', () => {
    expect(isNoChange(apply(base, edit('c', { title: 'Task c', depends_on: ['b'] })))).toBe(true);
  });

  it('writes task_unblocked when the edit leaves a pending task ready', () => {
    const out = effect(base, edit('c', { depends_on: [] }));
    expect(out.events.map((e) => e.action)).toEqual(['task_edited', 'task_unblocked']);
    expect(out.events[1]).toMatchObject({ agent: 'system', workstream: 'revenue', task_id: 'c' });
    // Still blocked by another dependency: no unblocked event.
    expect(effect(base, edit('c', { depends_on: ['a'] })).events.map((e) => e.action)).toEqual(['task_edited']);
  });

  it.each([
    ['no field at all', edit('a', {}), 'INVALID_INPUT'],
    ['an empty title', edit('a', { title: ' ' }), 'INVALID_INPUT'],
    ['a title with a right-to-left override', edit('a', { title: 'x\u202ey' }), 'INVALID_INPUT'],
    ['a priority out of range', edit('a', { priority: 1000 }), 'INVALID_INPUT'],
    ['an unknown field', edit('a', { status: 'done' }), 'INVALID_INPUT'],
    ['itself as a dependency', edit('a', { depends_on: ['a'] }), 'INVALID_INPUT'],
    ['a dependency listed twice', edit('a', { depends_on: ['b', 'b'] }), 'INVALID_INPUT'],
    ['an unknown dependency', edit('a', { depends_on: ['zzz'] }), 'NOT_FOUND'],
    ['an unknown task', edit('zzz', { title: 'x' }), 'NOT_FOUND'],
    ['an unknown workstream', { ...edit('a', { title: 'x' }), workstream: 'nope' }, 'NOT_FOUND'],
  ])('refuses %s', (_label, op, code) => {
    expect(refused(() => apply(base, op)).code).toBe(code);
  });

  it('refuses a cycle and names it', () => {
    // c depends on b; b -> c would close b -> c -> b.
    const err = refused(() => apply(base, edit('b', { depends_on: ['c'] })));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('b -> c -> b');
    expect(err.data).toMatchObject({ cycle: ['b', 'c', 'b'] });
  });

  it('names a long cycle across workstreams in order', () => {
    const w = run(world(), ws(), ws('infra'), task('a'), task('b', { depends_on: ['a'] }), { ...task('c', { depends_on: ['b'] }), workstream: 'infra' }, task('d', { depends_on: ['c'] })).world;
    const err = refused(() => apply(w, edit('a', { depends_on: ['d'] })));
    expect(err.message).toContain('a -> d -> c -> b -> a');
  });

  it('changes dependencies and resources only while the task is pending; titles always', () => {
    const w = run(base, claim('a')).world;
    expect(refused(() => apply(w, edit('a', { depends_on: ['b'] }))).code).toBe('CONFLICT');
    expect(refused(() => apply(w, edit('a', { needs: ['db'] }))).code).toBe('CONFLICT');
    expect(effect(w, edit('a', { title: 'Renamed while in progress' })).result).toMatchObject({ status: 'in_progress', assigned_to: 'bob', title: 'Renamed while in progress' });
    const done = run(w, { op: 'task.complete', workstream: 'revenue', id: 'a', result: 'ok' }).world;
    expect(effect(done, edit('a', { title: 'Typo fixed' })).result).toMatchObject({ status: 'done', title: 'Typo fixed' });
  });
});

describe('task.delete', () => {
  const base = run(world(), ws(), ws('infra'), task('a'), task('b', { depends_on: ['a'] }), { ...task('c', { depends_on: ['a'] }), workstream: 'infra' }, task('d')).world;
  const del = (id: string, workstream = 'revenue') => ({ op: 'task.delete', workstream, id });

  it('removes a pending task and records its title', () => {
    const out = effect(base, del('d'));
    expect(out.state.workstreams.revenue.tasks.map((t: Task) => t.id)).toEqual(['a', 'b']);
    expect(out.events).toEqual([{ ts: at(1000), agent: 'alice', action: 'task_deleted', workstream: 'revenue', task_id: 'd', title: 'Task d' }]);
    expect(out.result).toMatchObject({ id: 'd', title: 'Task d' });
  });

  it('refuses while other tasks depend on it, naming them', () => {
    const err = refused(() => apply(base, del('a')));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('"b" (revenue), "c" (infra)');
    expect(err.data).toMatchObject({ dependents: ['b', 'c'] });
  });

  it.each([
    ['in progress', [claim('d')]],
    ['done', [{ op: 'task.complete', workstream: 'revenue', id: 'd', result: null }]],
    ['failed', [{ op: 'task.fail', workstream: 'revenue', id: 'd', reason: 'no' }]],
  ])('refuses a task that is %s', (status, ops) => {
    const w = run(base, ...ops).world;
    const err = refused(() => apply(w, del('d')));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain(`is ${status.replace(' ', '_')}`);
  });

  it('refuses an unknown task or one named in the wrong workstream', () => {
    expect(refused(() => apply(base, del('zzz'))).code).toBe('NOT_FOUND');
    expect(refused(() => apply(base, del('d', 'infra'))).message).toContain('it is in workstream "revenue"');
  });

  it('frees the id for a new task', () => {
    const w = run(base, del('d')).world;
    expect(tasksOf(run(w, task('d', { title: 'again' })).world).at(-1)).toMatchObject({ id: 'd', title: 'again' });
  });
});

describe('workstream.archive', () => {
  const archive = (name = 'revenue') => ({ op: 'workstream.archive', name });
  const finished = run(world(), ws(), ws('infra'), task('a'), task('b'), { op: 'task.complete', workstream: 'revenue', id: 'a', result: 'ok' }, { op: 'task.fail', workstream: 'revenue', id: 'b', reason: 'no' }).world;

  it('marks it archived, keeps it and its tasks in state.json and hides it from default lists', () => {
    const out = effect(finished, archive());
    expect(out.state.workstreams.revenue).toMatchObject({ status: 'archived', archived_at: at(1000) });
    expect(out.state.workstreams.revenue.tasks).toHaveLength(2);
    expect(out.events).toEqual([{ ts: at(1000), agent: 'alice', action: 'workstream_archived', workstream: 'revenue', tasks: 2 }]);
    expect(listWorkstreams(out.state).map((w) => w.name)).toEqual(['infra']);
    expect(listWorkstreams(out.state, true).map((w) => w.name)).toEqual(['infra', 'revenue']);
    // The plan leaves it out (and infra too: no pending work or work in progress, as in the original).
    expect(makePlan({ ...finished, state: out.state }, null, Date.parse(at(2000)), 60_000).workstreams.map((w) => w.name)).toEqual([]);
  });

  it('refuses while tasks are pending or in progress, naming them', () => {
    const w = run(world(), ws(), task('a'), task('b'), claim('b')).world;
    const err = refused(() => apply(w, archive()));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('"a" (pending), "b" (in_progress, bob)');
  });

  it('refuses while an unfinished task elsewhere waits for one of its unfinished tasks', () => {
    const w = run(finished, { ...task('c', { depends_on: ['b'] }), workstream: 'infra' }).world;
    const err = refused(() => apply(w, archive()));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('"c" (infra)');
    // Waiting on a done task is fine.
    const ok = run(finished, { ...task('d', { depends_on: ['a'] }), workstream: 'infra' }).world;
    expect(isNoChange(apply(ok, archive()))).toBe(false);
  });

  it('takes no new tasks, edits or releases afterwards; its name stays taken', () => {
    const w = run(finished, archive()).world;
    for (const op of [task('n'), edit('a', { title: 'x' }), { op: 'task.release', workstream: 'revenue', id: 'b' }, archive()]) {
      const err = refused(() => apply(w, op));
      expect(err.code).toBe('CONFLICT');
      expect(err.message).toMatch(/archived/);
    }
    expect(refused(() => apply(w, ws())).message).toContain('already exists (archived)');
    // Its done tasks can still go to the archive files.
    expect(effect(w, { op: 'task.archive', ids: ['a'] }).result).toMatchObject({ archived: 1 });
  });

  it('refuses an unknown workstream', () => {
    expect(refused(() => apply(finished, archive('nope'))).code).toBe('NOT_FOUND');
  });
});

describe('agent.remove', () => {
  const remove = (id: string, force?: boolean) => ({ op: 'agent.remove', id, ...(force ? { force } : {}) });
  const base = run(world(), ws(), task('a'), task('b'), task('c'), register('bob'), register('carol'), claim('a'), claim('c', 'carol'), lock('db', 'bob'), lock('cache', 'carol')).world;

  it('removes an idle agent', () => {
    const w = run(world(), register('bob')).world;
    const out = effect(w, remove('bob'));
    expect(out.state.agents).toEqual({});
    expect(out.events).toEqual([{ ts: at(1000), agent: 'alice', action: 'agent_removed', agent_id: 'bob', type: 'worker', requeued: [], released: [] }]);
    expect(out.locks).toBeUndefined();
  });

  it('refuses while it holds tasks in progress or live locks, naming them', () => {
    const err = refused(() => apply(base, remove('bob')));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('task revenue/a (in progress)');
    expect(err.message).toContain('lock "db"');
    expect(err.data).toMatchObject({ tasks: ['a'], locks: ['db'] });
  });

  it('forced: requeues its tasks and releases its locks in the same change', () => {
    const out = effect(base, remove('bob', true));
    expect(out.state.agents.bob).toBeUndefined();
    expect(out.state.agents.carol).toBeDefined();
    expect(out.state.workstreams.revenue.tasks.map((t: Task) => [t.id, t.status, t.assigned_to])).toEqual([
      ['a', 'pending', null],
      ['b', 'pending', null],
      ['c', 'in_progress', 'carol'],
    ]);
    expect(out.locks).toEqual({ db: null });
    expect(out.events.map((e) => e.action)).toEqual(['task_requeued', 'lock_released', 'agent_removed']);
    expect(out.events[0]).toMatchObject({ agent: 'alice', task_id: 'a', previous_agent: 'bob', reason: 'agent_removed' });
    expect(out.events[1]).toMatchObject({ agent: 'alice', resource: 'db', forced: true, holder: 'bob' });
    expect(out.result).toEqual({ id: 'bob', removed: true, requeued: [{ workstream: 'revenue', id: 'a' }], released: ['db'] });
  });

  it('removes its expired locks without force', () => {
    const w = run(world(), register('bob'), lock('db', 'bob', 1000)).world;
    const out = applyOp(w, { op: 'agent.remove', id: 'bob', at: at(60_000), by: 'alice' } as OpBase) as Effect;
    expect(out.locks).toEqual({ db: null });
    expect(out.events.map((e) => e.action)).toEqual(['lock_expired', 'agent_removed']);
  });

  it('keeps its name on its done and failed tasks', () => {
    const w = run(base, { op: 'task.complete', workstream: 'revenue', id: 'a', result: 'ok', by: 'bob' }, { op: 'lock.release', resource: 'db', agent: 'bob', by: 'bob' }).world;
    const out = effect(w, remove('bob'));
    expect(out.state.workstreams.revenue.tasks[0]).toMatchObject({ status: 'done', assigned_to: 'bob' });
  });

  it('an agent may remove itself; it is not brought back as the actor', () => {
    const w = run(world(), register('bob')).world;
    expect(effect(w, { ...remove('bob'), by: 'bob' }).state.agents).toEqual({});
  });

  it('refuses an unknown agent', () => {
    expect(refused(() => apply(base, remove('zed'))).code).toBe('NOT_FOUND');
    expect(refused(() => apply(base, remove('constructor'))).code).toBe('NOT_FOUND');
  });
});

describe('the new operations are deterministic', () => {
  it('give the same bytes when applied twice', () => {
    const ops: OpInput[] = [
      ws(),
      ws('infra'),
      task('a'),
      task('b', { depends_on: ['a'] }),
      register('bob'),
      claim('a'),
      lock('db', 'bob'),
      edit('b', { title: 'B', depends_on: [], needs: ['db'] }),
      { op: 'task.delete', workstream: 'revenue', id: 'b' },
      { op: 'agent.remove', id: 'bob', force: true },
      { op: 'task.delete', workstream: 'revenue', id: 'a' },
      { op: 'workstream.archive', name: 'revenue' },
    ];
    const x = run(world(), ...ops);
    const y = run(world(), ...ops);
    expect(x.effects).toHaveLength(ops.length);
    expect(serializeState(x.world.state)).toBe(serializeState(y.world.state));
    expect(JSON.stringify(x.effects.map((e) => [e.events, e.locks]))).toBe(JSON.stringify(y.effects.map((e) => [e.events, e.locks])));
  });
});

describe('dependency cycles', () => {
  const graph = (edges: Record<string, string[]>) => (id: string) => edges[id];
  it.each([
    [{ b: ['c'], c: ['a'] }, 'a', ['b'], ['a', 'b', 'c', 'a']],
    [{ b: ['c'], c: ['d'] }, 'a', ['b'], null],
    [{ b: ['b'] }, 'a', ['b'], null],
    [{}, 'a', ['a'], ['a', 'a']],
    [{ x: ['y'], y: ['x'], b: ['a'] }, 'a', ['x', 'b'], ['a', 'b', 'a']],
  ])('cycleThrough(%j, %s, %j) is %j', (edges, id, deps, cycle) => {
    expect(cycleThrough(graph(edges), id, deps)).toEqual(cycle);
  });

  it.each([
    [{ a: ['b'], b: ['c'], c: ['a'] }, ['a', 'b', 'c', 'a']],
    [{ a: ['b'], b: ['c'], c: [] }, null],
    [{ a: ['a'] }, ['a', 'a']],
    [{ a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }, null],
  ])('anyCycle(%j) is %j', (edges, cycle) => {
    expect(anyCycle(graph(edges), Object.keys(edges))).toEqual(cycle);
  });

  it('walks a chain of 100,000 tasks without running out of stack', () => {
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < 100_000; i++) edges[`t${i}`] = [`t${i + 1}`];
    edges.t100000 = ['t0'];
    expect(cycleThrough(graph(edges), 't100000', ['t0'])).toHaveLength(100_002);
    expect(anyCycle(graph(edges), ['t0'])).toHaveLength(100_002);
  });
});
