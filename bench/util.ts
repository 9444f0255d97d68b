/** Shared helpers for the benchmark: temp repos, timing and statistics. */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
export const BIN = path.join(ROOT, 'bin', 'orchestrator.js');

const made: string[] = [];

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function cleanupAll(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function initRepo(dir: string, bare = false): void {
  git(path.dirname(dir), 'init', '-q', ...(bare ? ['--bare'] : []), '-b', 'main', dir);
  // Measure our own work: no background packing (the size figure turns it back on).
  git(dir, 'config', 'gc.auto', '0');
  git(dir, 'config', 'maintenance.loose-objects.auto', '0');
  git(dir, 'config', 'user.name', 'bench');
  git(dir, 'config', 'user.email', 'bench@example.com');
}

export function cluster(n: number): { remote: string; clones: string[] } {
  const root = tempDir('orc-bench-');
  const remote = path.join(root, 'remote.git');
  initRepo(remote, true);
  const clones: string[] = [];
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, `clone-${i}`);
    git(root, 'clone', '-q', remote, dir);
    git(dir, 'config', 'gc.auto', '0');
    git(dir, 'config', 'maintenance.loose-objects.auto', '0');
    clones.push(dir);
  }
  return { remote, clones };
}

export interface Stats {
  n: number;
  median: number;
  p90: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { n: s.length, median: q(0.5), p90: q(0.9), p99: q(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, min: s[0], max: s[s.length - 1] };
}

export function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** Runs a command to completion and returns its wall time in ms. */
export function timeCommand(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { cwd, stdio: 'ignore', env: env ? { ...process.env, ...env } : process.env });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`))));
  });
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |').join('\n');
}

/** Times `n` rounds of addTask then claimTask (each timed) in a warm process. */
export async function timeMutations(orc: import('../src/api.js').Orchestrator, workstream: string, n: number): Promise<Stats> {
  // Warm up: the first call reads and parses the branch.
  await orc.createWorkstream(`warmup-${Date.now().toString(36)}`);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    const task = await orc.addTask(workstream, { title: `added ${i}` });
    samples.push(performance.now() - t);
    t = performance.now();
    await orc.claimTask(workstream, task.id, 'bench');
    samples.push(performance.now() - t);
  }
  return stats(samples);
}
