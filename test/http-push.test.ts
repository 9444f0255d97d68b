/**
 * Pushes over smart HTTP in process (src/store/http-push.ts), through a
 * proxy that makes chosen requests misbehave (test/helpers/http-fault-proxy.ts):
 * answers a push session does not take leave the write to git push, a
 * kept-alive connection closed under it is opened again, and a push whose
 * answer was lost lands exactly once, whether the server applied it or not.
 * Over https too, trusting the run's CA through GIT_SSL_CAINFO as git does.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { cliAsync } from './helpers/cli.js';
import { cloneInto } from './helpers/daemon.js';
import { startFaultProxy, type FaultProxy, type Misbehaviour } from './helpers/http-fault-proxy.js';
import { httpServerAvailable, startHttpServer, type HttpServer } from './helpers/http-server.js';
import { runClaimers } from './helpers/race.js';
import { cleanup, GIT_ENV, tempDir } from './helpers/repos.js';

afterAll(cleanup);

const http = httpServerAvailable();
const https = httpServerAvailable({ tls: true });

function git(cwd: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout.trim()))),
  );
}

/** One pkt-line. */
function pkt(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body]);
}

/** A push's answer as receive-pack gives it with side-band-64k: `bands` are [band, text] pairs, then a flush. */
function sideband(...bands: Array<[number, string]>): Buffer {
  return Buffer.concat([...bands.map(([b, text]) => pkt(Buffer.concat([Buffer.from([b]), Buffer.from(text)]))), Buffer.from('0000')]);
}

/** A 200 answer to a push, with receive-pack's media type and `body`, that the server never saw. */
function answer(body: Buffer): Misbehaviour {
  return { kind: 'status', status: 200, headers: { 'Content-Type': 'application/x-git-receive-pack-result' }, body };
}

/** The titles of the tasks the remote's events record as created, in order. */
async function created(bare: string): Promise<string[]> {
  const events = (await git(bare, 'show', 'orchestrator:events.jsonl')).split('\n').map((l) => JSON.parse(l));
  return events.filter((e) => e.action === 'task_created').map((e) => e.title);
}

/** Requests left on the remote's board (the announce ref is not one). */
async function requestsLeft(bare: string): Promise<string[]> {
  return (await git(bare, 'for-each-ref', '--format=%(refname)', 'refs/orchestrator/requests/')).split('\n').filter((r) => r && !r.endsWith('/announce'));
}

/** What an operation threw (its code), or null when it succeeded. */
function failure(p: Promise<unknown>): Promise<{ code: string; message: string } | null> {
  return p.then(
    () => null,
    (err: { code: string; message: string }) => err,
  );
}

/** Requests of an in-process push (User-Agent git/orchestrator), and of git's own. */
const bySession = { by: 'session' } as const;
const byGit = { by: 'git' } as const;

describe.skipIf(http.skip)('in-process pushes over smart HTTP, through faults', () => {
  let server: HttpServer;
  let proxy: FaultProxy;
  beforeAll(async () => {
    server = await startHttpServer();
    proxy = await startFaultProxy({ target: server.port });
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
  });

  let repos = 0;
  /** A fresh remote, a clone of it through the proxy, a workstream "w" on it; the proxy's record starts here. */
  async function board(): Promise<{ dir: string; bare: string }> {
    const name = `r${repos++}`;
    await server.createRepo(name);
    const dir = await cloneInto(proxy.url(server.url(name)), path.join(tempDir(), name), server.env);
    const orc = openOrchestrator({ repo: dir, agent: 'seed' });
    await orc.createWorkstream('w');
    orc.close();
    proxy.reset();
    return { dir, bare: server.repoPath(name) };
  }

  /** The clone's history verifies, and the remote's objects are whole (requests the board carried leave dangling commits). */
  async function verified(dir: string, bare: string): Promise<void> {
    const v = await cliAsync(['verify'], { cwd: dir });
    expect(v.code, v.stderr + v.stdout).toBe(0);
    expect(await git(bare, 'fsck', '--strict', '--no-dangling')).toBe('');
  }

  for (const [what, fault] of [
    ['a redirect', { kind: 'status', status: 302, headers: { Location: 'http://127.0.0.1:9/elsewhere.git/info/refs?service=git-receive-pack' } }],
    ['404', { kind: 'status', status: 404 }],
    ['a dumb server (200, not the smart media type)', { kind: 'status', status: 200, headers: { 'Content-Type': 'text/plain' }, body: '0123456789abcdef0123456789abcdef01234567\trefs/heads/main\n' }],
  ] as Array<[string, Misbehaviour]>) {
    it(`a ref list answered with ${what}: the write lands through git push, once, and git pushes from then on`, async () => {
      const { dir, bare } = await board();
      proxy.fault({ kind: 'refs-receive', ...bySession }, fault);
      const orc = openOrchestrator({ repo: dir, agent: 'a' });
      try {
        expect((await orc.addTask('w', { title: 'one' })).title).toBe('one');
        expect(proxy.count({ kind: 'refs-receive', ...bySession, fault: 'status' })).toBe(1);
        expect(proxy.count({ kind: 'receive-pack', ...bySession })).toBe(0);
        expect(proxy.count({ kind: 'receive-pack', ...byGit })).toBe(1);
        // The server does not take such pushes: this process does not ask it again for a while.
        await orc.addTask('w', { title: 'two' });
        expect(proxy.count({ kind: 'refs-receive', ...bySession })).toBe(1);
        expect(proxy.count({ kind: 'receive-pack', ...byGit })).toBe(2);
        // Ten minutes on it asks again (a proxy's mistake, an expired token, do not cost it its sessions for good).
        vi.useFakeTimers({ toFake: ['Date'] });
        vi.setSystemTime(Date.now() + 11 * 60_000);
        try {
          await orc.addTask('w', { title: 'three' });
        } finally {
          vi.useRealTimers();
        }
        expect(proxy.count({ kind: 'refs-receive', ...bySession })).toBe(2);
        expect(proxy.count({ kind: 'receive-pack', ...bySession })).toBe(1);
        expect(proxy.count({ kind: 'receive-pack', ...byGit })).toBe(2);
      } finally {
        orc.close();
      }
      expect(await created(bare)).toEqual(['one', 'two', 'three']);
    });
  }

  for (const [what, fault] of [
    ['a 503 (a server error may pass)', { kind: 'status', status: 503 }],
    ['cut short (the connection broke mid-list)', { kind: 'cut', bytes: -10 }],
  ] as Array<[string, Misbehaviour]>) {
    it(`a ref list ${what}: that write lands through git push, the next goes in process again`, async () => {
      const { dir, bare } = await board();
      proxy.fault({ kind: 'refs-receive', ...bySession }, fault);
      const orc = openOrchestrator({ repo: dir, agent: 'a' });
      try {
        await orc.addTask('w', { title: 'one' });
        expect(proxy.count({ kind: 'receive-pack', ...bySession })).toBe(0);
        expect(proxy.count({ kind: 'receive-pack', ...byGit })).toBe(1);
        await orc.addTask('w', { title: 'two' });
        expect(proxy.count({ kind: 'receive-pack', ...bySession, forwarded: true })).toBe(1);
        expect(proxy.count({ kind: 'receive-pack', ...byGit })).toBe(1);
      } finally {
        orc.close();
      }
      expect(await created(bare)).toEqual(['one', 'two']);
    });
  }

  it('the kept-alive connection closed by the server between the ref list and the push: the push goes again on a new connection, once', async () => {
    const { dir, bare } = await board();
    const orc = openOrchestrator({ repo: dir, agent: 'a' });
    try {
      // Closed just as the push went out on it: the proxy drops the push unread.
      proxy.fault({ kind: 'refs-receive', ...bySession }, { kind: 'close-idle', when: 'next-request' });
      expect((await orc.addTask('w', { title: 'raced' })).title).toBe('raced');
      expect(proxy.count({ kind: 'receive-pack', ...bySession, fault: 'closed-idle', forwarded: false })).toBe(1);
      const sent = proxy.requests.filter((r) => r.kind === 'receive-pack' && r.forwarded);
      expect(sent.map((r) => [r.by, r.reused])).toEqual([['session', false]]);
      // Closed at once after the list: the client may see it closed before the push, or not; once either way.
      proxy.fault({ kind: 'refs-receive', ...bySession }, { kind: 'close-idle', when: 'at-once' });
      await orc.addTask('w', { title: 'closed' });
      expect(proxy.count({ kind: 'receive-pack', ...bySession, forwarded: true })).toBe(2);
      expect(proxy.count({ kind: 'receive-pack', ...byGit })).toBe(0);
    } finally {
      orc.close();
    }
    expect(await created(bare)).toEqual(['raced', 'closed']);
    await verified(dir, bare);
  });

  it('a push whose connection closed before the server saw it: sent again once; closed again, the caller hears REMOTE or goes offline, and sync lands it once', async () => {
    const { dir, bare } = await board();
    // Once, on the kept connection of the ref list: sent again on a new one.
    proxy.fault({ kind: 'receive-pack', ...bySession }, { kind: 'close' });
    expect((await cliAsync(['t', 'add', 'w', 'once'], { cwd: dir })).code).toBe(0);
    expect(proxy.count({ kind: 'receive-pack', ...bySession, fault: 'close' })).toBe(1);
    expect(proxy.count({ kind: 'receive-pack', ...bySession, forwarded: true })).toBe(1);

    // Closed both times: the connection broke after the push was sent, so its outcome is not known to the
    // caller; the server never had it.
    proxy.fault({ kind: 'receive-pack', ...bySession }, { kind: 'close' }, 2);
    const failed = await cliAsync(['t', 'add', 'w', 'failed'], { cwd: dir });
    expect(failed.code).toBe(5);
    expect(proxy.count({ kind: 'receive-pack', ...bySession, fault: 'close' })).toBe(3);
    expect(await created(bare)).toEqual(['once']);

    // With --allow-offline the operation is kept in the clone, and sync brings it.
    proxy.fault({ kind: 'receive-pack', ...bySession }, { kind: 'close' }, 2);
    const offline = await cliAsync(['--allow-offline', 't', 'add', 'w', 'offline'], { cwd: dir });
    expect(offline.code).toBe(0);
    expect(await created(bare)).toEqual(['once']);
    expect(await git(dir, 'rev-parse', 'orchestrator')).not.toBe(await git(bare, 'rev-parse', 'orchestrator'));
    const sync = await cliAsync(['--json', 'sync'], { cwd: dir });
    expect(sync.code, sync.stderr).toBe(0);
    expect([sync.json.applied.length, sync.json.dropped]).toEqual([1, []]);
    expect(await created(bare)).toEqual(['once', 'offline']);
    // And the next write builds on it.
    expect((await cliAsync(['t', 'add', 'w', 'after'], { cwd: dir })).code).toBe(0);
    expect(await created(bare)).toEqual(['once', 'offline', 'after']);
    expect(await requestsLeft(bare)).toEqual([]);
    await verified(dir, bare);
  });

  it('commits made offline travel in the push of the next write, in process: the branch expected where it was last seen', async () => {
    const { dir, bare } = await board();
    const url = await git(dir, 'remote', 'get-url', 'origin');
    // The server out of reach (nothing listens there): the operation is kept in the clone.
    await git(dir, 'remote', 'set-url', 'origin', 'http://127.0.0.1:9/gone.git');
    const offline = await cliAsync(['--allow-offline', 't', 'add', 'w', 'offline'], { cwd: dir });
    expect(offline.code, offline.stderr).toBe(0);
    await git(dir, 'remote', 'set-url', 'origin', url);
    proxy.reset();
    const orc = openOrchestrator({ repo: dir, agent: 'a' });
    try {
      expect((await orc.addTask('w', { title: 'online' })).title).toBe('online');
      // One push, in process, carrying both commits; and the next still goes in process.
      await orc.addTask('w', { title: 'later' });
    } finally {
      orc.close();
    }
    expect(proxy.count({ kind: 'receive-pack', ...byGit })).toBe(0);
    expect(proxy.count({ kind: 'receive-pack', ...bySession })).toBe(2);
    expect(await created(bare)).toEqual(['offline', 'online', 'later']);
    await verified(dir, bare);
  });

  it('a push the server applied whose answer was cut: REMOTE (or offline), and after the next write or sync it is there once', async () => {
    const { dir, bare } = await board();
    // The report cut mid-line: the server took the push, the writer cannot know.
    proxy.fault({ kind: 'receive-pack', ...bySession }, { kind: 'cut', bytes: -12 });
    const orc = openOrchestrator({ repo: dir, agent: 'a' });
    try {
      const cut = await failure(orc.addTask('w', { title: 'cut' }));
      expect(cut?.code).toBe('REMOTE');
      expect(await created(bare)).toEqual(['cut']);
      // The next write of the same process lands on it (the remote moved by our own push: a race).
      await orc.addTask('w', { title: 'next' });
    } finally {
      orc.close();
    }
    expect(await created(bare)).toEqual(['cut', 'next']);

    // With --allow-offline: the clone keeps the commit the server has, and sync finds nothing to add.
    proxy.fault({ kind: 'receive-pack', ...bySession }, { kind: 'cut', bytes: -12 });
    const offline = await cliAsync(['--allow-offline', 't', 'add', 'w', 'cut offline'], { cwd: dir });
    expect(offline.code).toBe(0);
    expect(await git(dir, 'rev-parse', 'orchestrator')).toBe(await git(bare, 'rev-parse', 'orchestrator'));
    const sync = await cliAsync(['--json', 'sync'], { cwd: dir });
    expect(sync.code, sync.stderr).toBe(0);
    expect([sync.json.applied, sync.json.dropped]).toEqual([[], []]);
    expect((await cliAsync(['t', 'add', 'w', 'after'], { cwd: dir })).code).toBe(0);
    expect(await created(bare)).toEqual(['cut', 'next', 'cut offline', 'after']);
    expect(await requestsLeft(bare)).toEqual([]);
    await verified(dir, bare);
  });

  it('a push the server applied whose connection closed before a byte of the answer: sent again, judged by the refs, once (also where the board is refused)', async () => {
    const { dir, bare } = await board();
    const orc = openOrchestrator({ repo: dir, agent: 'a' });
    try {
      // On the kept connection, the close looks like one the server made as the push went out: it is sent
      // again, and refused (the branch moved: by the first). The branch at our own commit says it landed.
      proxy.fault({ kind: 'receive-pack', ...bySession }, { kind: 'cut', bytes: 0 });
      expect((await orc.addTask('w', { title: 'applied' })).title).toBe('applied');
      expect(await created(bare)).toEqual(['applied']);
      // (Taken for a race, the operation would have been published on the board, found landed, and its request left behind.)
      expect(await requestsLeft(bare)).toEqual([]);
      expect(proxy.count({ kind: 'receive-pack', ...bySession, forwarded: true })).toBe(2);
      expect(proxy.count({ kind: 'receive-pack', ...byGit })).toBe(0);
      // A remote that refuses the request board: a refusal taken for a race would be planned and pushed again.
      fs.writeFileSync(path.join(bare, 'hooks', 'update'), '#!/bin/sh\ncase "$1" in */announce) exit 0;; refs/orchestrator/*) echo "requests are not taken here" >&2; exit 1;; esac\nexit 0\n', { mode: 0o755 });
      proxy.fault({ kind: 'receive-pack', ...bySession }, { kind: 'cut', bytes: 0 });
      expect((await orc.addTask('w', { title: 'applied, no board' })).title).toBe('applied, no board');
      expect(await created(bare)).toEqual(['applied', 'applied, no board']);
    } finally {
      orc.close();
    }
    await verified(dir, bare);
  });

  it('answers that are not a whole report (a fatal message on band 3, a report cut short, a bad pkt-line): REMOTE, no crash, and the next write lands', async () => {
    const { dir, bare } = await board();
    const orc = openOrchestrator({ repo: dir, agent: 'a' });
    try {
      proxy.fault({ kind: 'receive-pack', ...bySession }, answer(sideband([3, 'fatal: the disk is full\n'])));
      const fatal = await failure(orc.addTask('w', { title: 'fatal' }));
      expect(fatal?.code).toBe('REMOTE');
      // The server's own words reach the caller.
      expect(fatal?.message).toContain('fatal: the disk is full');

      const report = Buffer.concat([pkt('unpack ok\n'), pkt('ok refs/heads/orchestrator\n'), Buffer.from('0000')]);
      proxy.fault({ kind: 'receive-pack', ...bySession }, answer(Buffer.concat([pkt(Buffer.concat([Buffer.from([1]), report.subarray(0, 20)]))])));
      expect((await failure(orc.addTask('w', { title: 'short' })))?.code).toBe('REMOTE');

      proxy.fault({ kind: 'receive-pack', ...bySession }, answer(Buffer.from('zzzz\x01unpack ok\n0000')));
      expect((await failure(orc.addTask('w', { title: 'garbled' })))?.code).toBe('REMOTE');

      await orc.addTask('w', { title: 'whole' });
    } finally {
      orc.close();
    }
    // None of the three reached the server.
    expect(await created(bare)).toEqual(['whole']);
    expect(proxy.count({ kind: 'receive-pack', ...byGit })).toBe(0);
    await verified(dir, bare);
  });
});

describe.skipIf(https.skip)('in-process pushes over https', () => {
  let server: HttpServer;
  let proxy: FaultProxy;
  beforeAll(async () => {
    server = await startHttpServer({ tls: true });
    proxy = await startFaultProxy({ target: server.port, tls: server.tls });
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
  });

  it('trusting the CA git is told to trust: writes go in process, and clones racing claim every task exactly once', async () => {
    expect(server.url('x')).toMatch(/^https:/);
    await server.createRepo('race');
    const clones = await Promise.all(Array.from({ length: 4 }, (_, i) => cloneInto(proxy.url(server.url('race')), path.join(tempDir(), `s${i}`), server.env)));
    // The library reads GIT_SSL_CAINFO as git does; git's own trace counts its pushes.
    const trace = path.join(tempDir(), 'trace.json');
    const set = { ...server.env, GIT_TRACE2_EVENT: trace };
    Object.assign(process.env, set);
    const orc = openOrchestrator({ repo: clones[0], agent: 'seed' });
    try {
      await orc.createWorkstream('w');
      for (let i = 0; i < 7; i++) await orc.addTask('w', { title: `task ${i}` });
      // Over TLS too, a kept connection closed as the push went out on it: the push goes again, once.
      proxy.fault({ kind: 'refs-receive', ...bySession }, { kind: 'close-idle', when: 'next-request' });
      await orc.addTask('w', { title: 'task 7' });
      expect(proxy.count({ kind: 'receive-pack', ...bySession, fault: 'closed-idle' })).toBe(1);
    } finally {
      orc.close();
      for (const k of Object.keys(set)) delete process.env[k];
    }
    const pushes = fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8').split('\n').filter((l) => /"event":"cmd_name","[^}]*"name":"push"/.test(l)).length : 0;
    expect(pushes).toBe(0);
    expect(proxy.count({ kind: 'receive-pack', ...bySession, forwarded: true })).toBe(9);
    expect(proxy.count({ kind: 'receive-pack', ...byGit })).toBe(0);

    const reports = await runClaimers(clones.map((repo, i) => ({ repo, agent: `agent-${i}` })), 'w', server.env);
    expect(reports.filter((r) => r.error)).toEqual([]);
    const claims = reports.flatMap((r) => r.claims.map((c) => ({ ...c, agent: r.agent })));
    expect(claims).toHaveLength(8);
    expect(new Set(claims.map((c) => c.id)).size).toBe(8);
    const bare = server.repoPath('race');
    const state = JSON.parse(await git(bare, 'show', 'orchestrator:state.json'));
    const owner = new Map(claims.map((c) => [c.id, c.agent]));
    for (const t of state.workstreams.w.tasks) expect(t.assigned_to).toBe(owner.get(t.id));
    const events = (await git(bare, 'show', 'orchestrator:events.jsonl')).split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.action === 'task_claimed')).toHaveLength(8);
    expect(await created(bare)).toEqual(Array.from({ length: 8 }, (_, i) => `task ${i}`));
    expect(await requestsLeft(bare)).toEqual([]);
    // The claims' chains went in process too (git pushed only the board's requests).
    expect(proxy.count({ kind: 'receive-pack', ...bySession, forwarded: true })).toBeGreaterThan(9);
    const v = await cliAsync(['verify'], { cwd: clones[1], env: server.env });
    expect(v.code, v.stderr + v.stdout).toBe(0);
  });
});
