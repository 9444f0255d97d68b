/**
 * Faults: writers killed at any point (while syncing, while waiting for
 * their turn, while holding a lock file) never make an operation land
 * twice, and never hold up the writers after them.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { Mutex } from '../src/store/mutex.js';
import { casRef } from '../src/store/refs.js';
import { ownerLine } from '../src/store/lock-file.js';
import { BIN, cli, cliProcess } from './helpers/cli.js';
import { GIT_ENV, cleanup, git, makeCluster, makeRepo, tempDir } from './helpers/repos.js';

afterAll(cleanup);

/** The pid of a process that has exited (so provably gone). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** The identity line the store writes into lock files, for another pid of this machine. */
function ownerLineOf(pid: number): string {
  return ownerLine().replace(/^pid \d+/, `pid ${pid}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two clones of a remote reached through the git binary (so writers meet on the request board), with a
 * workstream `w` (and a task titled `task`, when given) that both have read.
 */
function boardCluster(task?: string) {
  const { clones, remote } = makeCluster(2);
  const [a, b] = clones;
  const env = { ORCHESTRATOR_TRANSPORT: 'git' };
  expect(cli(['ws', 'create', 'w'], { cwd: a, env }).code).toBe(0);
  if (task) expect(cli(['t', 'add', 'w', task], { cwd: a, env }).code).toBe(0);
  expect(cli(['t', 'ls', 'w'], { cwd: b, env }).code).toBe(0);
  return { a, b, remote, env };
}

/** The request board's refs on the remote: waiting requests and the carrier ref (the announce ref may stay). */
function waitingOnBoard(remote: string): string[] {
  return git(remote, 'for-each-ref', '--format=%(refname)', 'refs/orchestrator/requests/').split('\n').filter((x) => x && !x.endsWith('/announce'));
}

/**
 * A directory holding a `git` that runs `cases` (the arms of a shell `case " $* " in ... esac`, which may
 * fail a command as a server would) and otherwise the real git: put it first on PATH. `$dir` in the
 * arms names the directory (for counters and marks).
 */
function fakeGit(cases: (dir: string) => string): string {
  const bin = tempDir('fake-git-');
  const realGit = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();
  fs.writeFileSync(path.join(bin, 'git'), `#!/bin/sh\ncase " $* " in ${cases(bin)} esac\nexec '${realGit}' "$@"\n`, { mode: 0o755 });
  return bin;
}

const UNREACHABLE = `echo 'fatal: Could not read from remote repository.' >&2; exit 128`;

/** Two clones of a remote with a workstream `w`: agent-b online on the second, agent-a offline on the first. */
async function offlineCluster() {
  const { clones, remote } = makeCluster(2);
  await openOrchestrator({ repo: clones[0], agent: 'agent-a' }).createWorkstream('w');
  const b = openOrchestrator({ repo: clones[1], agent: 'agent-b' });
  await b.status();
  const offline = openOrchestrator({ repo: clones[0], agent: 'agent-a', offline: true });
  return { clones, remote, b, offline };
}

describe('an interrupted sync', () => {
  it('applies each operation exactly once when killed after pushing and before recording its progress', async () => {
    const { clones, remote, b, offline } = await offlineCluster();
    for (let i = 0; i < 5; i++) await offline.logEvent('agent-a', 'note', { seq: i });
    const t = await offline.addTask('w', { title: 'added offline' });
    await b.addTask('w', { title: 'added online' });
    const before = git(clones[0], 'rev-parse', 'orchestrator');
    const base = git(clones[0], 'merge-base', 'orchestrator', 'origin/orchestrator');
    expect(cli(['sync'], { cwd: clones[0] }).stdout).toContain('6 applied, 0 dropped');
    const synced = git(remote, 'rev-parse', 'orchestrator');
    // As if killed right after its last push: the progress refs still say nothing was done.
    git(clones[0], 'update-ref', 'refs/orchestrator/sync/orchestrator', before);
    git(clones[0], 'update-ref', 'refs/orchestrator/sync-done/orchestrator', base);
    const again = cli(['sync', '--json'], { cwd: clones[0] });
    expect(again.code).toBe(0);
    expect(again.json.dropped).toEqual([]);
    expect(again.json.applied).toHaveLength(6);
    // Nothing new was written: every operation was found on the remote by its id.
    expect(git(remote, 'rev-parse', 'orchestrator')).toBe(synced);
    const notes = cli(['events', '--action', 'note', '--last', '0', '--json'], { cwd: clones[1] }).json;
    expect(notes.map((e: { seq: number }) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect((await b.listTasks('w')).filter((x) => x.id === t.id)).toHaveLength(1);
    expect(cli(['verify'], { cwd: remote }).code).toBe(0);
  });

  it('resumes when killed after keeping its operations and before moving the branch', async () => {
    const { clones, remote, b, offline } = await offlineCluster();
    await offline.addTask('w', { title: 'offline' });
    await b.addTask('w', { title: 'online' });
    git(clones[0], 'fetch', 'origin');
    // As if killed right after keeping the local operations: the branch still holds them,
    // and no commit is marked done yet.
    git(clones[0], 'update-ref', 'refs/orchestrator/sync/orchestrator', git(clones[0], 'rev-parse', 'orchestrator'));
    const r = cli(['sync', '--json'], { cwd: clones[0] });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json.dropped).toEqual([]);
    expect(r.json.applied.map((x: { op: string }) => x.op)).toEqual(['task.add']);
    expect((await b.listTasks('w')).map((x) => x.title).sort()).toEqual(['offline', 'online']);
    expect(git(clones[0], 'rev-parse', 'orchestrator')).toBe(git(remote, 'rev-parse', 'orchestrator'));
    expect(cli(['verify'], { cwd: remote }).code).toBe(0);
  });

  it('applies every operation exactly once when killed again and again, and says so at the end', async () => {
    const { clones, remote, b, offline } = await offlineCluster();
    for (let i = 0; i < 40; i++) await offline.logEvent('agent-a', 'note', { seq: i });
    for (let i = 0; i < 5; i++) await offline.addTask('w', { title: `offline ${i}` });
    await b.addTask('w', { title: 'online' });
    for (const ms of [120, 250, 400, 550, 700, 900]) {
      const child = spawn(process.execPath, [BIN, 'sync'], { cwd: clones[0], env: GIT_ENV, stdio: 'ignore' });
      const closed = new Promise((r) => child.once('close', r));
      await sleep(ms);
      child.kill('SIGKILL');
      await closed;
    }
    const r = cli(['sync', '--json'], { cwd: clones[0] });
    expect(r.code).toBe(0);
    expect(r.json.dropped).toEqual([]);
    const notes = cli(['events', '--action', 'note', '--last', '0', '--json'], { cwd: clones[1] }).json as Array<{ seq: number }>;
    expect(notes.map((e) => e.seq).sort((x, y) => x - y)).toEqual([...Array(40).keys()]);
    const titles = (await b.listTasks('w')).map((x) => x.title).sort();
    expect(titles).toEqual(['offline 0', 'offline 1', 'offline 2', 'offline 3', 'offline 4', 'online']);
    expect(cli(['events', '--action', 'sync_dropped', '--json'], { cwd: clones[1] }).json).toEqual([]);
    expect(cli(['verify'], { cwd: remote }).code).toBe(0);
  });
});

describe('writers that died', () => {
  it('passes over a waiter whose process is gone at once, not after its ticket ages out', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'w.writer.lock');
    const holder = new Mutex(file);
    expect(await holder.acquire(0)).toBe('taken');
    // A dead waiter queued first (its ticket is older than ours)...
    const stamp = String(Math.floor((performance.timeOrigin + performance.now()) * 1000) - 5_000_000).padStart(17, '0');
    fs.writeFileSync(`${file}.wait-${stamp}-${deadPid()}-x`, ownerLineOf(deadPid()));
    const waiting = new Mutex(file).acquire(3000);
    await sleep(100);
    holder.release();
    // ...does not keep the live one waiting: it takes the turn, well inside 3 s.
    expect(await waiting).toBe('taken');
    expect(fs.readdirSync(dir).filter((n) => n.includes('.wait-'))).toEqual([]);
  });

  it.each([
    ['a holder that died', () => ownerLineOf(deadPid()), 0],
    ['an empty file older than a moment', () => '', 2500],
  ])('breaks a writer turn left by %s at once', async (_label, content, ageMs) => {
    const file = path.join(tempDir(), 'w.writer.lock');
    fs.writeFileSync(file, content());
    if (ageMs) fs.utimesSync(file, new Date(Date.now() - ageMs), new Date(Date.now() - ageMs));
    expect(await new Mutex(file).acquire(1000)).toBe('taken');
  });

  it('waits for a live holder of the turn, and says who holds a ref lock truthfully', async () => {
    const file = path.join(tempDir(), 'w.writer.lock');
    const holder = new Mutex(file);
    expect(await holder.acquire(0)).toBe('taken');
    expect(await new Mutex(file).acquire(300)).toBe('timeout');
    holder.release();
    const repo = makeRepo();
    const tip = git(repo, 'rev-parse', 'main');
    const lock = path.join(repo, '.git', 'refs', 'heads', 'main.lock');
    // A lock of a live process of ours (this one): refused, naming it as running.
    fs.writeFileSync(lock, ownerLineOf(process.pid));
    const repoPaths = { gitdir: path.join(repo, '.git'), commondir: path.join(repo, '.git'), workdir: repo };
    const err = await casRef(repoPaths, { ref: 'refs/heads/main', expected: tip, next: tip, lockWaitMs: 200 }).catch((e) => e);
    expect(err.code).toBe('CONTENTION');
    expect(err.message).toContain(`held by process ${process.pid} on this machine, which is running`);
    // Left by a process that is gone: broken at once.
    fs.writeFileSync(lock, ownerLineOf(deadPid()));
    await expect(casRef(repoPaths, { ref: 'refs/heads/main', expected: tip, next: tip, lockWaitMs: 200 })).resolves.toBe(true);
    // A git process's lock (an object id), unchanged for a few seconds: broken.
    fs.writeFileSync(lock, tip + '\n');
    fs.utimesSync(lock, new Date(Date.now() - 3000), new Date(Date.now() - 3000));
    await expect(casRef(repoPaths, { ref: 'refs/heads/main', expected: tip, next: tip, lockWaitMs: 200 })).resolves.toBe(true);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('keeps every write going when writers sharing a clone are killed while they wait', async () => {
    const { clones, remote } = makeCluster(1);
    const repo = clones[0];
    const orc = openOrchestrator({ repo, agent: 'seed' });
    await orc.createWorkstream('w');
    for (let i = 0; i < 12; i++) await orc.addTask('w', { title: `t${i}` });
    // Writers that will be killed, and writers that must finish.
    const victims = Array.from({ length: 4 }, (_, i) => spawn(process.execPath, [BIN, 't', 'next', 'w', `victim-${i}`], { cwd: repo, env: GIT_ENV, stdio: 'ignore' }));
    await sleep(60);
    for (const v of victims) v.kill('SIGKILL');
    const survivors = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const c = spawn(process.execPath, [BIN, 't', 'next', 'w', `agent-${i}`, '--json'], { cwd: repo, env: GIT_ENV });
          let out = '';
          c.stdout.on('data', (d) => (out += d));
          c.on('close', (code) => resolve({ code, out }));
        }),
      ),
    );
    expect(survivors.map((s) => s.code)).toEqual([0, 0, 0, 0]);
    const claimed = survivors.map((s) => JSON.parse(s.out).id);
    expect(new Set(claimed).size).toBe(4);
    const state = JSON.parse(git(remote, 'show', 'orchestrator:state.json'));
    const byAgent = state.workstreams.w.tasks.filter((t: { assigned_to: string | null }) => t.assigned_to?.startsWith('agent-'));
    expect(byAgent.map((t: { id: string }) => t.id).sort()).toEqual([...claimed].sort());
    expect(cli(['verify'], { cwd: remote }).code).toBe(0);
  });
});

describe('writers sharing a clone whose operation lands nowhere', () => {
  it.each([
    ['in process', {}],
    ['through the git binary (judged on a fetch)', { ORCHESTRATOR_TRANSPORT: 'git' }],
  ] as Array<[string, Record<string, string>]>)('hear it from the writer whose turn it was, through the spool: a claim that finds nothing, and a refusal (remote reached %s)', async (_, transport) => {
    const { clones, remote } = makeCluster(1);
    const repo = clones[0];
    // In process, clones of a remote on this file system share the turn (beside the remote); through git, each clone has its own.
    const coordination = transport.ORCHESTRATOR_TRANSPORT ? path.join(repo, '.git', 'orchestrator') : path.join(remote, 'orchestrator');
    const orc = openOrchestrator({ repo, agent: 'seed' });
    await orc.createWorkstream('w');
    const task = await orc.addTask('w', { title: 'the only one' });
    await orc.getNextTask('w', 'owner');
    orc.close();
    const tip = git(remote, 'rev-parse', 'orchestrator');
    // What a refusal says when the writer judges it itself.
    const own = cli(['t', 'claim', 'w', task.id, 'agent-x'], { cwd: repo, env: transport });
    expect(own.code).not.toBe(0);
    // The clone's turn is held: every writer leaves its operation in the spool.
    const turn = new Mutex(path.join(coordination, 'orchestrator.writer.lock'));
    expect(await turn.acquire(0)).toBe('taken');
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const c = spawn(process.execPath, [BIN, ...args], { cwd: repo, env: { ...GIT_ENV, ...transport, ORCHESTRATOR_TRACE: '1' } });
        let out = '';
        let err = '';
        c.stdout.on('data', (d) => (out += d));
        c.stderr.on('data', (d) => (err += d));
        c.on('close', (code) => resolve({ code, out, err }));
      });
    const writers = [run(['--json', 't', 'next', 'w', 'agent-1']), run(['t', 'claim', 'w', task.id, 'agent-2']), run(['t', 'claim', 'w', task.id, 'agent-3'])];
    const spool = path.join(coordination, 'requests', 'orchestrator');
    const waiting = () => (fs.existsSync(spool) ? fs.readdirSync(spool).filter((n) => n.endsWith('.json')).length : 0);
    for (let i = 0; i < 200 && waiting() < 3; i++) await sleep(50);
    expect(waiting()).toBe(3);
    turn.release();
    const [next, claim2, claim3] = await Promise.all(writers);
    expect(next.code).toBe(0);
    expect(JSON.parse(next.out)).toBeNull();
    for (const c of [claim2, claim3]) {
      expect(c.code).toBe(own.code);
      expect(c.err.split('\n').filter((l) => !l.startsWith('[orchestrator ')).join('\n')).toBe(own.stderr.replace(/agent-x/g, c === claim2 ? 'agent-2' : 'agent-3'));
    }
    // One of them took the turn and judged all three; the other two heard it through the spool.
    expect([next, claim2, claim3].filter((w) => w.err.includes('answered by another writer'))).toHaveLength(2);
    // Through git, the one that judged them fetched first (its own view may have been behind).
    if (transport.ORCHESTRATOR_TRANSPORT) expect([next, claim2, claim3].filter((w) => w.err.includes('fetch: fetched'))).toHaveLength(1);
    expect(git(remote, 'rev-parse', 'orchestrator')).toBe(tip);
    expect(fs.readdirSync(spool)).toEqual([]);
  });
});

describe('what a clone\'s writers learned of the remote, kept between processes', () => {
  it('a command right after a lost race publishes without racing; one seconds later pushes at once', () => {
    const { a, b, env } = boardCluster();
    const traced = { ...env, ORCHESTRATOR_TRACE: '1' };
    expect(cli(['t', 'add', 'w', 'one'], { cwd: a, env }).code).toBe(0);
    // B builds on the tip it knows, which A moved on: its push loses.
    const lost = cliProcess(['t', 'add', 'w', 'two'], { cwd: b, env: traced });
    expect(lost.code, lost.stderr).toBe(0);
    expect(lost.stderr).toContain('push: rejected');
    // The next command on B is a new process, and knows the remote was contended a moment ago.
    const next = cliProcess(['t', 'add', 'w', 'three'], { cwd: b, env: traced });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain('published without racing');
    // What B keeps, and how old a sighting may be: seconds later, a writer alone pushes at once again.
    const hints = [path.join(b, '.git', 'orchestrator', 'orchestrator.hints.json')].find((f) => fs.existsSync(f));
    expect(hints).toBeDefined();
    const kept = JSON.parse(fs.readFileSync(hints!, 'utf8'));
    expect(kept.competitionSeen).toBeGreaterThan(Date.now() - 60_000);
    fs.writeFileSync(hints!, JSON.stringify({ ...kept, competitionSeen: Date.now() - 10_000 }));
    const alone = cliProcess(['t', 'add', 'w', 'four'], { cwd: b, env: traced });
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stderr).not.toContain('published');
    expect(alone.stderr).toContain('push: ok');
    expect(cli(['verify'], { cwd: a, env }).code).toBe(0);
  });
  it('ages out: a command started on an earlier sighting keeps that sighting\'s time; a file that is not hints is ignored', () => {
    const { a, b, env } = boardCluster();
    const traced = { ...env, ORCHESTRATOR_TRACE: '1' };
    expect(cli(['t', 'add', 'w', 'one'], { cwd: b, env }).code).toBe(0);
    const hints = path.join(b, '.git', 'orchestrator', 'orchestrator.hints.json');
    const seen = Date.now() - 3000;
    fs.writeFileSync(hints, JSON.stringify({ competitionSeen: seen, pushMs: 100, fetchMs: 100, landMs: 300 }));
    const hinted = cliProcess(['t', 'add', 'w', 'two'], { cwd: b, env: traced });
    expect(hinted.code, hinted.stderr).toBe(0);
    expect(hinted.stderr).toContain('published without racing');
    // It met nobody: the sighting it started on is kept as it was, not renewed by each command.
    expect(JSON.parse(fs.readFileSync(hints, 'utf8')).competitionSeen).toBe(seen);
    for (const junk of ['null', '[1]', '{"competitionSeen":', '"x"']) {
      fs.writeFileSync(hints, junk);
      const r = cliProcess(['--json', 't', 'add', 'w', `after ${junk}`], { cwd: b, env: traced });
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toMatchObject({ title: `after ${junk}` });
    }
    expect(cli(['verify'], { cwd: a, env }).code).toBe(0);
  });
});

describe('a remote whose refs change while a fetch lists them', () => {
  // A server that reads a ref it is rewriting at that moment advertises it as 0000... and the
  // fetch fails "not our ref": a fetch moments later succeeds, so the command must not fail.
  it('fetches again instead of failing the command', () => {
    const { clones } = makeCluster(2);
    const [a, b] = clones;
    const env = { ORCHESTRATOR_TRANSPORT: 'git' };
    expect(cli(['ws', 'create', 'w'], { cwd: a, env }).code).toBe(0);
    const bin = fakeGit((dir) => `*" fetch "*) if [ ! -e '${dir}/failed-once' ]; then : > '${dir}/failed-once'; echo 'fatal: git upload-pack: not our ref 0000000000000000000000000000000000000000' >&2; exit 128; fi;;`);
    const failed = path.join(bin, 'failed-once');
    const r = cli(['--json', 't', 'add', 'w', 'after a flaky fetch'], { cwd: b, env: { ...env, PATH: `${bin}:${process.env.PATH}` } });
    expect(fs.existsSync(failed)).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    expect((cli(['--json', 't', 'ls', 'w'], { cwd: a, env }).json as Array<{ title: string }>).map((t) => t.title)).toEqual(['after a flaky fetch']);
  });
});

describe('a writer whose remote fails after it published its operation', () => {
  it('withdraws it before saying it failed, so that no other writer carries it later', () => {
    const { a, b, remote, env } = boardCluster();
    // B is now behind: its push loses, and it publishes its operation on the board while it fetches.
    expect(cli(['t', 'add', 'w', 'from a'], { cwd: a, env }).code).toBe(0);
    // Every fetch fails as an unreachable server does; pushes go through.
    const bin = fakeGit(() => `*" fetch "*) ${UNREACHABLE};;`);
    const r = cli(['t', 'add', 'w', 'from b'], { cwd: b, env: { ...env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Could not read from remote repository/);
    // Nothing of B's is left waiting on the board, and A's next write carries nothing.
    expect(waitingOnBoard(remote)).toEqual([]);
    expect(cli(['t', 'add', 'w', 'a again'], { cwd: a, env }).code).toBe(0);
    expect((cli(['--json', 't', 'ls', 'w'], { cwd: a, env }).json as Array<{ title: string }>).map((t) => t.title)).toEqual(['from a', 'a again']);
  });
});

describe('a writer whose remote fails before it could withdraw its operation', () => {
  it('says the outcome is unknown instead of that it failed: another writer may still carry it', () => {
    const { a, b, remote, env } = boardCluster();
    expect(cli(['t', 'add', 'w', 'from a'], { cwd: a, env }).code).toBe(0);
    // Fetches fail as an unreachable server does; B's first two pushes (its losing chain, its
    // publication) go through, and then the server is out of reach for pushes too.
    const bin = fakeGit((dir) => `*" fetch "*) ${UNREACHABLE};; *" push "*) n=$(($(cat '${dir}/pushes' 2>/dev/null || echo 0) + 1)); echo $n > '${dir}/pushes'; if [ $n -ge 3 ]; then ${UNREACHABLE}; fi;;`);
    const r = cli(['--json', 't', 'add', 'w', 'from b'], { cwd: b, env: { ...env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code).toBe(5);
    expect(r.json).toMatchObject({ code: 'REMOTE', data: { outcome: 'unknown' } });
    expect((r.json as { error: string }).error).toMatch(/could not be withdrawn .* may still carry it/);
    // It is still on the board (and B still named its carrier), and the next writer that looks carries
    // it: why the caller must not take it for failed.
    expect(waitingOnBoard(remote).filter((ref) => !ref.endsWith('/carrier'))).toHaveLength(1);
    expect(cli(['t', 'add', 'w', 'b again'], { cwd: b, env }).code).toBe(0);
    expect((cli(['--json', 't', 'ls', 'w'], { cwd: a, env }).json as Array<{ title: string }>).map((t) => t.title).sort()).toEqual(['b again', 'from a', 'from b']);
    expect(waitingOnBoard(remote)).toEqual([]);
  });
});

describe('a carrier that died before it carried', () => {
  it('is taken over: a waiting writer becomes the carrier and carries every request on the board', () => {
    const { a, b, remote, env } = boardCluster();
    // B is behind now: its first push loses, and it publishes its operation on the board.
    expect(cli(['t', 'add', 'w', 'from a'], { cwd: a, env }).code).toBe(0);
    // A writer published a request, took the carrier ref, and died before it pushed a chain (forged as
    // that writer would have made them: a root commit with an empty tree holding the operation as data).
    const board = 'refs/orchestrator/requests/orchestrator';
    const record = { op_id: 'feedfacefeedface', intent: { name: 'task.add', input: { input: { workstream: 'w', title: 'from the dead carrier', description: '', priority: 5 }, who: { actor: 'ghost', staleMs: 300_000 } } }, base: null, created: Date.now() };
    const tree = git(remote, 'hash-object', '-t', 'tree', '-w', '/dev/null');
    const request = git(remote, 'commit-tree', tree, '-m', `orchestrator request ${record.op_id}\n\nOrchestrator-Op: ${JSON.stringify(record)}\n`);
    git(remote, 'update-ref', `${board}/${record.op_id}`, request);
    git(remote, 'update-ref', `${board}/carrier`, request);
    const started = Date.now();
    const r = cliProcess(['--json', 't', 'add', 'w', 'from b'], { cwd: b, env: { ...env, ORCHESTRATOR_TRACE: '1' } });
    expect(r.code, r.stderr).toBe(0);
    // B waited for that carrier, saw it stand still, and took its place (its own request named the carrier then).
    expect(r.stderr).toMatch(/waiting for the carrier/);
    expect(r.stderr).toMatch(/carrier now \(the last one stood still\)/);
    expect(Date.now() - started).toBeLessThan(30_000);
    const titles = (cli(['--json', 't', 'ls', 'w'], { cwd: a, env }).json as Array<{ title: string }>).map((t) => t.title);
    expect(titles.sort()).toEqual(['from a', 'from b', 'from the dead carrier']);
    // Nothing is left waiting, and nobody is named carrier.
    expect(waitingOnBoard(remote)).toEqual([]);
  });
});

describe('a carrier whose own operation changes nothing', () => {
  it('hands the turn back before its process exits', () => {
    const { a, b, remote, env } = boardCluster('the only task');
    // A takes the only task; B, behind, claims it on its stale tip, loses the push, publishes and
    // becomes the carrier; on the fresh tip there is nothing left to claim.
    expect(cli(['t', 'next', 'w', 'agent-a'], { cwd: a, env }).code).toBe(0);
    const r = cliProcess(['--json', 't', 'next', 'w', 'agent-b'], { cwd: b, env: { ...env, ORCHESTRATOR_TRACE: '1' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/published [0-9a-f]+: ok, carrier/);
    expect(r.json).toBeNull();
    // Nobody is left named carrier (the next writers would wait for one that never comes), and nothing waits.
    expect(waitingOnBoard(remote)).toEqual([]);
  });
});
