/**
 * Who acted: one acting identity (--as, ORCHESTRATOR_AGENT, git config
 * orchestrator.agent) is the default of every agent argument; a change with
 * no known actor is recorded as "system", never as the task's holder; and
 * completing, failing or releasing another agent's task is refused unless
 * forced, which the operation records so verify and the hook replay it.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { engineBehind } from '../src/api/internals.js';
import { applyOp, subjectOf } from '../src/domain/apply.js';
import type { OpBase } from '../src/domain/op.js';
import type { Effect } from '../src/domain/types.js';
import { cliProcess, run } from './helpers/cli.js';
import { GIT_ENV, cleanup, git, makeCluster, makeRepo } from './helpers/repos.js';

afterAll(cleanup);

const subjects = (dir: string) => git(dir, 'log', '--format=%an|%s', 'orchestrator').split('\n');
const lastOp = (dir: string) => JSON.parse(/Orchestrator-Op: (.*)/.exec(git(dir, 'log', '-1', '--format=%B', 'orchestrator'))![1]);
const lastEvent = (dir: string) => JSON.parse(git(dir, 'show', 'orchestrator:events.jsonl').trim().split('\n').pop()!);

async function board(dir: string): Promise<{ a: string; b: string }> {
  await run(['ws', 'create', 'w'], { cwd: dir });
  const a = (await run(['t', 'add', 'w', 'A', '--json'], { cwd: dir })).json.id;
  const b = (await run(['t', 'add', 'w', 'B', '--json'], { cwd: dir })).json.id;
  return { a, b };
}

describe('the acting identity', () => {
  it('comes from --as, else ORCHESTRATOR_AGENT, else git config orchestrator.agent', async () => {
    const dir = makeRepo();
    await run(['ws', 'create', 'w'], { cwd: dir });
    git(dir, 'config', 'orchestrator.agent', 'from-config');
    await run(['events', 'add', 'one'], { cwd: dir });
    await run(['events', 'add', 'two'], { cwd: dir, env: { ORCHESTRATOR_AGENT: 'from-env' } });
    await run(['events', 'add', 'three', '--as', 'from-flag'], { cwd: dir, env: { ORCHESTRATOR_AGENT: 'from-env' } });
    const events = (await run(['e', '--json'], { cwd: dir })).json.slice(-3);
    expect(events.map((e: { agent: string }) => e.agent)).toEqual(['from-config', 'from-env', 'from-flag']);
    expect(subjects(dir).slice(0, 3).map((s) => s.split('|')[0])).toEqual(['from-flag', 'from-env', 'from-config']);
  });

  it('refuses an invalid identity, naming where it came from', async () => {
    const dir = makeRepo();
    git(dir, 'config', 'orchestrator.agent', 'not valid');
    const r = await run(['ws', 'create', 'w', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json.code).toBe('INVALID_INPUT');
    expect(r.json.error).toContain('git config orchestrator.agent');
    const e = await run(['ws', 'create', 'w', '--json'], { cwd: dir, env: { ORCHESTRATOR_AGENT: '../x' } });
    expect(e.json.error).toContain('ORCHESTRATOR_AGENT');
  });

  it('fills every agent argument the command line leaves out', async () => {
    const dir = makeRepo();
    const { a } = await board(dir);
    const env = { ORCHESTRATOR_AGENT: 'agent-1' };
    expect((await run(['a', 'register'], { cwd: dir, env })).stdout).toBe('Registered agent: agent-1 (general)\n');
    expect((await run(['t', 'next', 'w'], { cwd: dir, env })).stdout).toBe(`Claimed next task: ${a} - A\n`);
    expect((await run(['lock', 'acquire', 'db', '--json'], { cwd: dir, env })).json).toMatchObject({ acquired: true, agent: 'agent-1' });
    expect((await run(['lock', 'renew', 'db', '--json'], { cwd: dir, env })).json).toMatchObject({ agent: 'agent-1' });
    expect((await run(['lock', 'release', 'db'], { cwd: dir, env })).stdout).toBe('Lock released: db\n');
    const hb = await run(['a', 'heartbeat'], { cwd: dir, env });
    expect(hb.code).toBe(0);
    expect(hb.stdout).toMatch(/^Heartbeat: agent-1 /);
    // Without any identity, a required agent is refused with how to set one.
    const none = await run(['t', 'next', 'w', '--json'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.json.error).toContain('git config orchestrator.agent');
  });

  it('is the library\'s agent option for every agent argument', async () => {
    const dir = makeRepo();
    const orc = openOrchestrator({ repo: dir, agent: 'lib-agent' });
    await orc.createWorkstream('w');
    const t = await orc.addTask('w', { title: 'x' });
    expect((await orc.claimTask('w', t.id)).assigned_to).toBe('lib-agent');
    expect(await orc.acquireLock('r')).toBe(true);
    expect((await orc.listLocks())[0].agent).toBe('lib-agent');
    expect((await orc.completeTask('w', t.id, 'ok')).status).toBe('done');
    expect(subjects(dir)[0]).toBe(`lib-agent|task complete w/${t.id} by lib-agent`);
  });
});

describe('a change with no known actor', () => {
  it('is recorded as system, never as the holder of the task', async () => {
    const dir = makeRepo();
    const { a } = await board(dir);
    await run(['t', 'claim', 'w', a, 'agent-1'], { cwd: dir });
    const r = await run(['t', 'complete', 'w', 'schema done'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(subjects(dir)[0]).toBe(`system|task complete w/${a} by system`);
    expect(lastOp(dir)).toMatchObject({ op: 'task.complete', by: 'system', result: 'schema done' });
    expect(lastOp(dir).force).toBeUndefined();
    // The event keeps the original's agent (whose task it was) and says nobody known acted.
    expect(lastEvent(dir)).toMatchObject({ action: 'task_completed', agent: 'agent-1', by: 'system' });
    expect(subjects(dir).some((s) => /^agent-1\|task complete/.test(s))).toBe(false);
  });
});

describe("another agent's task", () => {
  it.each([
    ['complete', (ws: string, id: string) => ['t', 'complete', ws, id, 'done it']],
    ['fail', (ws: string, id: string) => ['t', 'fail', ws, id, 'cannot']],
    ['release', (ws: string, id: string) => ['t', 'release', ws, id]],
  ])('%s is refused naming the holder, and allowed with --force, recorded', async (verb, args) => {
    const dir = makeRepo();
    const { a } = await board(dir);
    await run(['t', 'claim', 'w', a, 'agent-1'], { cwd: dir });
    const refused = await run([...args('w', a), '--as', 'agent-2', '--json'], { cwd: dir });
    expect(refused.code).toBe(4);
    expect(refused.json).toMatchObject({ code: 'CONFLICT', data: { holder: 'agent-1', agent: 'agent-2' } });
    expect(refused.json.error).toContain('agent-1');
    const text = await run([...args('w', a), '--as', 'agent-2'], { cwd: dir });
    expect(text.stderr).toContain('held by agent-1');
    const forced = await run([...args('w', a), '--as', 'agent-2', '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(subjects(dir)[0]).toBe(`agent-2|task ${verb} w/${a} by agent-2 (forced)`);
    expect(lastOp(dir)).toMatchObject({ op: `task.${verb}`, by: 'agent-2', force: true });
    expect(lastEvent(dir)).toMatchObject({ agent: 'agent-2', forced: true });
    // The holder itself needs no force.
    const own = makeRepo();
    const { a: mine } = await board(own);
    await run(['t', 'claim', 'w', mine, 'agent-1'], { cwd: own });
    expect((await run(args('w', mine), { cwd: own, env: { ORCHESTRATOR_AGENT: 'agent-1' } })).code).toBe(0);
    expect(lastOp(own).force).toBeUndefined();
  });

  it('is refused through the library too, and a failed task may be released by anyone', async () => {
    const dir = makeRepo();
    const { a, b } = await board(dir);
    const one = openOrchestrator({ repo: dir, agent: 'agent-1' });
    const two = openOrchestrator({ repo: dir, agent: 'agent-2' });
    await one.claimTask('w', a);
    await expect(two.completeTask('w', a, 'mine now')).rejects.toMatchObject({ code: 'CONFLICT', data: { holder: 'agent-1' } });
    await expect(two.failTask('w', a, 'nope')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(two.releaseTask('w', a)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await two.completeTask('w', a, 'taken over', undefined, { force: true })).status).toBe('done');
    await one.claimTask('w', b);
    await one.failTask('w', b, 'blocked upstream');
    expect((await two.releaseTask('w', b)).status).toBe('pending');
  });
});

describe('verify and the hook', () => {
  it('replay system changes and forced ones, and the hook accepts them', async () => {
    const { remote, clones } = makeCluster(2);
    const hooked = cliProcess(['hooks', 'install', remote], { cwd: clones[0] });
    expect(hooked.code).toBe(0);
    const [one, two] = clones;
    git(one, 'config', 'orchestrator.agent', 'agent-1');
    git(two, 'config', 'orchestrator.agent', 'agent-2');
    await run(['ws', 'create', 'w'], { cwd: one });
    const ids: string[] = [];
    for (const title of ['A', 'B', 'C', 'D']) ids.push((await run(['t', 'add', 'w', title, '--json'], { cwd: one })).json.id);
    for (const id of ids) expect((await run(['t', 'claim', 'w', id], { cwd: one })).code).toBe(0);
    expect((await run(['t', 'complete', 'w', ids[0], 'by force', '--force'], { cwd: two })).code).toBe(0);
    expect((await run(['t', 'fail', 'w', ids[1], 'by', 'force', '--force'], { cwd: two })).code).toBe(0);
    expect((await run(['t', 'release', 'w', ids[2], '--force'], { cwd: two })).code).toBe(0);
    // No identity at all: recorded as system.
    git(two, 'config', '--unset', 'orchestrator.agent');
    expect((await run(['t', 'complete', 'w', ids[3], 'anonymous'], { cwd: two })).code).toBe(0);
    // Every commit names who acted; none is credited to an agent that did not act.
    const log = subjects(two);
    expect(log.slice(0, 4)).toEqual([
      `system|task complete w/${ids[3]} by system`,
      `agent-2|task release w/${ids[2]} by agent-2 (forced)`,
      `agent-2|task fail w/${ids[1]} by agent-2 (forced)`,
      `agent-2|task complete w/${ids[0]} by agent-2 (forced)`,
    ]);
    for (const dir of [one, two]) {
      const v = await run(['verify', '--json'], { cwd: dir });
      expect(v.code).toBe(0);
      expect(v.json).toMatchObject({ ok: true });
    }
    // The remote's branch went through the hook: it verified each push.
    expect(git(remote, 'rev-parse', 'orchestrator')).toBe(git(two, 'rev-parse', 'orchestrator'));
    expect(fs.existsSync(path.join(remote, 'hooks', 'pre-receive'))).toBe(true);
  });

  it("find a commit that completes another agent's task without force, and the hook refuses its push", async () => {
    const { remote, clones } = makeCluster(1);
    expect(cliProcess(['hooks', 'install', remote], { cwd: clones[0] }).code).toBe(0);
    const dir = clones[0];
    const { a } = await board(dir);
    await run(['t', 'claim', 'w', a, 'agent-1'], { cwd: dir });
    const before = git(dir, 'rev-parse', 'orchestrator');
    // Committed by hand: agent-2 completes agent-1's task, the operation not marked forced.
    const store = (await engineBehind(openOrchestrator({ repo: dir, offline: true }))).store;
    const snap = await store.snapshot(store.localTip());
    const op = { op: 'task.complete', at: new Date().toISOString(), by: 'agent-2', workstream: 'w', id: a, result: 'mine' } as OpBase;
    const effect = applyOp(snap.world, { ...op, force: true } as OpBase) as Effect;
    const next = await store.commit(snap, effect, op, subjectOf(op));
    expect(await store.swapLocal(before, next.commit!, 'agent-2', 'forged')).toBe(true);
    const v = await run(['verify', '--offline', '--json'], { cwd: dir });
    expect(v.code).toBe(4);
    expect(JSON.stringify(v.json)).toContain('held by agent-1');
    let out = '';
    try {
      execFileSync('git', ['push', 'origin', 'orchestrator'], { cwd: dir, env: GIT_ENV, stdio: 'pipe' });
    } catch (err) {
      out = String((err as { stderr: Buffer }).stderr);
    }
    expect(out).toContain('held by agent-1');
    expect(git(remote, 'rev-parse', 'orchestrator')).toBe(before);
  });
});
