/**
 * Contention: N OS processes claim every task of a workstream through the
 * library, each on its own clone of one bare remote, or all on one clone.
 * Reports claims/s, attempts per claim, latency and double claims.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { openOrchestrator } from '../src/api.js';
import { cluster, git, stats, type Stats } from './util.js';

const WORKER = path.resolve(__dirname, '..', 'test', 'helpers', 'claimer.cjs');

interface Report {
  agent: string;
  claims: Array<{ id: string; attempts: number; ms: number }>;
  elapsed: number;
  error?: string;
}

export interface ContentionResult {
  mode: string;
  processes: number;
  tasks: number;
  claimed: number;
  doubleClaims: number;
  claimsPerSecond: number;
  seconds: number;
  attemptsPerClaim: number;
  worstAttempts: number;
  latency: Stats;
  errors: string[];
  stateAgrees: boolean;
}

async function seed(repo: string, tasks: number): Promise<void> {
  const orc = openOrchestrator({ repo });
  await orc.createWorkstream('bench');
  for (let i = 0; i < tasks; i++) await orc.addTask('bench', { title: `task ${i}`, priority: i % 5 });
  orc.close();
}

function runWorkers(workers: Array<{ repo: string; agent: string }>, env: NodeJS.ProcessEnv): Promise<{ reports: Report[]; seconds: number }> {
  return new Promise((resolve, reject) => {
    const reports: Report[] = [];
    let started = 0;
    const procs = workers.map((w) => {
      const child = spawn(process.execPath, [WORKER, w.repo, 'bench', w.agent], { stdio: ['pipe', 'pipe', 'inherit'], env });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.on('error', reject);
      child.on('close', () => {
        try {
          const r = JSON.parse(out.trim().split('\n').pop()!) as Partial<Report>;
          reports.push({ agent: w.agent, claims: r.claims ?? [], elapsed: r.elapsed ?? 0, ...(r.error ? { error: r.error.split('\n')[0] } : {}) });
        } catch {
          reports.push({ agent: w.agent, claims: [], elapsed: 0, error: `no report: ${out.slice(0, 200)}` });
        }
        if (reports.length === workers.length) resolve({ reports, seconds: (performance.now() - started) / 1000 });
      });
      return child;
    });
    // Every worker loads first; then all start at once.
    setTimeout(() => {
      started = performance.now();
      for (const p of procs) p.stdin.end('go\n');
    }, 800);
  });
}

export async function contention(mode: 'clones' | 'shared', processes: number, tasks: number, env: NodeJS.ProcessEnv = process.env): Promise<ContentionResult> {
  let repos: string[];
  let truth: string;
  if (mode === 'clones') {
    const c = cluster(processes);
    await seed(c.clones[0], tasks);
    repos = c.clones;
    truth = c.remote;
  } else {
    const c = cluster(1);
    await seed(c.clones[0], tasks);
    repos = Array(processes).fill(c.clones[0]);
    truth = c.remote;
  }
  const { reports, seconds } = await runWorkers(
    repos.map((repo, i) => ({ repo, agent: `agent-${i}` })),
    env,
  );
  const claims = reports.flatMap((r) => r.claims.map((c) => ({ ...c, agent: r.agent })));
  const byTask = new Map<string, number>();
  for (const c of claims) byTask.set(c.id, (byTask.get(c.id) ?? 0) + 1);
  const doubleClaims = [...byTask.values()].filter((n) => n > 1).length;
  // The branch must agree with what the processes were told.
  const state = JSON.parse(git(truth, 'show', 'orchestrator:state.json'));
  const owner = new Map(claims.map((c) => [c.id, c.agent]));
  const stateAgrees = state.workstreams.bench.tasks.every((t: { id: string; assigned_to: string }) => owner.get(t.id) === t.assigned_to);
  return {
    mode,
    processes,
    tasks,
    claimed: claims.length,
    doubleClaims,
    claimsPerSecond: claims.length / seconds,
    seconds,
    attemptsPerClaim: claims.reduce((a, c) => a + c.attempts, 0) / Math.max(1, claims.length),
    worstAttempts: Math.max(0, ...claims.map((c) => c.attempts)),
    latency: stats(claims.map((c) => c.ms)),
    errors: reports.filter((r) => r.error).map((r) => `${r.agent}: ${r.error}`),
    stateAgrees,
  };
}
