/** Runs the real CLI (bin/orchestrator.js) in a child process. */
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { GIT_ENV } from './repos.js';

export const BIN = path.resolve(__dirname, '..', '..', 'bin', 'orchestrator.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (when --json was given). */
  json: any;
}

export interface CliOptions {
  cwd: string;
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
}

function result(code: number | null, stdout: string, stderr: string): CliResult {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { code: code ?? -1, stdout, stderr, json };
}

function env(extra?: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...GIT_ENV, ...extra };
  for (const k of Object.keys(e)) if (k.startsWith('ORCHESTRATOR_') && !(extra && k in extra)) delete e[k];
  return e;
}

export function cli(args: string[], opts: CliOptions): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd, input: opts.input ?? '', env: env(opts.env), encoding: 'utf8' });
  return result(r.status, r.stdout, r.stderr);
}

export function cliAsync(args: string[], opts: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: env(opts.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve(result(code, stdout, stderr)));
    child.stdin.end(opts.input ?? '');
  });
}
