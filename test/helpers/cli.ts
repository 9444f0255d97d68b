/**
 * Runs the CLI three ways:
 * - `run(args)`: in this process, through main()'s I/O seam (an Io of strings);
 * - `cli(args)`: the same seam, synchronously, in a worker thread of this
 *   process that loaded the built CLI once (for tests written for a
 *   synchronous helper);
 * - `cliProcess(args)` / `cliAsync(args)`: a real process (bin/orchestrator.js),
 *   for end-to-end checks and races between processes.
 * Each call gets the fixed git identity and no ORCHESTRATOR_* variables
 * unless the test passes them.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { main } from '../../src/cli/main.js';
import { decodeUtf8 } from '../../src/domain/text.js';
import { GIT_ENV } from './repos.js';

export const BIN = path.resolve(__dirname, '..', '..', 'bin', 'orchestrator.js');
const BUNDLE = path.resolve(__dirname, '..', '..', 'dist', 'cli.bundle.cjs');

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

/** In this process: main() with an Io of strings. */
export async function run(args: string[], opts: CliOptions): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    stdin: async () => (typeof opts.input === 'object' ? decodeUtf8(opts.input, 'standard input') : (opts.input ?? '')),
    env: env(opts.env),
    cwd: opts.cwd,
    bin: BIN,
  });
  return result(code, stdout, stderr);
}

// The worker runs one call at a time with that call's environment (git and
// the store read process.env) and wakes the caller through shared memory.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { main, decodeUtf8 } = require(${JSON.stringify(BUNDLE)});
parentPort.on('message', async ({ args, opts, env, port, flag }) => {
  const saved = process.env;
  process.env = env;
  let stdout = '', stderr = '', code;
  try {
    code = await main(args, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, stdin: async () => (typeof opts.input === 'object' ? decodeUtf8(Buffer.from(opts.input), 'standard input') : (opts.input ?? '')), env, cwd: opts.cwd, bin: ${JSON.stringify(BIN)} });
  } catch (err) {
    code = -1;
    stderr += String(err && err.stack || err);
  } finally {
    process.env = saved;
  }
  port.postMessage({ code, stdout, stderr });
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;
let worker: Worker | null = null;

/** Synchronously, in a worker thread of this process (the built CLI, loaded once). */
export function cli(args: string[], opts: CliOptions): CliResult {
  worker ??= new Worker(WORKER, { eval: true });
  worker.unref();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ args, opts: { cwd: opts.cwd, input: opts.input }, env: env(opts.env), port: port2, flag }, [port2]);
  if (Atomics.wait(flag, 0, 0, 120_000) === 'timed-out') throw new Error(`CLI call timed out: ${args.join(' ')}`);
  const msg = receiveMessageOnPort(port1)!.message as { code: number; stdout: string; stderr: string };
  port1.close();
  return result(msg.code, msg.stdout, msg.stderr);
}

/** A real process of the CLI, synchronously. */
export function cliProcess(args: string[], opts: CliOptions): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd, input: opts.input ?? '', env: env(opts.env), encoding: 'utf8' });
  return result(r.status, r.stdout, r.stderr);
}

/** A real process of the CLI. */
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
