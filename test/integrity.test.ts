import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrchestrator, type Orchestrator } from '../src/api.js';
import { engineBehind } from '../src/api/internals.js';
import type { OpBase } from '../src/domain/op.js';
import { applyOp, subjectOf } from '../src/domain/apply.js';
import type { Effect } from '../src/domain/types.js';
import { cli } from './helpers/cli.js';
import { GIT_ENV, cleanup, git, makeCluster, makeRepo } from './helpers/repos.js';

afterAll(cleanup);

const ROOT = path.resolve(__dirname, '..');

/** Commits `effect` of `op` on the current tip, as a careless or hostile writer would (no checks). */
async function forge(orc: Orchestrator, op: OpBase, edit: (e: Effect) => Effect = (e) => e, staleBy = 0): Promise<string> {
  const engine = await engineBehind(orc);
  const store = engine.store;
  const tip = store.localTip();
  const snap = await store.snapshot(tip);
  let old = tip!;
  for (let i = 0; i < staleBy; i++) old = (await store.objects.readCommit(old)).parents[0];
  const from = await store.snapshot(old);
  const effect = applyOp(from.world, op) as Effect;
  const next = await store.commit(snap, edit(effect), op, subjectOf(op));
  expect(await store.swapLocal(tip, next.commit!, op.by, 'forged')).toBe(true);
  return next.commit!;
}

/** Rewrites the tip commit with git plumbing: `change` gets the tree listing and may replace files. */
function rewriteTip(repo: string, change: (files: Map<string, string>) => void, opts: { author?: string; parents?: string[] } = {}): string {
  const tip = git(repo, 'rev-parse', 'orchestrator');
  const files = new Map<string, string>();
  for (const line of git(repo, 'ls-tree', '-r', 'orchestrator').split('\n')) {
    const [meta, name] = line.split('\t');
    files.set(name, execFileSync('git', ['cat-file', 'blob', meta.split(' ')[2]], { cwd: repo }).toString());
  }
  change(files);
  const index = path.join(repo, '.git', 'forge-index');
  fs.rmSync(index, { force: true });
  const env = { ...GIT_ENV, GIT_INDEX_FILE: index, ...(opts.author ? { GIT_AUTHOR_NAME: opts.author } : {}) };
  for (const [name, content] of files) {
    const oid = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repo, input: content, env }).toString().trim();
    execFileSync('git', ['update-index', '--add', '--cacheinfo', `100644,${oid},${name}`], { cwd: repo, env });
  }
  const tree = execFileSync('git', ['write-tree'], { cwd: repo, env }).toString().trim();
  const message = git(repo, 'log', '-1', '--format=%B', tip);
  const parents = (opts.parents ?? git(repo, 'log', '-1', '--format=%P', tip).split(' ').filter(Boolean)).flatMap((p) => ['-p', p]);
  const commit = execFileSync('git', ['commit-tree', tree, ...parents, '-m', message], { cwd: repo, env }).toString().trim();
  git(repo, 'update-ref', 'refs/heads/orchestrator', commit, tip);
  return commit;
}

async function board(repo: string): Promise<{ orc: Orchestrator; task: string }> {
  const orc = openOrchestrator({ repo, agent: 'agent-1' });
  await orc.createWorkstream('w');
  const t = await orc.addTask('w', { title: 'the task' });
  await orc.lock('db', 'agent-1', { ttlMs: 600_000 });
  await orc.writeKnowledge('notes', 'hello');
  return { orc, task: t.id };
}

describe('verify', () => {
  it('passes a history of every kind of operation', async () => {
    const repo = makeRepo();
    const { orc, task } = await board(repo);
    await orc.registerAgent('agent-2', { capabilities: ['x'] });
    await orc.claimTask('w', task, 'agent-2');
    await orc.failTask('w', task, 'broke', 'agent-2');
    await orc.releaseTask('w', task);
    await orc.getNextTask('w', 'agent-2');
    // Another agent's task: forced (recorded), and with no known actor (system).
    await orc.failTask('w', task, 'taken over', 'agent-1', { force: true });
    await orc.releaseTask('w', task);
    await orc.getNextTask('w', 'agent-2');
    await orc.releaseTask('w', task, 'agent-1', { force: true });
    await orc.getNextTask('w', 'agent-2');
    await orc.completeTask('w', task, 'ok', 'agent-1', { force: true });
    await orc.addTask('w', { title: 'anonymous' }).then((t) => orc.claimTask('w', t.id, 'agent-2').then(() => openOrchestrator({ repo }).completeTask('w', t.id, 'by nobody known')));
    await orc.renewLock('db', 'agent-1');
    await orc.unlock('db', 'agent-1');
    await orc.deleteKnowledge('notes');
    await orc.logEvent('agent-2', 'deployed', { v: 2 });
    await orc.heartbeat('agent-2');
    await orc.collect();
    await orc.archive({ olderThanMs: 0 });
    const r = cli(['verify', '--json'], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, checked: Number(git(repo, 'rev-list', '--count', 'orchestrator')) });
    // git's revision syntax: HEAD~0 is the project's own commit, not one the orchestrator made.
    expect(cli(['verify', 'HEAD~0'], { cwd: repo }).code).toBe(4);
    expect(cli(['verify', 'nothing-here~1'], { cwd: repo }).code).toBe(3);
    const mid = git(repo, 'rev-parse', 'orchestrator~5');
    expect(cli(['verify', `${mid}..orchestrator`, '--json'], { cwd: repo }).json.checked).toBe(5);
  });

  const forgeries: Array<[string, (repo: string, orc: Orchestrator, task: string) => Promise<unknown>, RegExp]> = [
    [
      'a hand-edited state.json',
      async (repo) => {
        await openOrchestrator({ repo }).heartbeat('agent-1').catch(() => undefined);
        await openOrchestrator({ repo, agent: 'agent-1' }).writeKnowledge('more', 'x');
        rewriteTip(repo, (f) => f.set('state.json', f.get('state.json')!.replace('"pending"', '"done"')));
      },
      /has a state\.json its operation \(knowledge\.write\) does not produce: workstreams\.w\.tasks\[0\]\.status/,
    ],
    ['missing events', (_r, orc) => forge(orc, { op: 'workstream.create', at: new Date().toISOString(), by: 'system', name: 'x', description: '', priority: 1 } as OpBase, (e) => ({ ...e, events: [] })), /events\.jsonl/],
    [
      'extra events',
      (_r, orc) =>
        forge(orc, { op: 'workstream.create', at: new Date().toISOString(), by: 'system', name: 'x', description: '', priority: 1 } as OpBase, (e) => ({
          ...e,
          events: [...e.events, { ts: 'now', agent: 'mallory', action: 'task_completed' }],
        })),
      /events\.jsonl/,
    ],
    [
      'a lock taken before it expired',
      (_r, orc) => forge(orc, { op: 'lock.acquire', at: new Date().toISOString(), by: 'agent-2', resource: 'db', agent: 'agent-2', ttl_ms: 1000 } as OpBase, undefined, 2),
      /refuses: lock "db" is held by agent-1/,
    ],
    [
      'a claim of a task already in progress',
      async (_r, orc, task) => {
        await orc.claimTask('w', task, 'agent-1');
        return forge(orc, { op: 'task.claim', at: new Date().toISOString(), by: 'agent-2', workstream: 'w', id: task, agent: 'agent-2' } as OpBase, undefined, 1);
      },
      /refuses: task "[0-9a-f]+" is in_progress \(assigned to agent-1\)/,
    ],
    ['a malformed file', async (repo) => rewriteTip(repo, (f) => f.set('locks/db.json', '{ not json')), /locks\/db\.json/],
    ['a commit without a recorded operation', async (repo) => git(repo, 'update-ref', 'refs/heads/orchestrator', git(repo, 'commit-tree', 'orchestrator^{tree}', '-p', 'orchestrator', '-m', 'sneaky')), /records no operation/],
    ['a forged author', async (repo) => rewriteTip(repo, () => undefined, { author: 'mallory' }), /has author mallory but its operation's agent is agent-1/],
    ['a merge', async (repo) => rewriteTip(repo, () => undefined, { parents: [git(repo, 'rev-parse', 'orchestrator~1'), git(repo, 'rev-parse', 'main')] }), /is a merge/],
  ];

  it.each(forgeries)('finds %s, naming the commit', async (_label, make, reason) => {
    const repo = makeRepo();
    const { orc, task } = await board(repo);
    await make(repo, orc, task);
    const bad = git(repo, 'rev-parse', 'orchestrator');
    const r = cli(['verify'], { cwd: repo });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`commit ${bad.slice(0, 8)} `);
    expect(r.stderr).toMatch(reason);
  });
});

describe('the pre-receive hook', () => {
  let cluster: ReturnType<typeof makeCluster>;
  beforeAll(() => {
    cluster = makeCluster(2);
  });

  it('installs, chains a hook that was there, and uninstalls', () => {
    const { remote } = makeCluster(0);
    const userHook = path.join(remote, 'hooks', 'pre-receive');
    fs.writeFileSync(userHook, '#!/bin/sh\ncat > /dev/null\necho user hook ran >&2\n', { mode: 0o755 });
    expect(cli(['hooks', 'install', remote], { cwd: remote }).stdout).toContain('the existing hook runs first');
    expect(cli(['hooks', 'install', remote], { cwd: remote }).stdout).toMatch(/^Reinstalled/);
    expect(fs.readFileSync(path.join(remote, 'hooks', 'pre-receive.chained'), 'utf8')).toContain('user hook ran');
    expect(cli(['hooks', 'uninstall', remote], { cwd: remote }).stdout).toContain('previous hook is back');
    expect(fs.readFileSync(userHook, 'utf8')).toContain('user hook ran');
    expect(cli(['hooks', 'uninstall', remote], { cwd: remote }).code).toBe(3);
  });

  it('keeps guarding after the package that installed it is removed and the repository is moved', async () => {
    // Install from a copy of the package, then delete the copy.
    const pkg = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orc-pkg-')), 'package');
    for (const dir of ['bin', 'dist', 'hooks']) fs.cpSync(path.join(ROOT, dir), path.join(pkg, dir), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
    const { remote, clones, root } = makeCluster(1);
    const installed = execFileSync(process.execPath, [path.join(pkg, 'bin', 'orchestrator.js'), 'hooks', 'install', remote], { cwd: root, env: GIT_ENV, encoding: 'utf8' });
    expect(installed).toContain('Installed the pre-receive hook');
    fs.rmSync(path.dirname(pkg), { recursive: true, force: true });
    expect(fs.readFileSync(path.join(remote, 'hooks', 'pre-receive'), 'utf8')).not.toContain(pkg);
    // The repository moves too; the clone follows it.
    const moved = path.join(root, 'moved.git');
    fs.renameSync(remote, moved);
    git(clones[0], 'remote', 'set-url', 'origin', moved);
    const orc = openOrchestrator({ repo: clones[0], agent: 'agent-1' });
    await orc.createWorkstream('w');
    await orc.addTask('w', { title: 'still guarded' });
    expect(git(moved, 'rev-list', '--count', 'orchestrator')).toBe('2');
    // And it still refuses what it must, saying what and why (and never to work offline).
    await forge(openOrchestrator({ repo: clones[0], offline: true }), { op: 'workstream.create', at: new Date().toISOString(), by: 'agent-1', name: 'x', description: '', priority: 1 } as OpBase, (e) => ({ ...e, events: [] }));
    let refused = '';
    try {
      execFileSync('git', ['push', 'origin', 'orchestrator'], { cwd: clones[0], env: GIT_ENV, stdio: 'pipe' });
    } catch (err) {
      refused = String((err as { stderr: Buffer }).stderr);
    }
    expect(refused).toMatch(/refused: commit [0-9a-f]{8} on orchestrator has an events.jsonl that differs/);
    // The next write carries the forged local commit along: refused, and the error says why.
    const viaEngine = await orc.addTask('w', { title: 'after a refused push' }).catch((e) => e);
    expect(viaEngine.code).toBe('REMOTE');
    expect(viaEngine.message).toMatch(/was rejected: .*refused: commit [0-9a-f]{8} on orchestrator has an events.jsonl/);
    expect(viaEngine.message).not.toContain('--offline');
  });

  it('accepts normal work through it, and the chained hook runs too', async () => {
    const { remote, clones } = cluster;
    fs.writeFileSync(path.join(remote, 'hooks', 'pre-receive'), '#!/bin/sh\ncat > /dev/null\necho chained hook ran >&2\n', { mode: 0o755 });
    expect(cli(['hooks', 'install', remote], { cwd: remote }).code).toBe(0);
    const a = openOrchestrator({ repo: clones[0], agent: 'agent-1' });
    const b = openOrchestrator({ repo: clones[1], agent: 'agent-2' });
    await a.createWorkstream('w');
    const t = await a.addTask('w', { title: 'guarded' });
    expect((await engineBehind(b)).store.remote!.kind).toBe('local');
    await b.claimTask('w', t.id, 'agent-2');
    await expect(a.claimTask('w', t.id, 'agent-1')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(git(remote, 'rev-list', '--count', 'orchestrator')).toBe('3');
  });

  it('refuses forged commits, force-pushes and deletion, and leaves other branches alone', async () => {
    const { remote, clones } = cluster;
    const repo = clones[0];
    const orc = openOrchestrator({ repo, agent: 'agent-1' });
    await orc.status();
    const push = (...args: string[]) => {
      try {
        execFileSync('git', ['push', ...args], { cwd: repo, env: GIT_ENV, stdio: 'pipe' });
        return '';
      } catch (err) {
        return String((err as { stderr: Buffer }).stderr);
      }
    };
    // A claim of a task already in progress, committed locally and pushed by hand.
    const engine = await engineBehind(openOrchestrator({ repo, offline: true }));
    const tip = engine.store.localTip()!;
    const task = JSON.parse(git(repo, 'show', 'orchestrator:state.json')).workstreams.w.tasks[0].id;
    await forge(openOrchestrator({ repo, offline: true }), { op: 'task.claim', at: new Date().toISOString(), by: 'agent-1', workstream: 'w', id: task, agent: 'agent-1' } as OpBase, undefined, 1);
    const forged = git(repo, 'rev-parse', 'orchestrator');
    const out = push('origin', 'orchestrator');
    expect(out).toContain(`refused: commit ${forged.slice(0, 8)} on orchestrator records an operation its parent refuses`);
    expect(out).toContain('is in_progress (assigned to agent-2)');
    expect(git(remote, 'rev-parse', 'orchestrator')).toBe(tip);
    // History is never rewritten or deleted.
    git(repo, 'update-ref', 'refs/heads/orchestrator', git(repo, 'rev-parse', 'orchestrator~2'));
    expect(push('--force', 'origin', 'orchestrator')).toContain('non-fast-forward update of orchestrator refused');
    expect(push('origin', ':orchestrator')).toContain('deleting the coordination branch orchestrator is refused');
    expect(git(remote, 'rev-parse', 'orchestrator')).toBe(tip);
    // Other branches are untouched.
    git(repo, 'update-ref', 'refs/heads/anything', git(repo, 'commit-tree', 'main^{tree}', '-m', 'no trailer'));
    expect(push('origin', 'anything')).toBe('');
  });
});

describe('offline work', () => {
  it('syncs local operations onto the remote tip, dropping the one that became invalid', async () => {
    const { clones, remote } = makeCluster(2);
    const a = openOrchestrator({ repo: clones[0], agent: 'agent-a' });
    await a.createWorkstream('w');
    const contested = await a.addTask('w', { title: 'contested' });
    const free = await a.addTask('w', { title: 'free' });
    const b = openOrchestrator({ repo: clones[1], agent: 'agent-b' });
    await b.status();
    // a goes offline: claims the contested task, claims the free one, writes a note.
    expect(cli(['t', 'claim', 'w', contested.id, 'agent-a', '--offline'], { cwd: clones[0] }).code).toBe(0);
    expect(cli(['t', 'claim', 'w', free.id, 'agent-a', '--offline'], { cwd: clones[0] }).code).toBe(0);
    expect(cli(['kb', 'write', 'offline-notes', 'written on a plane', '--offline'], { cwd: clones[0] }).code).toBe(0);
    // Meanwhile b claims the contested task online.
    await b.claimTask('w', contested.id, 'agent-b');
    // Online writes are refused until the local work is synced.
    expect(cli(['t', 'add', 'w', 'more'], { cwd: clones[0] }).code).toBe(4);
    const r = cli(['sync'], { cwd: clones[0] });
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('2 applied, 1 dropped');
    expect(r.stdout).toContain(`task.claim (task w/${contested.id}): task "${contested.id}" is in_progress (assigned to agent-b)`);
    const tasks = cli(['t', 'ls', 'w', '--json'], { cwd: clones[1] }).json;
    expect(tasks.find((t: { id: string }) => t.id === contested.id).assigned_to).toBe('agent-b');
    expect(tasks.find((t: { id: string }) => t.id === free.id).assigned_to).toBe('agent-a');
    expect(cli(['kb', 'read', 'offline-notes'], { cwd: clones[1] }).stdout).toBe('written on a plane\n');
    expect(cli(['events', '--action', 'sync_dropped', '--json'], { cwd: clones[1] }).json[0]).toMatchObject({ agent: 'agent-a', operation: 'task.claim', target: `task w/${contested.id}` });
    // Nothing is left to sync; the clone writes online again; the remote's history verifies.
    expect(cli(['sync'], { cwd: clones[0] }).stdout).toContain('0 applied, 0 dropped');
    expect(cli(['t', 'add', 'w', 'more'], { cwd: clones[0] }).code).toBe(0);
    expect(cli(['verify'], { cwd: remote }).code).toBe(0);
  });

  it('with --allow-offline, commits locally when the remote cannot be reached', () => {
    const { clones, remote } = makeCluster(1);
    cli(['ws', 'create', 'w'], { cwd: clones[0] });
    fs.renameSync(remote, remote + '.away');
    const r = cli(['t', 'add', 'w', 'while away', '--allow-offline'], { cwd: clones[0] });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('working offline');
    fs.renameSync(remote + '.away', remote);
    expect(cli(['sync'], { cwd: clones[0] }).stdout).toContain('1 applied, 0 dropped');
    expect(git(remote, 'log', '-1', '--format=%s', 'orchestrator')).toMatch(/^task add w\//);
  });
});

describe('history that scales', () => {
  it('rolls the event log into sealed segments and reads across them', async () => {
    const repo = makeRepo();
    cli(['init', '--events-per-segment', '5'], { cwd: repo });
    const orc = openOrchestrator({ repo });
    await orc.createWorkstream('w');
    for (let i = 0; i < 12; i++) await orc.logEvent('a', 'tick', { n: i });
    const files = git(repo, 'ls-tree', '-r', '--name-only', 'orchestrator').split('\n');
    expect(files.filter((f) => f.startsWith('events/'))).toEqual(['events/000001.jsonl', 'events/000002.jsonl']);
    expect(git(repo, 'show', 'orchestrator:events/000001.jsonl').split('\n')).toHaveLength(5);
    const ticks = await orc.getEvents({ action: 'tick' });
    expect(ticks.map((e) => e.n)).toEqual([...Array(12).keys()]);
    expect((await orc.getEvents({ action: 'tick', last: 7 })).map((e) => e.n)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);
    // A sealed segment never changes.
    await orc.logEvent('a', 'tick', { n: 12 });
    rewriteTip(repo, (f) => f.set('events/000001.jsonl', f.get('events/000001.jsonl')!.replace('"n":0', '"n":99')));
    const r = cli(['verify'], { cwd: repo });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('changes the sealed event segment events/000001.jsonl');
  });

  it('archives done tasks and still shows them', async () => {
    const repo = makeRepo();
    let now = Date.parse('2026-01-10T12:00:00.000Z');
    const orc = openOrchestrator({ repo, clock: () => now });
    await orc.createWorkstream('w');
    const old = await orc.addTask('w', { title: 'old and done' });
    const dep = await orc.addTask('w', { title: 'done, but needed' });
    await orc.addTask('w', { title: 'waits for dep', after: [dep.id] });
    await orc.claimTask('w', old.id, 'a');
    await orc.completeTask('w', old.id, 'finished long ago');
    await orc.claimTask('w', dep.id, 'a');
    await orc.completeTask('w', dep.id, 'needed result');
    now += 30 * 86_400_000;
    const fresh = await orc.addTask('w', { title: 'done today' });
    await orc.claimTask('w', fresh.id, 'a');
    await orc.completeTask('w', fresh.id, 'today');
    const r = await orc.archive({ olderThanMs: 7 * 86_400_000 });
    expect(r).toEqual({ archived: 1, files: ['2026-01.jsonl'] });
    const state = JSON.parse(git(repo, 'show', 'orchestrator:state.json'));
    expect(state.workstreams.w.tasks.map((t: { id: string }) => t.id)).not.toContain(old.id);
    expect(JSON.parse(git(repo, 'show', 'orchestrator:archive/2026-01.jsonl'))).toMatchObject({ id: old.id, workstream: 'w', result: 'finished long ago' });
    expect(await orc.showTask('w', old.id)).toMatchObject({ id: old.id, archived: true, result: 'finished long ago' });
    expect((await orc.showTask('w', old.id)).history.map((h) => h.op?.op)).toEqual(['task.archive', 'task.complete', 'task.claim', 'task.add']);
    expect(cli(['t', 'show', 'w', old.id, '--json'], { cwd: repo }).json).toMatchObject({ archived: true });
    expect((await orc.archivedTasks({ workstream: 'w' })).map((t) => t.id)).toEqual([old.id]);
    expect((await orc.collect({ record: false })).completed_this_cycle.map((t) => t.task_id)).toEqual([old.id, dep.id, fresh.id]);
    expect(await orc.archive({ olderThanMs: 7 * 86_400_000 })).toEqual({ archived: 0, files: [] });
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);
  });
});

describe('background maintenance', () => {
  it('packs the loose objects of normal use, off the hot path, without tripping git gc', async () => {
    const repo = makeRepo();
    git(repo, 'config', '--unset', 'maintenance.loose-objects.auto');
    const saved = process.env.ORCHESTRATOR_MAINTENANCE;
    process.env.ORCHESTRATOR_MAINTENANCE = 'always';
    try {
      const orc = openOrchestrator({ repo });
      await orc.createWorkstream('w');
      for (let i = 0; i < 60; i++) await orc.addTask('w', { title: `t${i}` });
    } finally {
      if (saved === undefined) delete process.env.ORCHESTRATOR_MAINTENANCE;
      else process.env.ORCHESTRATOR_MAINTENANCE = saved;
    }
    // The packing runs detached; give it a moment.
    let packs = 0;
    for (let i = 0; i < 50 && packs === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      packs = fs.readdirSync(path.join(repo, '.git', 'objects', 'pack')).filter((f) => f.endsWith('.pack')).length;
    }
    expect(packs).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(repo, '.git', 'gc.log'))).toBe(false);
    expect(git(repo, 'fsck', '--strict', '--no-dangling')).toBe('');
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);
  });
});
