/**
 * Real git repositories in temp dirs: a bare remote and N clones, each with
 * automatic gc off and a fixed identity, removed after the test.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  LC_ALL: 'C',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

const made: string[] = [];

export function tempDir(prefix = 'orc-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function cleanup(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

function configure(dir: string): void {
  git(dir, 'config', 'gc.auto', '0');
  git(dir, 'config', 'maintenance.loose-objects.auto', '0');
  git(dir, 'config', 'user.name', 'Test');
  git(dir, 'config', 'user.email', 'test@example.com');
}

/** A plain repository with one commit on main (a user's project). */
export function makeRepo(): string {
  const dir = tempDir();
  git(dir, 'init', '-q', '-b', 'main');
  configure(dir);
  fs.writeFileSync(path.join(dir, 'README.md'), '# project\n');
  git(dir, 'add', 'README.md');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

export interface Cluster {
  root: string;
  remote: string;
  clones: string[];
}

/** A bare remote holding a project, and `n` clones of it. */
export function makeCluster(n: number): Cluster {
  const root = tempDir('orc-cluster-');
  const remote = path.join(root, 'remote.git');
  git(root, 'init', '-q', '--bare', '-b', 'main', remote);
  git(remote, 'config', 'gc.auto', '0');
  git(remote, 'config', 'maintenance.loose-objects.auto', '0');
  const seed = makeRepo();
  git(seed, 'push', '-q', remote, 'main');
  const clones: string[] = [];
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, `clone-${i}`);
    git(root, 'clone', '-q', remote, dir);
    configure(dir);
    clones.push(dir);
  }
  return { root, remote, clones };
}

/** What `git status`, HEAD and the index say; a command must leave it unchanged. */
export function worktreeFingerprint(dir: string): string {
  const index = path.join(dir, '.git', 'index');
  return [
    git(dir, 'status', '--porcelain=v1', '--untracked-files=all'),
    git(dir, 'rev-parse', 'HEAD'),
    git(dir, 'symbolic-ref', 'HEAD'),
    fs.existsSync(index) ? fs.readFileSync(index).toString('base64') : 'no index',
  ].join('\n');
}
