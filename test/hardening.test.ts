/**
 * Regression tests for attacks and accidents found in review: forged
 * imports and future-dated operations through the hook, time running
 * backwards, pushes over unpushed local commits, hooks configured outside
 * the repository, abandoned waiter tickets, loopback addresses.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import type { OpBase } from '../src/domain/op.js';
import { BIN, cli } from './helpers/cli.js';
import { GIT_ENV, cleanup, git, makeCluster, makeRepo, tempDir } from './helpers/repos.js';

afterAll(cleanup);

function push(repo: string, ...args: string[]): string {
  try {
    execFileSync('git', ['push', ...args], { cwd: repo, env: GIT_ENV, stdio: 'pipe' });
    return '';
  } catch (err) {
    return String((err as { stderr: Buffer }).stderr);
  }
}

/** A commit with the given files and message on top of `parent`, made with git plumbing. */
function plumbingCommit(repo: string, parent: string, files: Record<string, string>, message: string, author = 'mallory'): string {
  const index = path.join(tempDir(), 'index');
  const env = { ...GIT_ENV, GIT_INDEX_FILE: index, GIT_AUTHOR_NAME: author };
  for (const [name, content] of Object.entries(files)) {
    const oid = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repo, input: content, env }).toString().trim();
    execFileSync('git', ['update-index', '--add', '--cacheinfo', `100644,${oid},${name}`], { cwd: repo, env });
  }
  const tree = execFileSync('git', ['write-tree'], { cwd: repo, env }).toString().trim();
  return execFileSync('git', ['commit-tree', tree, '-p', parent, '-m', message], { cwd: repo, env }).toString().trim();
}

describe('the hook against forgeries found in review', () => {
  it('refuses an import that would rewrite a branch with data', async () => {
    const { remote, clones } = makeCluster(1);
    cli(['hooks', 'install', remote], { cwd: remote });
    const orc = openOrchestrator({ repo: clones[0], agent: 'alice' });
    await orc.createWorkstream('w');
    const t = await orc.addTask('w', { title: 'mine' });
    await orc.claimTask('w', t.id, 'alice');
    const tip = git(clones[0], 'rev-parse', 'orchestrator');
    const state = JSON.parse(git(clones[0], 'show', 'orchestrator:state.json'));
    state.workstreams.w.tasks[0].assigned_to = 'mallory';
    const at = new Date().toISOString();
    const forged = plumbingCommit(clones[0], tip, { 'state.json': JSON.stringify(state, null, 2) + '\n', 'events.jsonl': '' }, `import x\n\nOrchestrator-Op: {"op":"import","at":"${at}","by":"mallory","source":"x","force":true}\n`);
    const out = push(clones[0], 'origin', `${forged}:refs/heads/orchestrator`);
    expect(out).toContain(`refused: commit ${forged.slice(0, 8)} on orchestrator replaces a branch that has data by an import`);
    expect(git(remote, 'rev-parse', 'orchestrator')).toBe(tip);
    // verify, which allows forced imports, still finds this one is not what the importer writes.
    git(clones[0], 'update-ref', 'refs/heads/orchestrator', forged);
    const v = cli(['verify', '--offline'], { cwd: clones[0] });
    expect(v.code).toBe(4);
    expect(v.stderr).toMatch(/not in canonical form|does not end with/);
  });

  it('refuses operation times ahead of the server clock (no stealing locks early)', async () => {
    const { remote, clones } = makeCluster(2);
    cli(['hooks', 'install', remote], { cwd: remote });
    const alice = openOrchestrator({ repo: clones[0], agent: 'alice' });
    await alice.lock('db', 'alice', { ttlMs: 600_000 });
    // mallory's clock runs 20 minutes fast: the lock looks expired to her.
    const mallory = openOrchestrator({ repo: clones[1], agent: 'mallory', clock: () => Date.now() + 20 * 60_000 });
    const err = await mallory.lock('db', 'mallory').catch((e) => e);
    expect(err.code).toBe('REMOTE');
    expect(err.message).toContain("ahead of this server's clock");
    expect(JSON.parse(git(remote, 'show', 'orchestrator:locks/db.json')).agent).toBe('alice');
  });

  it('a clock a day ahead decides only for its own operations, and verify names its commit', async () => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo, agent: 'normal' });
    await orc.createWorkstream('w');
    // One writer whose clock runs a day ahead.
    const fast = openOrchestrator({ repo, agent: 'fast', clock: () => Date.now() + 86_400_000 });
    await fast.addTask('w', { title: 'from the future' });
    // Time is not frozen for the others: a 1-second lock taken now is free again after the skew margin.
    await orc.lock('db', 'alice', { ttlMs: 1000 });
    const held = await orc.lock('db', 'bob').catch((e) => e);
    expect(held.code).toBe('LOCK_HELD');
    expect(held.message).toMatch(/\(1s left\)|expired/);
    // lock list agrees with acquire: the lock ends in about a second, not in a day.
    const [listed] = await orc.listLocks();
    expect(Date.parse(listed.expires_at) - Date.now()).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 3100));
    await expect(orc.lock('db', 'bob')).resolves.toMatchObject({ agent: 'bob' });
    // Commits after the fast one are earlier than it: verify names the fast commit.
    const r = cli(['verify'], { cwd: repo });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('ahead of the commits written after it');
    expect(r.stderr).toContain(git(repo, 'log', '--format=%h', '-1', '--author=fast', 'orchestrator').slice(0, 7));
  });

  it('verify flags a commit dated ahead of its own clock, and accepts clocks that differ within the margin', async () => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo });
    await orc.createWorkstream('w');
    // Within the skew margin, time may step back between writers.
    await openOrchestrator({ repo, clock: () => Date.now() + 800 }).addTask('w', { title: 'a' });
    await openOrchestrator({ repo, clock: () => Date.now() - 800 }).addTask('w', { title: 'b' });
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);
    // A commit a year ahead, with nothing after it, is judged by the verifier's clock.
    await openOrchestrator({ repo, clock: () => Date.now() + 365 * 86_400_000 }).addTask('w', { title: 'c' });
    const r = cli(['verify'], { cwd: repo });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("ahead of this machine's clock");
  });
});

describe('transports found in review', () => {
  it('pushes local commits made offline with the next online change, over a remote on this file system', async () => {
    const { remote, clones } = makeCluster(1);
    cli(['ws', 'create', 'w'], { cwd: clones[0] });
    expect(cli(['t', 'add', 'w', 'offline', '--offline'], { cwd: clones[0] }).code).toBe(0);
    const r = cli(['t', 'add', 'w', 'online'], { cwd: clones[0] });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(git(remote, 'log', '--format=%s', 'orchestrator').split('\n').slice(0, 2).map((s) => s.split(' ')[1])).toEqual(['add', 'add']);
    expect(git(remote, 'rev-list', '--count', 'orchestrator')).toBe('3');
  });

  it('honours a receive hook configured in global git config', async () => {
    const { remote, clones } = makeCluster(1);
    const hooks = tempDir();
    fs.writeFileSync(path.join(hooks, 'pre-receive'), '#!/bin/sh\ncat >/dev/null\necho GLOBAL-HOOK-RAN >&2\nexit 1\n', { mode: 0o755 });
    const global = path.join(tempDir(), 'gitconfig');
    fs.writeFileSync(global, `[core]\n\thooksPath = ${hooks}\n`);
    const r = cli(['ws', 'create', 'w'], { cwd: clones[0], env: { GIT_CONFIG_GLOBAL: global } });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('GLOBAL-HOOK-RAN');
    expect(() => git(remote, 'rev-parse', '--verify', 'orchestrator')).toThrow();
  });

  it('installs the hook where git runs it when core.hooksPath is relative', () => {
    const dir = makeRepo();
    git(dir, 'config', 'core.hooksPath', 'myhooks');
    expect(cli(['hooks', 'install', dir], { cwd: dir }).code).toBe(0);
    expect(fs.existsSync(path.join(dir, '.git', 'myhooks', 'pre-receive'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'myhooks', 'pre-receive'))).toBe(false);
  });
});

describe('writer lock and server found in review', () => {
  it('an abandoned waiter ticket does not hold writers up', () => {
    const repo = makeRepo();
    cli(['ws', 'create', 'w'], { cwd: repo });
    const dir = path.join(repo, '.git', 'orchestrator');
    const ticket = path.join(dir, `orchestrator.writer.lock.wait-00000000000000001-4242-otherhost`);
    fs.writeFileSync(ticket, '');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(ticket, old, old);
    const started = Date.now();
    expect(cli(['t', 'add', 'w', 'quick'], { cwd: repo }).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(fs.existsSync(ticket)).toBe(false);
  });

  it('serves on any loopback address it binds, with the global options', async () => {
    const repo = makeRepo();
    const child = spawn(process.execPath, [BIN, '--stale-after', '60', 'serve', '--host', '127.0.0.2', '--port', '0'], { cwd: repo, env: GIT_ENV });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c) => {
          out += c;
          const m = /dashboard: (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      const health = await new Promise<{ status: number; body: any }>((resolve, reject) => {
        http.get(url + 'api/health', (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(t) }));
        }).on('error', reject);
      });
      expect(health.status).toBe(200);
      expect(health.body.stale_after_ms).toBe(60_000);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
