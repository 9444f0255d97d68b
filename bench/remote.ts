/**
 * Remotes: claims per second through a real git server (sshd + gitolite),
 * with no added latency and with 25 ms each way, against floors the git
 * binary itself sets on the same server in the same run: F = one plain push
 * of one commit + one plain fetch, both over a shared ssh connection.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openOrchestrator } from '../src/api.js';
import { startSshServer, withControlMaster, type SshServer } from '../test/helpers/ssh-server.js';
import { startHttpServer, type HttpServer } from '../test/helpers/http-server.js';
import { ms, stats, table, tempDir } from './util.js';

const CLAIMER = path.resolve(__dirname, '..', 'test', 'helpers', 'claimer.cjs');
const BIN = path.resolve(__dirname, '..', 'bin', 'orchestrator.js');

interface Claim {
  id: string;
  attempts: number;
  ms: number;
  agent: string;
  /** When it was acknowledged (ms since the epoch). */
  at: number;
}

/**
 * Seconds of claiming: from the start until the last claim was acknowledged. What follows (each
 * agent asking once more and hearing that nothing is left, then exiting) is not a claim.
 */
function claimingSeconds(startEpoch: number, claims: Claim[], wall: number): number {
  return claims.length ? Math.max(...claims.map((c) => c.at)) / 1000 - startEpoch / 1000 : wall;
}

interface Run {
  label: string;
  claims: Claim[];
  seconds: number;
  errors: string[];
  doubles: number;
  /** The remote's claim events equal the acknowledged claims, and verify passes. */
  agrees: boolean;
  rate: number;
  worst: number;
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const r = await run('git', args, { cwd });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** One small commit in `dir` (a file changed), as a floor's round pushes it. */
async function commitRound(dir: string, i: number): Promise<void> {
  fs.writeFileSync(path.join(dir, 'f'), `${i} ${Math.random()}\n`);
  await git(dir, 'add', 'f');
  await git(dir, 'commit', '-q', '-m', `round ${i}`);
}

/** Plain git: one push of one small commit and one fetch of it, `rounds` times; every sample. */
async function floor(server: SshServer, reuse: boolean, rounds: number): Promise<{ push: number[]; fetch: number[] }> {
  const name = `floor-${reuse ? 'shared' : 'new'}-${Date.now().toString(36)}`;
  await server.createRepo(name);
  const a = await server.clone(name, path.join(tempDir('orc-bench-floor-'), 'a'));
  const b = await server.clone(name, path.join(tempDir('orc-bench-floor-'), 'b'));
  const controls = fs.mkdtempSync('/tmp/orc-cm-');
  const env = { ...process.env, GIT_SSH_COMMAND: reuse ? withControlMaster(server.sshCommand, controls) : server.sshCommand };
  const push: number[] = [];
  const fetch: number[] = [];
  for (let i = 0; i <= rounds; i++) {
    await commitRound(a, i);
    let t = performance.now();
    await run('git', ['push', '-q', 'origin', 'HEAD:refs/heads/floor'], { cwd: a, env });
    const p = performance.now() - t;
    t = performance.now();
    await run('git', ['fetch', '-q', 'origin', 'floor'], { cwd: b, env });
    const f = performance.now() - t;
    // The first round opens the shared connection: not counted.
    if (i > 0) {
      push.push(p);
      fetch.push(f);
    }
  }
  await run('ssh', ['-O', 'exit', '-o', `ControlPath=${path.join(controls, '%C')}`, 'x'], { cwd: a }).catch(() => undefined);
  fs.rmSync(controls, { recursive: true, force: true });
  return { push, fetch };
}

async function seed(repo: string, tasks: number): Promise<void> {
  const orc = openOrchestrator({ repo, agent: 'seed' });
  await orc.createWorkstream('w');
  for (let i = 0; i < tasks; i++) await orc.addTask('w', { title: `task ${i}` });
  orc.close();
}

/** Claimer processes (one per repo entry), started together; every task claimed. */
async function claimers(repos: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ claims: Claim[]; errors: string[]; seconds: number }> {
  const { spawn } = await import('node:child_process');
  const procs = repos.map((repo, i) => {
    const agent = `agent-${i}`;
    const child = spawn(process.execPath, [CLAIMER, repo, 'w', agent], { stdio: ['pipe', 'pipe', 'ignore'], env });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    const done = new Promise<{ claims: Claim[]; error?: string }>((resolve) =>
      child.on('close', () => {
        try {
          const r = JSON.parse(out.trim().split('\n').pop()!);
          resolve({ claims: (r.claims ?? []).map((c: Claim) => ({ ...c, agent })), error: r.error ? String(r.error).split('\n')[0] : undefined });
        } catch {
          resolve({ claims: [], error: `no report: ${out.slice(0, 200)}` });
        }
      }),
    );
    return { child, done };
  });
  await new Promise((r) => setTimeout(r, 1500));
  const t0 = performance.now();
  const start = Date.now();
  for (const p of procs) p.child.stdin.end('go\n');
  const reports = await Promise.all(procs.map((p) => p.done));
  const claims = reports.flatMap((r) => r.claims);
  return { claims, errors: reports.flatMap((r) => (r.error ? [r.error] : [])), seconds: claimingSeconds(start, claims, (performance.now() - t0) / 1000) };
}

/** Does the remote agree with what the claimers were told (one claim event per acknowledged claim, owners), and does it verify? */
async function agrees(server: SshServer | HttpServer, name: string, probe: string, claims: Claim[]): Promise<boolean> {
  const bare = server.repoPath(name);
  const state = JSON.parse(await git(bare, 'show', 'orchestrator:state.json'));
  const events = (await git(bare, 'show', 'orchestrator:events.jsonl')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const owner = new Map(claims.map((c) => [c.id, c.agent]));
  const claimed = events.filter((e) => e.action === 'task_claimed');
  const ownersAgree = state.workstreams.w.tasks.every((t: { id: string; assigned_to: string | null }) => (owner.get(t.id) ?? null) === t.assigned_to);
  const verify = await run(process.execPath, [BIN, 'verify'], { cwd: probe });
  return ownersAgree && claimed.length === claims.length && verify.code === 0;
}

function summarize(label: string, claims: Claim[], seconds: number, errors: string[], agree: boolean): Run {
  const byTask = new Map<string, number>();
  for (const c of claims) byTask.set(c.id, (byTask.get(c.id) ?? 0) + 1);
  return {
    label,
    claims,
    seconds,
    errors,
    doubles: [...byTask.values()].filter((n) => n > 1).length,
    agrees: agree,
    rate: claims.length / seconds,
    worst: Math.max(0, ...claims.map((c) => c.attempts)),
  };
}

async function clonesRun(server: SshServer | HttpServer, clones: number, tasks: number, env: NodeJS.ProcessEnv = process.env, suffix = ''): Promise<Run> {
  const name = `clones-${clones}-${Date.now().toString(36)}`;
  await server.createRepo(name);
  const repos = await Promise.all(Array.from({ length: clones }, (_, i) => server.clone(name, path.join(tempDir('orc-bench-remote-'), `c${i}`))));
  await seed(repos[0], tasks);
  const r = await claimers(repos, env);
  return summarize(`${clones} clone${clones > 1 ? 's' : ''}${suffix}`, r.claims, r.seconds, r.errors, await agrees(server, name, repos[0], r.claims));
}

async function sharedRun(server: SshServer, processes: number, tasks: number): Promise<Run> {
  const name = `shared-${Date.now().toString(36)}`;
  await server.createRepo(name);
  const repo = await server.clone(name, path.join(tempDir('orc-bench-remote-'), 'shared'));
  await seed(repo, tasks);
  const r = await claimers(Array(processes).fill(repo));
  return summarize(`${processes} processes sharing one clone`, r.claims, r.seconds, r.errors, await agrees(server, name, repo, r.claims));
}

/** `writers` concurrent HTTP clients taking the next task through one `serve` until none is left. */
async function restRun(server: SshServer, writers: number, tasks: number): Promise<Run> {
  const name = `rest-${Date.now().toString(36)}`;
  await server.createRepo(name);
  const repo = await server.clone(name, path.join(tempDir('orc-bench-remote-'), 'served'));
  await seed(repo, tasks);
  const { spawn } = await import('node:child_process');
  const serve = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json', '--fetch-interval', '0'], { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    serve.stdout.on('data', (c) => {
      out += c;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line).url);
    });
    serve.on('close', () => reject(new Error(`serve exited: ${out}`)));
  });
  const claims: Claim[] = [];
  const errors: string[] = [];
  const t0 = performance.now();
  const start = Date.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, i) => {
      const agent = `agent-${i}`;
      for (;;) {
        const s = performance.now();
        const res = await fetch(`${url}api/workstreams/w/next`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent }) });
        const body = (await res.json()) as { id?: string; error?: string };
        if (res.status !== 200) {
          errors.push(`${res.status} ${body.error}`);
          return;
        }
        if (!body.id) return;
        claims.push({ id: body.id, attempts: 1, ms: performance.now() - s, agent, at: Date.now() });
      }
    }),
  );
  const seconds = claimingSeconds(start, claims, (performance.now() - t0) / 1000);
  serve.kill('SIGTERM');
  await new Promise((r) => serve.once('close', r));
  const run = summarize(`${writers} REST writers through one serve`, claims, seconds, errors, await agrees(server, name, repo, claims));
  run.worst = NaN;
  return run;
}

/** Agents as a shell runs them: on each of `clones` clones, one `orchestrator t next` process per claim until none is left. */
async function cliRun(server: SshServer, clones: number, tasks: number): Promise<Run> {
  const name = `cli-${clones}-${Date.now().toString(36)}`;
  await server.createRepo(name);
  const repos = await Promise.all(Array.from({ length: clones }, (_, i) => server.clone(name, path.join(tempDir('orc-bench-remote-'), `c${i}`))));
  await seed(repos[0], tasks);
  await Promise.all(repos.map((repo) => run(process.execPath, [BIN, 'status'], { cwd: repo })));
  const claims: Claim[] = [];
  const errors: string[] = [];
  const t0 = performance.now();
  const start = Date.now();
  await Promise.all(
    repos.map(async (repo, i) => {
      const agent = `agent-${i}`;
      for (;;) {
        const s = performance.now();
        const r = await run(process.execPath, [BIN, '--json', 't', 'next', 'w', agent], { cwd: repo });
        if (r.code !== 0) {
          errors.push(`exit ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
          return;
        }
        const task = JSON.parse(r.stdout) as { id?: string } | null;
        if (!task?.id) return;
        claims.push({ id: task.id, attempts: NaN, ms: performance.now() - s, agent, at: Date.now() });
      }
    }),
  );
  const seconds = claimingSeconds(start, claims, (performance.now() - t0) / 1000);
  const out = summarize(`${clones} clones, a CLI process per claim`, claims, seconds, errors, await agrees(server, name, repos[0], claims));
  out.worst = NaN;
  return out;
}

/**
 * Processes an uncontended claim starts: git's own trace (trace2) groups
 * every git process under the command that started it, so each push and
 * each fetch is counted with its children (ssh, pack-objects...).
 */
async function processesPerClaim(server: SshServer, env: NodeJS.ProcessEnv = {}): Promise<{ perPush: number; perFetch: number; pushesPerClaim: number; fetchesPerClaim: number }> {
  const name = `procs-${Date.now().toString(36)}`;
  await server.createRepo(name);
  const repo = await server.clone(name, path.join(tempDir('orc-bench-remote-'), 'procs'));
  await seed(repo, 8);
  const traceFile = path.join(tempDir('orc-bench-trace-'), 'trace.json');
  const r = await claimers([repo], { ...process.env, ...env, GIT_TRACE2_EVENT: traceFile });
  const events = fs.existsSync(traceFile) ? fs.readFileSync(traceFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const groups = new Map<string, { command: string; processes: number }>();
  for (const e of events) {
    const root = String(e.sid).split('/')[0];
    const g = groups.get(root) ?? { command: '', processes: 0 };
    if (e.event === 'start') {
      g.processes++;
      // (The push that only shows which ssh command git runs, with a stand-in for ssh, pushes nothing.)
      if (!String(e.sid).includes('/')) g.command = (e.argv as string[]).some((x) => x.startsWith('0'.repeat(39) + '1:')) ? 'learn' : ((e.argv as string[]).find((x) => x === 'push' || x === 'fetch') ?? 'other');
    }
    // Children that are not git (ssh) have no trace of their own.
    if (e.event === 'child_start' && e.child_class !== 'git' && !/^git\b/.test(String(e.argv?.[0] ?? ''))) g.processes++;
    groups.set(root, g);
  }
  const of = (cmd: string) => [...groups.values()].filter((g) => g.command === cmd);
  const avg = (gs: Array<{ processes: number }>) => gs.reduce((n, g) => n + g.processes, 0) / Math.max(1, gs.length);
  const claims = Math.max(1, r.claims.length);
  // The claimer reads once before it starts and once more to find nothing left: not claims' fetches.
  return { perPush: avg(of('push')), perFetch: avg(of('fetch')), pushesPerClaim: of('push').length / claims, fetchesPerClaim: Math.max(0, of('fetch').length - 2) / claims };
}

export async function remoteSection(quick: boolean, results: Record<string, unknown>): Promise<string> {
  const out: string[] = [];
  for (const delay of [0, 25]) {
    const server = await startSshServer({ delayMs: delay, proxy: true });
    try {
      const rounds = quick ? 5 : 10;
      // The machine's speed drifts over a section: the floor is measured before the runs and again
      // after them, and F is the median of both (each half is shown).
      const before = await floor(server, true, rounds);
      const freshSamples = await floor(server, false, Math.max(3, Math.floor(rounds / 2)));
      const fresh = { push: stats(freshSamples.push).median, fetch: stats(freshSamples.fetch).median };
      const n = quick ? 1 : 2;
      const runs: Run[] = [];
      runs.push(await clonesRun(server, 1, 12 * n));
      runs.push(await clonesRun(server, 4, 16 * n));
      const eight = await clonesRun(server, 8, 24 * n);
      runs.push(eight);
      runs.push(await clonesRun(server, 16, 32));
      const sharedRun8 = await sharedRun(server, 8, 40 * n);
      runs.push(sharedRun8);
      const rest = await restRun(server, 32, 64 * n);
      runs.push(rest);
      runs.push(await cliRun(server, 8, 24));
      const procs = await processesPerClaim(server);
      const viaGit = await processesPerClaim(server, { ORCHESTRATOR_PUSH_SESSION: '0' });
      const after = await floor(server, true, rounds);
      const shared = { push: stats([...before.push, ...after.push]).median, fetch: stats([...before.fetch, ...after.fetch]).median };
      const halves = { before: { push: stats(before.push).median, fetch: stats(before.fetch).median }, after: { push: stats(after.push).median, fetch: stats(after.fetch).median } };
      const F = shared.push + shared.fetch;
      results[`remote_${delay}ms`] = { floor: { shared, halves, fresh, F }, runs: runs.map(({ claims: _c, ...r }) => r), processes: procs, processesViaGit: viaGit };
      const target = (r: Run): string => {
        if (r.label === '1 clone') return `>= 0.8 x 1/push = ${((0.8 * 1000) / shared.push).toFixed(2)}/s: ${verdict(r.rate >= (0.8 * 1000) / shared.push)}`;
        if (r.label === '8 clones') return `>= 0.7 x 1/F = ${((0.7 * 1000) / F).toFixed(2)}/s, worst <= 8: ${verdict(r.rate >= (0.7 * 1000) / F && r.worst <= 8)}`;
        if (r.label === '16 clones') return `no exit 6: ${verdict(!r.errors.some((e) => /gave up|CONTENTION/.test(e)))}`;
        if (r.label.includes('CLI')) return `no error: ${verdict(!r.errors.length)}`;
        if (r.label.includes('sharing') || r.label.includes('REST')) return `>= 4x 8 clones = ${(4 * eight.rate).toFixed(2)}/s: ${verdict(r.rate >= 4 * eight.rate)}`;
        return '';
      };
      const rows = [['run', 'claims', 'claims/s', 'x 1/F', 'worst attempts', 'double claims', 'errors', 'remote agrees, verify', 'target']];
      for (const r of runs) {
        rows.push([r.label, String(r.claims.length), r.rate.toFixed(2), ((r.rate * F) / 1000).toFixed(2), Number.isNaN(r.worst) ? '-' : String(r.worst), String(r.doubles), String(r.errors.length), r.agrees ? 'yes' : 'NO', target(r)]);
      }
      out.push(
        `Remote: ssh to sshd + gitolite on 127.0.0.1, ${delay} ms added each way\n` +
          `floor: plain git push ${ms(shared.push)} ms + fetch ${ms(shared.fetch)} ms over a shared connection (F = ${ms(F)} ms, 1/F = ${(1000 / F).toFixed(2)}/s; ` +
          `before the runs ${ms(halves.before.push)} + ${ms(halves.before.fetch)}, after them ${ms(halves.after.push)} + ${ms(halves.after.fetch)}); ` +
          `with a new connection each: push ${ms(fresh.push)} + fetch ${ms(fresh.fetch)} ms\n` +
          `an uncontended claim: ${procs.pushesPerClaim.toFixed(1)} git push (the others through a connection opened ahead: one process, ssh) and ${procs.fetchesPerClaim.toFixed(1)} fetch; ` +
          `with ORCHESTRATOR_PUSH_SESSION=0, ${viaGit.pushesPerClaim.toFixed(1)} git push, which starts ${viaGit.perPush.toFixed(1)} processes, and a fetch ${viaGit.perFetch.toFixed(1)} (git's trace2, ssh included)\n` +
          table(rows),
      );
    } finally {
      await server.close();
    }
  }
  return out.join('\n\n');
}

/** Plain git over HTTP: one push of one small commit, `rounds` times (the first not counted); every sample. */
async function httpFloor(server: HttpServer, rounds: number): Promise<number[]> {
  const name = `floor-${Date.now().toString(36)}`;
  await server.createRepo(name);
  const a = await server.clone(name, path.join(tempDir('orc-bench-floor-'), 'a'));
  const push: number[] = [];
  for (let i = 0; i <= rounds; i++) {
    await commitRound(a, i);
    const t = performance.now();
    await run('git', ['push', '-q', 'origin', 'HEAD:refs/heads/floor'], { cwd: a, env: { ...process.env, ...server.env } });
    if (i > 0) push.push(performance.now() - t);
  }
  return push;
}

/**
 * Over smart HTTP (nginx, basic auth, git http-backend): pushes in process
 * (see http-push.ts) against git push, with one clone, and 8 clones racing.
 * Informational: the targets are set over ssh.
 */
export async function httpSection(quick: boolean, results: Record<string, unknown>): Promise<string> {
  const out: string[] = [];
  for (const delay of [0, 25]) {
    const server = await startHttpServer({ delayMs: delay, proxy: true });
    try {
      const rounds = quick ? 5 : 10;
      const before = await httpFloor(server, rounds);
      const env = { ...process.env, ...server.env };
      const n = quick ? 1 : 2;
      const runs: Run[] = [];
      runs.push(await clonesRun(server, 1, 12 * n, env, ', in process'));
      runs.push(await clonesRun(server, 1, 12 * n, { ...env, ORCHESTRATOR_PUSH_SESSION: '0' }, ', git push'));
      runs.push(await clonesRun(server, 8, 24 * n, env, ', in process'));
      const after = await httpFloor(server, rounds);
      const push = stats([...before, ...after]).median;
      results[`http_${delay}ms`] = { floor: { push }, runs: runs.map(({ claims: _c, ...r }) => r) };
      const rows = [['run', 'claims', 'claims/s', 'x 1/push', 'claim median ms', 'worst attempts', 'double claims', 'errors', 'remote agrees, verify']];
      for (const r of runs) {
        rows.push([r.label, String(r.claims.length), r.rate.toFixed(2), ((r.rate * push) / 1000).toFixed(2), ms(stats(r.claims.map((c) => c.ms)).median), String(r.worst), String(r.doubles), String(r.errors.length), r.agrees ? 'yes' : 'NO']);
      }
      out.push(`Remote: smart HTTP (nginx, basic auth, git http-backend) on 127.0.0.1, ${delay} ms added each way; informational\nfloor: plain git push ${ms(push)} ms (before the runs ${ms(stats(before).median)}, after them ${ms(stats(after).median)})\n` + table(rows));
    } finally {
      await server.close();
    }
  }
  return out.join('\n\n');
}

function verdict(ok: boolean): string {
  return ok ? 'meets target' : 'MISSES target';
}
