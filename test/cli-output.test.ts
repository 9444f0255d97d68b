/**
 * The CLI writes its output straight to its descriptors (see
 * src/cli/fd-output.ts). Output larger than a pipe holds reaches a reader
 * that drains it late whole and in order, also when the pipe was made
 * non-blocking by someone else (the write then waits through Node's stream,
 * and the process exits only once it drained). A reader that goes away,
 * or a descriptor that refuses writes (a full disk), does not make the command fail.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cliProcess as cli } from './helpers/cli.js';
import { cleanup, GIT_ENV, makeRepo, tempDir } from './helpers/repos.js';

afterAll(cleanup);

function runLateReader(repo: string, args: string[], env: Record<string, string>, delayMs: number): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: repo, env: { ...process.env, ...GIT_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stdout.resume();
    }, delayMs);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

describe('CLI output', () => {
  const repo = makeRepo();
  // Several times what a pipe holds (64 KB), in lines that say where they are.
  const text = Array.from({ length: 6000 }, (_, i) => `line ${String(i).padStart(5, '0')} ${'x'.repeat(40)}`).join('\n') + '\n';

  it('reaches a reader that drains the pipe late, whole and in order', async () => {
    expect(cli(['init'], { cwd: repo }).code).toBe(0);
    expect(cli(['kb', 'write', 'big', '-'], { cwd: repo, input: text }).code).toBe(0);
    const expected = cli(['kb', 'read', 'big'], { cwd: repo }).stdout;
    expect(expected).toContain(text.trimEnd());
    const r = await runLateReader(repo, ['kb', 'read', 'big'], {}, 300);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString('utf8')).toBe(expected);
  });

  it('waits for a pipe that was made non-blocking, and exits once the reader has it all', async () => {
    // A preload that touches process.stdout: Node makes the pipe non-blocking (for every process that shares it).
    const probe = path.join(tempDir('nonblocking-'), 'touch.cjs');
    fs.writeFileSync(probe, 'process.stdout;\n');
    const expected = cli(['kb', 'read', 'big'], { cwd: repo }).stdout;
    const r = await runLateReader(repo, ['kb', 'read', 'big'], { NODE_OPTIONS: `--require ${probe}` }, 300);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString('utf8')).toBe(expected);
  });

  it('does not fail a change it made because its output cannot be written (standard output is a full disk)', () => {
    expect(cli(['ws', 'create', 'closed'], { cwd: repo }).code).toBe(0);
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" t add closed "written to a full disk" >/dev/full`], { cwd: repo, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(cli(['t', 'list', 'closed'], { cwd: repo }).stdout).toContain('written to a full disk');
  });

  it('ends quietly when its reader went away', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'kb', 'read', 'big'], { cwd: repo, env: { ...process.env, ...GIT_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.destroy();
      child.on('close', (code) => resolve({ code, stderr: err }));
    });
    expect(r.stderr).not.toMatch(/Error|EPIPE/);
    expect(r.code).toBe(0);
  });
});
