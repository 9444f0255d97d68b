/**
 * The README's examples run as written: every fenced block whose info
 * string says `runnable` (```bash runnable, ```js runnable) is run, each in
 * a fresh git repository with `orchestrator` and `orc` on PATH and
 * `require('git-orchestrator')` resolving to this package (see
 * CONTRIBUTING.md). Shell blocks run with bash -eo pipefail; JavaScript
 * blocks as CommonJS files.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, git, GIT_ENV, tempDir } from './helpers/repos.js';

afterAll(cleanup);

const ROOT = path.resolve(__dirname, '..');

interface Block {
  lang: string;
  code: string;
  /** The section it is in and its line, for the test's name. */
  where: string;
}

export function runnableBlocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  let heading = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#{1,6} (.*)/.exec(lines[i]);
    if (h) heading = h[1];
    const open = /^```(\S+)((?: +\S+)*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    if (open[2].trim().split(/ +/).includes('runnable')) out.push({ lang: open[1], code: body.join('\n') + '\n', where: `${heading}, line ${start + 1}` });
  }
  return out;
}

/** A fresh project repository, a PATH holding the CLI, and node_modules holding this package. */
function sandbox(): { repo: string; env: NodeJS.ProcessEnv } {
  const root = tempDir('orc-readme-');
  const binDir = path.join(root, 'bin');
  fs.mkdirSync(binDir);
  for (const [name, target] of [['orchestrator', 'orchestrator.js'], ['orc', 'orchestrator.js'], ['orchestrator-runner', 'orchestrator-runner.js'], ['orchestrator-server', 'orchestrator-server.js']]) {
    fs.symlinkSync(path.join(ROOT, 'bin', target), path.join(binDir, name));
  }
  fs.mkdirSync(path.join(root, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(root, 'node_modules', 'git-orchestrator'), 'dir');
  const repo = path.join(root, 'project');
  fs.mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.name', 'Readme');
  git(repo, 'config', 'user.email', 'readme@example.com');
  git(repo, 'config', 'gc.auto', '0');
  fs.writeFileSync(path.join(repo, 'README.md'), '# a project\n');
  git(repo, 'add', 'README.md');
  git(repo, 'commit', '-q', '-m', 'initial');
  const env: NodeJS.ProcessEnv = { ...GIT_ENV, PATH: [binDir, path.dirname(process.execPath), process.env.PATH].join(path.delimiter) };
  for (const k of Object.keys(env)) if (k.startsWith('ORCHESTRATOR_')) delete env[k];
  return { repo, env };
}

const blocks = runnableBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));

describe("the README's runnable examples", () => {
  it('finds them: the quick start and the library example at least', () => {
    expect(blocks.filter((b) => b.lang === 'bash').length).toBeGreaterThanOrEqual(1);
    expect(blocks.filter((b) => b.lang === 'js').length).toBeGreaterThanOrEqual(1);
    for (const b of blocks) expect(['bash', 'sh', 'js']).toContain(b.lang);
  });

  it.each(blocks.map((b) => [b.where, b] as const))('runs as written: %s', (_where, block) => {
    const { repo, env } = sandbox();
    let r;
    if (block.lang === 'js') {
      const file = path.join(path.dirname(repo), 'example.cjs');
      fs.writeFileSync(file, block.code);
      r = spawnSync(process.execPath, [file], { cwd: repo, env, encoding: 'utf8' });
    } else {
      r = spawnSync('bash', ['-eo', 'pipefail', '-c', block.code], { cwd: repo, env, encoding: 'utf8' });
    }
    expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    // The work tree is left alone; the branch has the example's commits and they verify.
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(Number(git(repo, 'rev-list', '--count', 'orchestrator'))).toBeGreaterThan(1);
    expect(spawnSync(process.execPath, [path.join(ROOT, 'bin', 'orchestrator.js'), 'verify'], { cwd: repo, env }).status).toBe(0);
  });
});
