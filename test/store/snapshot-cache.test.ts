/**
 * The snapshot cache: a CLI command that wrote or read the board leaves the
 * objects of the newest commit whole in one file; the next command reads
 * them from there without inflating anything (zlib is never loaded), and
 * answers exactly what it answers without the cache. Every object in a file
 * is the object git has; a damaged file only means the usual way. Commands
 * run as real processes (the cache is written when one ends).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliProcess as cli } from '../helpers/cli.js';
import { cleanup, git, makeRepo, tempDir } from '../helpers/repos.js';

afterAll(cleanup);

const cacheDir = (repo: string) => path.join(repo, '.git', 'orchestrator', 'snapshot-cache');
const files = (repo: string) => (fs.existsSync(cacheDir(repo)) ? fs.readdirSync(cacheDir(repo)) : []);
const tip = (repo: string) => git(repo, 'rev-parse', 'refs/heads/orchestrator');

function run(repo: string, ...args: string[]): string {
  const r = cli(args, { cwd: repo });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** A board with a few workstreams, tasks, an agent, a lock and a knowledge topic. */
function board(): string {
  const repo = makeRepo();
  run(repo, 'init');
  run(repo, 'ws', 'create', 'web', 'the site', '1');
  run(repo, 'ws', 'create', 'api', 'the service', '2');
  run(repo, 'a', 'register', 'agent-1');
  run(repo, 't', 'add', 'web', 'first task');
  run(repo, 't', 'add', 'api', 'second task');
  run(repo, 'lock', 'acquire', 'db', 'agent-1');
  run(repo, 'kb', 'write', 'notes', '# Notes', 'some words');
  return repo;
}

/** The objects a cache file names, with their contents. */
function readFile(file: string): Array<{ oid: string; type: string; content: Buffer }> {
  const bytes = fs.readFileSync(file);
  const nl = bytes.indexOf(10);
  const header = JSON.parse(bytes.toString('latin1', 0, nl)) as { objects: Array<[string, string, number]> };
  let at = nl + 1;
  return header.objects.map(([oid, type, length]) => {
    const content = bytes.subarray(at, at + length);
    at += length;
    return { oid, type, content };
  });
}

function expectGitHas(repo: string, objects: Array<{ oid: string; type: string; content: Buffer }>): void {
  for (const o of objects) {
    expect(git(repo, 'cat-file', '-t', o.oid)).toBe(o.type);
    expect(execFileSync('git', ['cat-file', o.type, o.oid], { cwd: repo }).equals(o.content), `${o.type} ${o.oid}`).toBe(true);
  }
}

/** Runs a command with a preload that reports, when the process ends, whether zlib was loaded. */
function runReportingZlib(repo: string, ...args: string[]): { stdout: string; zlib: boolean } {
  const dir = tempDir('zlib-probe-');
  const probe = path.join(dir, 'probe.cjs');
  const report = path.join(dir, 'report');
  fs.writeFileSync(probe, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(report)}, String(process.moduleLoadList.includes('NativeModule zlib'))));\n`);
  const r = cli(args, { cwd: repo, env: { NODE_OPTIONS: `--require ${probe}` } });
  expect(r.code, r.stderr).toBe(0);
  return { stdout: r.stdout, zlib: fs.readFileSync(report, 'utf8') === 'true' };
}

describe('the snapshot cache', () => {
  it('holds the newest commit after a mutation, every object as git has it', () => {
    const repo = board();
    expect(files(repo)).toContain(tip(repo));
    const objects = readFile(path.join(cacheDir(repo), tip(repo)));
    // The commit, its root tree, state.json, the live event segment, the locks and knowledge trees and their files.
    expect(objects[0]).toMatchObject({ oid: tip(repo), type: 'commit' });
    const names = git(repo, 'ls-tree', '-r', '-t', 'refs/heads/orchestrator').split('\n').map((l) => l.split('\t')[1]);
    expect(names).toEqual(expect.arrayContaining(['state.json', 'events.jsonl', 'locks', 'knowledge']));
    const wanted = ['state.json', 'events.jsonl'].map((n) => git(repo, 'rev-parse', `refs/heads/orchestrator:${n}`));
    expect(objects.map((o) => o.oid)).toEqual(expect.arrayContaining(wanted));
    expectGitHas(repo, objects);
  });

  it('lets a read-only command answer without inflating anything, with the answer it gives without the cache', () => {
    const repo = board();
    const cached = runReportingZlib(repo, 'status');
    expect(cached.zlib).toBe(false);
    for (const args of [['t', 'list', 'web'], ['events', '--last', '5'], ['kb', 'read', 'notes']]) {
      const fast = run(repo, ...args);
      fs.rmSync(cacheDir(repo), { recursive: true, force: true });
      expect(run(repo, ...args)).toBe(fast);
    }
    // Without its file a command inflates (so the check above can fail), and leaves the file for the next.
    fs.rmSync(cacheDir(repo), { recursive: true, force: true });
    const slow = runReportingZlib(repo, 'status');
    expect(slow.zlib).toBe(true);
    expect(slow.stdout.replace(/\[\d\d:\d\d:\d\d\]/g, '')).toBe(cached.stdout.replace(/\[\d\d:\d\d:\d\d\]/g, ''));
    expect(files(repo)).toContain(tip(repo));
    expect(runReportingZlib(repo, 'status').zlib).toBe(false);
  });

  it('reads a damaged file the usual way, and writes it again', () => {
    const repo = board();
    const file = path.join(cacheDir(repo), tip(repo));
    const expected = run(repo, 't', 'list', 'web');
    const whole = fs.readFileSync(file);
    const header = whole.subarray(0, whole.indexOf(10) + 1);
    const lie = Buffer.from(header.toString('latin1').replace(/"commit":"[0-9a-f]{40}"/, `"commit":"${'0'.repeat(40)}"`), 'latin1');
    for (const damaged of [whole.subarray(0, whole.length - 7), Buffer.from('not json\n'), Buffer.concat([whole, Buffer.from('x')]), Buffer.alloc(0), Buffer.concat([lie, whole.subarray(header.length)])]) {
      fs.writeFileSync(file, damaged);
      expect(run(repo, 't', 'list', 'web')).toBe(expected);
      // Written again with what this command read: the objects git has.
      const objects = readFile(file);
      expect(objects[0]).toMatchObject({ oid: tip(repo), type: 'commit' });
      expectGitHas(repo, objects);
    }
  });

  it('keeps the newest few files', () => {
    const repo = board();
    for (let i = 0; i < 12; i++) run(repo, 't', 'add', 'web', `task ${i}`);
    const left = files(repo);
    expect(left.length).toBeLessThanOrEqual(4);
    expect(left).toContain(tip(repo));
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);
  });
});
