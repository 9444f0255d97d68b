/** Starts N claimer processes, releases them at once, collects what each claimed. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

export interface ClaimerReport {
  agent: string;
  claims: Array<{ id: string; attempts: number; ms: number }>;
  elapsed: number;
  error?: string;
}

const CLAIMER = path.resolve(__dirname, 'claimer.cjs');

export async function runClaimers(workers: Array<{ repo: string; agent: string }>, workstream: string, env: Record<string, string> = {}): Promise<ClaimerReport[]> {
  const procs = workers.map((w) => {
    const child = spawn(process.execPath, [CLAIMER, w.repo, workstream, w.agent], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    const done = new Promise<ClaimerReport>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', () => {
        try {
          resolve(JSON.parse(out.trim().split('\n').pop()!));
        } catch {
          reject(new Error(`claimer ${w.agent} printed: ${out}`));
        }
      });
    });
    return { child, done };
  });
  // Let every process load before starting them together.
  await new Promise((r) => setTimeout(r, 400));
  for (const p of procs) p.child.stdin.end('go\n');
  return Promise.all(procs.map((p) => p.done));
}
