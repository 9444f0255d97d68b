/**
 * Finds the git repository that holds a directory, without spawning git:
 * a work tree with `.git/`, a linked work tree or submodule (`.git` file),
 * or a bare repository. Refs and objects live in the common directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OrchestratorError } from '../errors.js';

export interface RepoPaths {
  /** The repository's own git directory (per work tree). */
  gitdir: string;
  /** Where refs, objects and config live (differs from gitdir in linked work trees). */
  commondir: string;
  /** The work tree, or null for a bare repository. */
  workdir: string | null;
}

function isGitDir(dir: string): boolean {
  try {
    return fs.statSync(path.join(dir, 'HEAD')).isFile() && fs.statSync(path.join(dir, 'objects')).isDirectory() && fs.existsSync(path.join(dir, 'refs'));
  } catch {
    return false;
  }
}

function commonDirOf(gitdir: string): string {
  try {
    const rel = fs.readFileSync(path.join(gitdir, 'commondir'), 'utf8').trim();
    return path.resolve(gitdir, rel);
  } catch {
    return gitdir;
  }
}

function fromDotGit(dotgit: string, workdir: string): RepoPaths | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(dotgit);
  } catch {
    return null;
  }
  if (st.isDirectory()) {
    if (!isGitDir(dotgit)) return null;
    return { gitdir: dotgit, commondir: commonDirOf(dotgit), workdir };
  }
  const text = fs.readFileSync(dotgit, 'utf8');
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(text);
  if (!m) return null;
  const gitdir = path.resolve(workdir, m[1]);
  if (!isGitDir(gitdir) && !fs.existsSync(path.join(gitdir, 'HEAD'))) return null;
  return { gitdir, commondir: commonDirOf(gitdir), workdir };
}

/** The repository containing `start` (searching upwards), or null. */
export function findRepo(start: string): RepoPaths | null {
  let dir = path.resolve(start);
  for (;;) {
    const found = fromDotGit(path.join(dir, '.git'), dir);
    if (found) return found;
    if (isGitDir(dir)) {
      // A bare repository, or the inside of a .git directory.
      const gitdir = dir;
      const bare = path.basename(dir) !== '.git';
      return { gitdir, commondir: commonDirOf(gitdir), workdir: bare ? null : path.dirname(dir) };
    }
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export function requireRepo(start: string): RepoPaths {
  const repo = findRepo(start);
  if (!repo) {
    throw new OrchestratorError('NOT_FOUND', `not a git repository: ${start} (run "orchestrator init" to create one, or pass --repo)`, { repo: start });
  }
  return repo;
}
