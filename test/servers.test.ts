/**
 * The real git servers the suite starts for itself: sshd + gitolite, nginx +
 * fcgiwrap + git http-backend, and the latency proxy in front of either.
 * Each is proven with plain git first (clone, push, fetch, hooks, auth), then
 * with the library coordinating two clones through it. Outside CI a server
 * whose programs are missing is skipped, saying why; in CI it fails.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { requireBinary, ServerUnavailableError } from './helpers/daemon.js';
import { startGitServer } from './helpers/git-server.js';
import { httpServerAvailable, type HttpServer } from './helpers/http-server.js';
import { startLatencyProxy } from './helpers/latency-proxy.js';
import { cleanup, GIT_ENV, tempDir } from './helpers/repos.js';
import { startSshServer, sshServerAvailable, withControlMaster, type SshServer } from './helpers/ssh-server.js';

afterAll(cleanup);

const sshAvailable = sshServerAvailable();
const httpAvailable = httpServerAvailable();
for (const a of [sshAvailable, httpAvailable]) if (a.skip) console.warn(`${a.reason}: skipped (in CI this fails)`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * git, asynchronously: the latency proxy runs on this process's event loop,
 * so a synchronous child would stall the traffic it waits for.
 */
function git(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, env: { ...GIT_ENV, GIT_TERMINAL_PROMPT: '0', ...env }, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: stdout.trim(), stderr: stderr.trim() }),
    );
  });
}

async function ok(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await git(cwd, args, env);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function commit(dir: string, file: string, text: string): Promise<string> {
  fs.writeFileSync(path.join(dir, file), text);
  await ok(dir, ['add', file]);
  await ok(dir, ['commit', '-q', '-m', `write ${file}`]);
  return ok(dir, ['rev-parse', 'HEAD']);
}

type Server = SshServer | HttpServer;

/** Clone, push main, clone again, push a branch from the second, fetch it in the first. */
async function provePlainGit(server: Server, repo: string): Promise<void> {
  await server.createRepo(repo);
  const root = tempDir();
  const a = await server.clone(repo, path.join(root, 'a'));
  const first = await commit(a, 'README.md', '# project\n');
  await ok(a, ['push', '-q', 'origin', 'HEAD:main']);
  expect(await ok(server.repoPath(repo), ['rev-parse', 'refs/heads/main'])).toBe(first);

  const b = await server.clone(repo, path.join(root, 'b'));
  expect(await ok(b, ['rev-parse', 'HEAD'])).toBe(first);
  await ok(b, ['switch', '-q', '-c', 'feature']);
  const second = await commit(b, 'feature.txt', 'feature\n');
  await ok(b, ['push', '-q', 'origin', 'feature']);

  await ok(a, ['fetch', '-q', 'origin']);
  expect(await ok(a, ['rev-parse', 'refs/remotes/origin/feature'])).toBe(second);
  expect(await ok(server.repoPath(repo), ['rev-parse', 'refs/heads/feature'])).toBe(second);
}

/** A new repository with one commit on main, and the clone that pushed it. */
async function seeded(server: Server, repo: string): Promise<{ clone: string; tip: string }> {
  await server.createRepo(repo);
  const clone = await server.clone(repo, path.join(tempDir(), 'seed'));
  const tip = await commit(clone, 'README.md', `# ${repo}\n`);
  await ok(clone, ['push', '-q', 'origin', 'HEAD:main']);
  return { clone, tip };
}

/** Two clones each add a task and claim the other's through the library; the remote holds each once. */
async function proveLibrary(server: Server, repo: string): Promise<void> {
  await seeded(server, repo);
  const root = tempDir();
  const [a, b] = await Promise.all([server.clone(repo, path.join(root, 'a')), server.clone(repo, path.join(root, 'b'))]);

  const orcA = openOrchestrator({ repo: a, agent: 'agent-a' });
  const orcB = openOrchestrator({ repo: b, agent: 'agent-b' });
  expect((await orcA.where()).remote).toBe('origin');
  await orcA.createWorkstream('w');
  const [fromA, fromB] = await Promise.all([orcA.addTask('w', { title: 'from a' }), orcB.addTask('w', { title: 'from b' })]);
  const [claimedByA, claimedByB] = await Promise.all([orcA.claimTask('w', fromB.id, 'agent-a'), orcB.claimTask('w', fromA.id, 'agent-b')]);
  expect(claimedByA.assigned_to).toBe('agent-a');
  expect(claimedByB.assigned_to).toBe('agent-b');
  orcA.close();
  orcB.close();

  const remote = server.repoPath(repo);
  const state = JSON.parse(await ok(remote, ['show', 'orchestrator:state.json']));
  const tasks = state.workstreams.w.tasks.map((t: { id: string; title: string; status: string; assigned_to: string }) => [t.title, t.status, t.assigned_to]);
  expect(tasks.sort()).toEqual([
    ['from a', 'in_progress', 'agent-b'],
    ['from b', 'in_progress', 'agent-a'],
  ]);
  const events = (await ok(remote, ['show', 'orchestrator:events.jsonl'])).split('\n').map((l) => JSON.parse(l));
  const count = (action: string, id: string) => events.filter((e) => e.action === action && e.task_id === id).length;
  for (const id of [fromA.id, fromB.id]) {
    expect(count('task_created', id)).toBe(1);
    expect(count('task_claimed', id)).toBe(1);
  }
  // Both clones end on the remote's commit once they read.
  await Promise.all([openOrchestrator({ repo: a }).status(), openOrchestrator({ repo: b }).status()]);
  const tip = await ok(remote, ['rev-parse', 'orchestrator']);
  expect(await ok(a, ['rev-parse', 'orchestrator'])).toBe(tip);
  expect(await ok(b, ['rev-parse', 'orchestrator'])).toBe(tip);
}

/** 16 clients at once (as many agents starting together) all get the refs. */
async function proveBurst(server: Server, repo: string): Promise<void> {
  const { tip } = await seeded(server, repo);
  const runs = await Promise.all(Array.from({ length: 16 }, () => git(tempDir(), ['ls-remote', server.url(repo), 'refs/heads/main'], server.env)));
  for (const r of runs) expect(r.stderr).toBe('');
  expect(runs.map((r) => r.stdout)).toEqual(Array(16).fill(`${tip}\trefs/heads/main`));
}

/** A pre-receive hook that refuses every push, saying who pushed. */
const REFUSE = (why: string) => `#!/bin/sh\necho "${why} (user \${GL_USER:-\$REMOTE_USER})" >&2\nexit 1\n`;

async function proveRefused(server: Server, repo: string, clone: string, expected: RegExp): Promise<void> {
  const before = await ok(server.repoPath(repo), ['rev-parse', 'refs/heads/main']);
  await commit(clone, 'refused.txt', `${Math.random()}\n`);
  const push = await git(clone, ['push', 'origin', 'HEAD:main']);
  expect(push.code).not.toBe(0);
  expect(push.stderr).toMatch(expected);
  expect(push.stderr).toContain('pre-receive hook declined');
  expect(await ok(server.repoPath(repo), ['rev-parse', 'refs/heads/main'])).toBe(before);
}

describe('the latency proxy', () => {
  let echo: net.Server;
  let echoPort: number;
  beforeAll(async () => {
    // Echoes every byte and ends when the client ends (half-close travels through).
    echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => echo.close(() => r())));

  function exchange(port: number, chunks: string[]): Promise<{ text: string; ms: number; firstMs: number }> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      let firstMs = -1;
      let text = '';
      const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
        for (const c of chunks) s.write(c);
        s.end();
      });
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        if (firstMs < 0) firstMs = performance.now() - t0;
        text += d;
      });
      s.on('end', () => resolve({ text, ms: performance.now() - t0, firstMs }));
      s.on('error', reject);
    });
  }

  it('delays each way, keeps order and half-closes, counts connections', async () => {
    const proxy = await startLatencyProxy({ target: echoPort, delayMs: 25, handshake: false });
    try {
      const chunks = Array.from({ length: 50 }, (_, i) => `chunk ${i};`);
      const r = await exchange(proxy.port, chunks);
      expect(r.text).toBe(chunks.join(''));
      // A round trip crosses the proxy twice: at least 2 x the one-way delay.
      expect(r.firstMs).toBeGreaterThanOrEqual(50);
      expect(proxy.connections).toBe(1);

      // With the handshake, a new connection reaches the target 3 x the delay after it was opened.
      proxy.handshake = true;
      expect((await exchange(proxy.port, ['again'])).firstMs).toBeGreaterThanOrEqual(100);
      expect(proxy.connections).toBe(2);
      proxy.resetCount();
      expect(proxy.connections).toBe(0);

      // The delay can change while running; 0 forwards at once.
      proxy.delayMs = 0;
      expect((await exchange(proxy.port, ['now'])).text).toBe('now');
      expect(proxy.delayMs).toBe(0);
      expect(() => (proxy.delayMs = -1)).toThrow(RangeError);
    } finally {
      await proxy.close();
    }
  });

  it('close() ends open connections and stops listening', async () => {
    const proxy = await startLatencyProxy({ target: echoPort, delayMs: 5 });
    const s = net.connect({ port: proxy.port, host: '127.0.0.1' });
    await new Promise((r) => s.once('connect', r));
    const closed = new Promise((r) => s.once('close', r));
    s.on('error', () => {});
    await new Promise((r) => setTimeout(r, 20));
    expect(proxy.open).toBe(1);
    await proxy.close();
    await closed;
    const refused = await new Promise<boolean>((resolve) => {
      const c = net.connect({ port: proxy.port, host: '127.0.0.1' });
      c.once('connect', () => (c.destroy(), resolve(false)));
      c.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('refuses a target that is not a port', async () => {
    await expect(startLatencyProxy({ target: 0 })).rejects.toThrow(RangeError);
  });
});

describe('server availability', () => {
  it('names the missing program and how to install it', () => {
    let error: unknown;
    try {
      requireBinary('ssh', 'no-such-sshd-for-this-test');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ServerUnavailableError);
    expect((error as ServerUnavailableError).code).toBe('SERVER_UNAVAILABLE');
    expect((error as ServerUnavailableError).missing).toEqual(['no-such-sshd-for-this-test']);
  });

  it.runIf(!!process.env.CI)('finds every program in CI', () => {
    expect([sshAvailable.reason, httpAvailable.reason]).toEqual([null, null]);
  });
});

describe.skipIf(sshAvailable.skip)('an ssh server (sshd + gitolite)', () => {
  let server: SshServer;
  beforeAll(async () => {
    server = await startSshServer();
  });
  afterAll(() => server?.close());

  it('answers as gitolite for the test key', async () => {
    const info = await new Promise<string>((resolve, reject) =>
      execFile('sh', ['-c', `${server.sshCommand} -p ${server.port} ${server.login}@127.0.0.1 info`], { encoding: 'utf8' }, (err, out, errOut) =>
        err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
      ),
    );
    expect(info).toMatch(/hello test, this is .* running gitolite3/);
  });

  it('clones, pushes and fetches with plain git', async () => {
    await provePlainGit(server, 'plain');
    expect(server.url('plain')).toBe(`ssh://${server.login}@127.0.0.1:${server.port}/plain`);
  });

  it('honours a pre-receive hook written into the repository, and gitolite setup keeps it', async () => {
    const { clone } = await seeded(server, 'hooked');
    const hook = path.join(server.repoPath('hooked'), 'hooks', 'pre-receive');
    fs.writeFileSync(hook, REFUSE('refused by the hook in the repository'), { mode: 0o755 });
    // gitolite re-links the hooks it manages on every setup; ours is not one of them.
    await server.gitolite('setup');
    expect(fs.lstatSync(hook).isSymbolicLink()).toBe(false);
    await proveRefused(server, 'hooked', clone, /refused by the hook in the repository \(user test\)/);
  });

  it("honours a pre-receive hook added gitolite's way (repo-specific hooks)", async () => {
    const { clone } = await seeded(server, 'gl-hooked');
    await server.createRepo('gl-other');
    await server.addRepoHook('gl-hooked', 'pre-receive', 'refuse-all', REFUSE('refused by a gitolite repo-specific hook'));
    // gitolite put its multi-hook driver in place of hooks/pre-receive, for that repository only.
    expect(fs.lstatSync(path.join(server.repoPath('gl-hooked'), 'hooks', 'pre-receive')).isSymbolicLink()).toBe(true);
    expect(fs.existsSync(path.join(server.repoPath('gl-other'), 'hooks', 'pre-receive'))).toBe(false);
    await proveRefused(server, 'gl-hooked', clone, /refused by a gitolite repo-specific hook \(user test\)/);
  });

  it('refuses a client without the key', async () => {
    await server.createRepo('locked');
    const r = await git(tempDir(), ['ls-remote', server.url('locked')], {
      GIT_SSH_COMMAND: server.sshCommand.replace(server.clientKey, path.join(tempDir(), 'no-such-key')),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied|Could not read from remote/);
  });

  it('serves a burst of 16 clients at once', async () => {
    await proveBurst(server, 'burst');
  });

  it('coordinates two clones through the library', async () => {
    await proveLibrary(server, 'board');
  });
});

describe.skipIf(sshAvailable.skip)('an ssh server behind the latency proxy', () => {
  let server: SshServer;
  beforeAll(async () => {
    server = await startSshServer({ delayMs: 25 });
  });
  afterAll(() => server?.close());

  it('serves git through the proxy, and one ControlMaster connection carries many commands', async () => {
    expect(server.url('slow')).toBe(`ssh://${server.login}@127.0.0.1:${server.proxy!.port}/slow`);
    const { tip } = await seeded(server, 'slow');
    expect(await ok(server.repoPath('slow'), ['rev-parse', 'main'])).toBe(tip);
    // createRepo runs on the server's side: the clone and the push came through the proxy.
    expect(server.proxy!.connections).toBe(2);

    // Every ssh command opens its own connection...
    server.proxy!.resetCount();
    for (let i = 0; i < 3; i++) await ok(tempDir(), ['ls-remote', server.url('slow')], server.env);
    expect(server.proxy!.connections).toBe(3);
    // ...unless a ControlMaster shares one.
    const control = tempDir('orc-ctl-');
    const env = { GIT_SSH_COMMAND: withControlMaster(server.sshCommand, control, 30) };
    server.proxy!.resetCount();
    for (let i = 0; i < 3; i++) await ok(tempDir(), ['ls-remote', server.url('slow')], env);
    expect(server.proxy!.connections).toBe(1);

    // The proxy has a thread of its own: a caller that blocks its event loop still gets through.
    const refs = execFileSync('git', ['ls-remote', server.url('slow')], { env: { ...GIT_ENV, ...server.env }, encoding: 'utf8' });
    expect(refs).toContain(`${tip}\trefs/heads/main`);
    // Stop the master before the server goes.
    await new Promise<void>((resolve) =>
      execFile('sh', ['-c', `${env.GIT_SSH_COMMAND} -O exit -p ${server.proxy!.port} ${server.login}@127.0.0.1`], () => resolve()),
    );
  });
});

describe.skipIf(httpAvailable.skip)('a smart HTTP server (nginx + fcgiwrap + git http-backend)', () => {
  let server: HttpServer;
  beforeAll(async () => {
    server = await startGitServer('http');
  });
  afterAll(() => server?.close());

  it('clones, pushes and fetches with plain git', async () => {
    await provePlainGit(server, 'plain');
    expect(server.url('plain')).toBe(`http://test:${server.password}@127.0.0.1:${server.port}/plain.git`);
  });

  it('refuses requests without the password', async () => {
    await seeded(server, 'private');
    const noAuth = await git(tempDir(), ['ls-remote', server.url('private', { auth: false })]);
    expect(noAuth.code).not.toBe(0);
    expect(noAuth.stderr).toMatch(/could not read Username|Authentication failed|401/);
    const wrong = await git(tempDir(), ['ls-remote', server.url('private').replace(server.password, 'wrong')]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/Authentication failed|401/);

    const refs = `http://127.0.0.1:${server.port}/private.git/info/refs?service=git-receive-pack`;
    expect((await fetch(refs)).status).toBe(401);
    const basic = `Basic ${Buffer.from(`test:${server.password}`).toString('base64')}`;
    const authed = await fetch(refs, { headers: { authorization: basic } });
    expect(authed.status).toBe(200);
    expect(authed.headers.get('content-type')).toBe('application/x-git-receive-pack-advertisement');
  });

  it('honours a pre-receive hook in the repository', async () => {
    const { clone } = await seeded(server, 'hooked');
    fs.writeFileSync(path.join(server.repoPath('hooked'), 'hooks', 'pre-receive'), REFUSE('refused over http'), { mode: 0o755 });
    await proveRefused(server, 'hooked', clone, /refused over http \(user test\)/);
  });

  it('serves a burst of 16 clients at once', async () => {
    await proveBurst(server, 'burst');
  });

  it('coordinates two clones through the library', async () => {
    await proveLibrary(server, 'board');
  });
});
