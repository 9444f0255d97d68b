import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { engineBehind } from '../src/api/internals.js';
import { BIN, cli, cliAsync } from './helpers/cli.js';
import { GIT_ENV, cleanup, git, makeRepo } from './helpers/repos.js';

afterAll(cleanup);

/** A clock the test moves by hand. */
function clock(start = Date.parse('2026-03-01T10:00:00.000Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('dependencies and readiness', () => {
  it('next takes only ready tasks: lowest priority number, then oldest', async () => {
    const repo = makeRepo();
    const c = clock();
    const orc = openOrchestrator({ repo, clock: c.now });
    await orc.createWorkstream('w');
    await orc.createWorkstream('other');
    const base = await orc.addTask('other', { title: 'base', priority: 9 });
    c.advance(1000);
    const blocked = await orc.addTask('w', { title: 'blocked but urgent', priority: 0, after: [base.id] });
    c.advance(1000);
    const older = await orc.addTask('w', { title: 'older P3', priority: 3 });
    c.advance(1000);
    const newer = await orc.addTask('w', { title: 'newer P3', priority: 3 });
    c.advance(1000);
    const p1 = await orc.addTask('w', { title: 'P1', priority: 1 });
    expect((await orc.readyTasks('w')).map((t) => t.id)).toEqual([p1.id, older.id, newer.id]);
    expect((await orc.readyTasks()).map((t) => t.id)).toEqual([p1.id, older.id, newer.id, base.id]);
    const taken = [];
    for (let i = 0; i < 3; i++) taken.push((await orc.getNextTask('w', 'a'))!.id);
    expect(taken).toEqual([p1.id, older.id, newer.id]);
    expect(await orc.getNextTask('w', 'a')).toBeNull();
    // Completing the dependency makes the blocked task ready, with an event.
    await orc.claimTask('other', base.id, 'b');
    await orc.completeTask('other', base.id, 'base done');
    const unblocked = (await orc.getEvents({ action: 'task_unblocked' }))[0];
    expect(unblocked).toMatchObject({ task_id: blocked.id, workstream: 'w', by_task: base.id });
    expect((await orc.getNextTask('w', 'a'))!.id).toBe(blocked.id);
  });

  it.each([
    ['an unknown id', ['deadbeef'], 'NOT_FOUND'],
    ['itself (the only cycle a new task could close)', ['__SELF__'], 'INVALID_INPUT'],
    ['a duplicate', ['__BASE__', '__BASE__'], 'INVALID_INPUT'],
  ])('refuses a dependency on %s', async (_l, after, code) => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo });
    await orc.createWorkstream('w');
    const base = await orc.addTask('w', { title: 'base' });
    const before = git(repo, 'rev-parse', 'orchestrator');
    const engine = await engineBehind(orc);
    const ids = after.map((a) => (a === '__BASE__' ? base.id : a === '__SELF__' ? '0000aaaa' : a));
    const err = await engine
      .mutate((_w, ctx) => ({ op: 'task.add', at: ctx.at, by: 'system', workstream: 'w', id: '0000aaaa', title: 't', description: '', priority: 5, estimate: null, depends_on: ids }) as never)
      .catch((e) => e);
    expect(err.code).toBe(code);
    expect(git(repo, 'rev-parse', 'orchestrator')).toBe(before);
  });

  it('shows a task with its dependencies, dependents and history', () => {
    const repo = makeRepo();
    cli(['ws', 'create', 'w'], { cwd: repo });
    const a = cli(['t', 'add', 'w', 'first', '--json'], { cwd: repo }).json.id;
    const b = cli(['t', 'add', 'w', 'second', '--after', a, '--needs', 'db', '--json'], { cwd: repo }).json.id;
    cli(['t', 'claim', 'w', a, 'agent-1'], { cwd: repo });
    cli(['t', 'complete', 'w', a, 'it works'], { cwd: repo });
    const shown = cli(['t', 'show', 'w', b, '--json'], { cwd: repo }).json;
    expect(shown).toMatchObject({ id: b, ready: true, needs: ['db'], dependencies: [{ id: a, status: 'done', result: 'it works' }] });
    const first = cli(['t', 'show', 'w', a, '--json'], { cwd: repo }).json;
    expect(first.dependents).toEqual([expect.objectContaining({ id: b })]);
    expect(first.history.map((h: { subject: string }) => h.subject)).toEqual([`task complete w/${a} by system`, `task claim w/${a} by agent-1`, `task add w/${a} by system`]);
    expect(cli(['t', 'show', 'w', a], { cwd: repo }).stdout).toContain('Needed by:');
  });
});

describe('leases', () => {
  it('refreshes last_seen with every change, and heartbeats commit at most once per half stale window', async () => {
    const repo = makeRepo();
    const c = clock();
    const orc = openOrchestrator({ repo, clock: c.now, staleMs: 60_000 });
    await orc.createWorkstream('w');
    await orc.registerAgent('a1');
    const count = () => Number(git(repo, 'rev-list', '--count', 'orchestrator'));
    c.advance(10_000);
    expect((await orc.heartbeat('a1')).recorded).toBe(false);
    expect(count()).toBe(2);
    c.advance(25_000);
    expect((await orc.heartbeat('a1')).recorded).toBe(true);
    expect(count()).toBe(3);
    c.advance(20_000);
    const t = await orc.addTask('w', { title: 't' });
    await orc.claimTask('w', t.id, 'a1');
    expect((await orc.listAgents())[0].last_seen).toBe(new Date(c.now()).toISOString());
    c.advance(61_000);
    expect((await orc.listAgents())[0].stale).toBe(true);
  });

  it('requeues the tasks of stale agents and leaves live ones alone', async () => {
    const repo = makeRepo();
    const c = clock();
    const orc = openOrchestrator({ repo, clock: c.now });
    await orc.createWorkstream('w');
    await orc.registerAgent('dead');
    await orc.registerAgent('alive');
    const t1 = await orc.addTask('w', { title: 'held by a dead agent' });
    const t2 = await orc.addTask('w', { title: 'held by a live agent' });
    const t3 = await orc.addTask('w', { title: 'held by an unregistered agent' });
    await orc.claimTask('w', t1.id, 'dead');
    await orc.claimTask('w', t3.id, 'ghost');
    c.advance(4 * 60_000);
    await orc.claimTask('w', t2.id, 'alive');
    c.advance(2 * 60_000);
    expect(await orc.requeue('w', { stale: true })).toEqual([expect.objectContaining({ id: t1.id, status: 'pending', assigned_to: null }), expect.objectContaining({ id: t3.id, status: 'pending' })]);
    const events = await orc.getEvents({ action: 'task_requeued' });
    expect(events.map((e) => [e.task_id, e.previous_agent, e.reason])).toEqual([
      [t1.id, 'dead', 'stale'],
      [t3.id, 'ghost', 'stale'],
    ]);
    expect((await orc.listTasks('w')).find((t) => t.id === t2.id)).toMatchObject({ status: 'in_progress', assigned_to: 'alive' });
    const tip = git(repo, 'rev-parse', 'orchestrator');
    expect(await orc.requeue('w', { stale: true })).toEqual([]);
    expect(git(repo, 'rev-parse', 'orchestrator')).toBe(tip);
  });

  it("requeues a killed agent's task, found by the CLI", async () => {
    const repo = makeRepo();
    cli(['ws', 'create', 'w'], { cwd: repo });
    const id = cli(['t', 'add', 'w', 'work', '--json'], { cwd: repo }).json.id;
    cli(['a', 'register', 'worker'], { cwd: repo });
    // An agent process that claims the task and keeps its lease alive until killed.
    const script = `
      const { openOrchestrator } = require(${JSON.stringify(require.resolve('../dist/index.js'))});
      const orc = openOrchestrator({ repo: ${JSON.stringify(repo)}, staleMs: 1000 });
      (async () => {
        await orc.claimTask('w', ${JSON.stringify(id)}, 'worker');
        console.log('claimed');
        for (;;) { await orc.heartbeat('worker'); await new Promise((r) => setTimeout(r, 100)); }
      })();`;
    const child = spawn(process.execPath, ['-e', script], { env: GIT_ENV, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (c) => String(c).includes('claimed') && resolve()));
    await new Promise((r) => setTimeout(r, 300));
    expect(cli(['t', 'requeue', 'w', '--stale', '--stale-after', '1'], { cwd: repo }).stdout).toBe('Nothing to requeue.\n');
    child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    const r = cli(['t', 'requeue', 'w', '--stale', '--stale-after', '1', '--json'], { cwd: repo });
    expect(r.json).toEqual([expect.objectContaining({ id, status: 'pending' })]);
    expect(cli(['t', 'next', 'w', 'rescuer', '--json'], { cwd: repo }).json).toMatchObject({ id, assigned_to: 'rescuer' });
  });

  it('releases and fails tasks', () => {
    const repo = makeRepo();
    cli(['ws', 'create', 'w'], { cwd: repo });
    const id = cli(['t', 'add', 'w', 'flaky', '--json'], { cwd: repo }).json.id;
    expect(cli(['t', 'release', 'w', id], { cwd: repo }).code).toBe(4);
    cli(['t', 'next', 'w', 'a1'], { cwd: repo });
    expect(cli(['t', 'fail', 'w', id, 'the', 'runner', 'timed', 'out', '--json'], { cwd: repo }).json).toMatchObject({ status: 'failed', result: 'the runner timed out' });
    expect(cli(['t', 'next', 'w', 'a2', '--json'], { cwd: repo }).json).toBeNull();
    expect(cli(['t', 'release', 'w', id, '--json'], { cwd: repo }).json).toMatchObject({ status: 'pending', assigned_to: null });
    expect(cli(['events', '--action', 'task_failed', '--json'], { cwd: repo }).json[0]).toMatchObject({ agent: 'a1', reason: 'the runner timed out' });
  });
});

describe('locks agents can rely on', () => {
  it('a waiting acquire gets the lock when the holder releases it', async () => {
    const repo = makeRepo();
    expect(cli(['lock', 'acquire', 'db', 'holder', '--ttl', '60000'], { cwd: repo }).code).toBe(0);
    const waiting = cliAsync(['lock', 'acquire', 'db', 'waiter', '--wait', '10000', '--json'], { cwd: repo });
    await new Promise((r) => setTimeout(r, 600));
    expect(cli(['lock', 'release', 'db', 'holder'], { cwd: repo }).code).toBe(0);
    const r = await waiting;
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ acquired: true, agent: 'waiter' });
  });

  it('a waiting acquire gets an expired lock, and gives up naming the holder when the wait ends first', async () => {
    const repo = makeRepo();
    cli(['lock', 'acquire', 'db', 'holder', '--ttl', '500'], { cwd: repo });
    const late = await cliAsync(['lock', 'acquire', 'db', 'waiter', '--wait', '200'], { cwd: repo });
    expect(late.code).toBe(4);
    expect(late.stderr).toMatch(/held by holder until/);
    const r = await cliAsync(['lock', 'acquire', 'db', 'waiter', '--wait', '8000', '--json'], { cwd: repo });
    expect(r.json).toMatchObject({ acquired: true, agent: 'waiter' });
    expect(cli(['events', '--action', 'lock_expired', '--json'], { cwd: repo }).json[0]).toMatchObject({ resource: 'db', holder: 'holder' });
  });

  it('renews, force-releases, and never lists an expired lock', async () => {
    const repo = makeRepo();
    cli(['lock', 'acquire', 'db', 'a1', '--ttl', '60000'], { cwd: repo });
    expect(cli(['lock', 'renew', 'db', 'a2'], { cwd: repo }).code).toBe(4);
    expect(cli(['lock', 'renew', 'none', 'a1'], { cwd: repo }).code).toBe(3);
    expect(cli(['lock', 'renew', 'db', 'a1', '--ttl', '120000', '--json'], { cwd: repo }).json.ttl_ms).toBe(120000);
    expect(cli(['lock', 'release', 'db', 'a2', '--force', '--json'], { cwd: repo }).json).toMatchObject({ released: true, forced: true, holder: 'a1' });
    expect(cli(['events', '--action', 'lock_released', '--json'], { cwd: repo }).json[0]).toMatchObject({ forced: true, holder: 'a1', agent: 'a2' });
    cli(['lock', 'acquire', 'short', 'a1', '--ttl', '1'], { cwd: repo });
    await new Promise((r) => setTimeout(r, 20));
    expect(cli(['lock', 'ls', '--json'], { cwd: repo }).json).toEqual([]);
    // Another agent may take it only after the clock-skew margin.
    const early = cli(['lock', 'acquire', 'short', 'a2'], { cwd: repo });
    expect(early.code).toBe(4);
    expect(early.stderr).toContain('clock-skew margin');
    await new Promise((r) => setTimeout(r, 2100));
    // The expired file goes with the next operation on that lock.
    expect(cli(['lock', 'acquire', 'short', 'a2'], { cwd: repo }).code).toBe(0);
    expect(git(repo, 'show', 'orchestrator:locks/short.json')).toContain('"agent": "a2"');
  });
});
