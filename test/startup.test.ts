/**
 * What the CLI answers before it loads anything: the version, the same as
 * the full program answers. How it starts: the bundle from a code cache of
 * its own per command.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { cleanup, GIT_ENV, makeRepo, tempDir } from './helpers/repos.js';

afterAll(cleanup);

const version = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version as string;

describe('CLI start-up', () => {
  it.each([['--version'], ['-V']])('%s prints the package version', (flag) => {
    const r = cli([flag], { cwd: makeRepo() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(version + '\n');
  });

  it('answers the version the full program gives', () => {
    // With another option the flag goes through the command parser.
    const r = cli(['--offline', '--version'], { cwd: makeRepo() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(version + '\n');
  });
});

describe('the code cache', () => {
  // A copy of the built bundle and launcher, so this test owns its cache directory.
  const dist = path.join(__dirname, '..', 'dist');
  function install(): { dir: string; cacheDir: string; run: (args: string[], cwd: string) => { code: number | null; stdout: string; stderr: string } } {
    const dir = tempDir('orc-cache-');
    fs.copyFileSync(path.join(dist, 'cli.bundle.cjs'), path.join(dir, 'cli.bundle.cjs'));
    fs.copyFileSync(path.join(dist, 'cli', 'launcher.js'), path.join(dir, 'launcher.js'));
    fs.writeFileSync(path.join(dir, 'bin.js'), "require('./launcher.js').launch(require('path').join(__dirname, 'cli.bundle.cjs'));\n");
    const run = (args: string[], cwd: string) => {
      const r = spawnSync(process.execPath, [path.join(dir, 'bin.js'), ...args], { cwd, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    return { dir, cacheDir: path.join(dir, '.cache'), run };
  }
  const cacheOf = (cacheDir: string, command: string) => {
    const names = fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir).filter((f) => f.endsWith(`-${command}.v8`)) : [];
    expect(names.length).toBeLessThanOrEqual(1);
    if (!names.length) return undefined;
    const file = fs.readFileSync(path.join(cacheDir, names[0]));
    const nl = file.indexOf(10);
    return { file: path.join(cacheDir, names[0]), paths: JSON.parse(file.toString('utf8', 0, nl)) as string[], bytes: file.length - nl - 1, mtime: fs.statSync(path.join(cacheDir, names[0])).mtimeMs };
  };

  it('keeps one cache per command, written when a command first runs and again only for a code path it lacks', () => {
    const { cacheDir, run } = install();
    const repo = makeRepo();
    expect(run(['--offline', 'init'], repo).code).toBe(0);
    expect(run(['--offline', 'ws', 'create', 'web'], repo).code).toBe(0);
    expect(run(['--offline', 'status'], repo).code).toBe(0);
    const status = cacheOf(cacheDir, 'status')!;
    expect(status.paths).toEqual(['status']);
    expect(status.bytes).toBeGreaterThan(10_000);
    // A second run loads it and leaves it alone.
    const again = run(['--offline', 'status'], repo);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('web');
    expect(cacheOf(cacheDir, 'status')!.mtime).toBe(status.mtime);
    // Another command: its own cache, named by its words (an alias is another name).
    expect(run(['--offline', '--as', 'a1', 't', 'add', 'web', 'first'], repo).code).toBe(0);
    expect(cacheOf(cacheDir, 't-add')!.paths).toEqual(['task add']);
    expect(cacheOf(cacheDir, 'status')!.mtime).toBe(status.mtime);
    // Nothing for a command line that ran no command.
    expect(run(['--offline', 'stauts'], repo).code).toBe(2);
    expect(run(['--offline', 'status', '--help'], repo).code).toBe(0);
    expect(fs.readdirSync(cacheDir).filter((f) => f.includes('stauts')).length).toBe(0);
    expect(cacheOf(cacheDir, 'status')!.mtime).toBe(status.mtime);
    // A cache that holds other code paths of the command (a large board's) gains this run's.
    const data = fs.readFileSync(status.file).subarray(fs.readFileSync(status.file).indexOf(10) + 1);
    fs.writeFileSync(status.file, Buffer.concat([Buffer.from('["status large"]\n'), data]));
    expect(run(['--offline', 'status'], repo).code).toBe(0);
    expect(cacheOf(cacheDir, 'status')!.paths).toEqual(['status large', 'status']);
  });

  it("removes earlier bundles' caches, and keeps at most 40 of this one", () => {
    const { cacheDir, run } = install();
    const repo = makeRepo();
    expect(run(['--offline', 'init'], repo).code).toBe(0);
    const prefix = path.basename(cacheOf(cacheDir, 'init')!.file).slice(0, -'init.v8'.length);
    // Left by an earlier bundle (another size and time) and by a writer that died.
    const stale = ['cli.bundle.cjs-v20.0.0-x64-1-2-3-status.v8', 'cli.bundle.cjs-v20.0.0-x64-1-2-3-t-add.v8.123.tmp'];
    for (const f of stale) fs.writeFileSync(path.join(cacheDir, f), 'old');
    expect(run(['--offline', 'status'], repo).code).toBe(0);
    expect(fs.readdirSync(cacheDir).filter((f) => stale.includes(f))).toEqual([]);
    expect(cacheOf(cacheDir, 'status')).toBeDefined();
    // At the bound, a new command runs without writing one.
    for (let i = fs.readdirSync(cacheDir).length; i < 40; i++) fs.writeFileSync(path.join(cacheDir, `${prefix}filler${i}.v8`), '[]\n');
    const r = run(['--offline', 'ws', 'list'], repo);
    expect(r.code).toBe(0);
    expect(cacheOf(cacheDir, 'ws-list')).toBeUndefined();
    expect(fs.readdirSync(cacheDir).length).toBe(40);
  });

  it("keeps its caches in the user's cache directory when the install is not the user's to write", () => {
    const { dir, cacheDir } = install();
    const repo = makeRepo();
    const home = tempDir('orc-home-');
    // As root (CI), run as nobody: the install and the repository readable, the home its own.
    const asRoot = process.getuid?.() === 0;
    for (const d of [dir, repo, home, path.dirname(dir), path.dirname(repo)]) fs.chmodSync(d, 0o755);
    if (asRoot) {
      fs.chmodSync(home, 0o777);
      spawnSync('chmod', ['-R', 'a+rX', repo]);
    } else fs.chmodSync(dir, 0o555);
    const runAs = (args: string[]) => {
      const r = spawnSync(process.execPath, [path.join(dir, 'bin.js'), ...args], {
        cwd: repo,
        env: { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', ...(asRoot ? { GIT_CONFIG_PARAMETERS: "'safe.directory'='*'" } : {}) },
        encoding: 'utf8',
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    try {
      const first = runAs(['--offline', 'status', '--json']);
      expect(first.stderr).not.toMatch(/Error/);
      const userCache = path.join(home, '.cache', 'git-orchestrator');
      expect(fs.existsSync(cacheDir)).toBe(false);
      const [sub] = fs.readdirSync(userCache);
      expect(fs.readdirSync(path.join(userCache, sub)).filter((f) => f.endsWith('-status.v8')).length).toBe(1);
      expect(runAs(['--offline', 'status', '--json']).stdout).toBe(first.stdout);
    } finally {
      fs.chmodSync(dir, 0o755);
    }
  });

  it('runs the same with a cache that is damaged, foreign or cannot be written, and mends it', () => {
    const { cacheDir, run } = install();
    const repo = makeRepo();
    expect(run(['--offline', 'init'], repo).code).toBe(0);
    expect(run(['--offline', 'ws', 'create', 'web'], repo).code).toBe(0);
    const good = run(['--offline', 'status'], repo);
    const { file } = cacheOf(cacheDir, 'status')!;
    for (const damage of [Buffer.from('["status"]\n' + 'x'.repeat(5000)), Buffer.from('not json\n'), Buffer.alloc(0)]) {
      fs.writeFileSync(file, damage);
      const r = run(['--offline', 'status'], repo);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(good.stdout);
      const mended = cacheOf(cacheDir, 'status')!;
      expect(mended.paths).toEqual(['status']);
      expect(mended.bytes).toBeGreaterThan(10_000);
    }
    // A read-only install: no cache, same answer.
    fs.rmSync(cacheDir, { recursive: true });
    fs.writeFileSync(cacheDir, 'a file where the directory would be');
    const r = run(['--offline', 'status'], repo);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(good.stdout);
  });
});
