/**
 * Installs the pre-receive hook that guards the coordination branch of a
 * shared repository (usually the bare remote). Installing twice is harmless;
 * a pre-receive hook of the user's is kept and runs first.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { gitEnv } from '../store/git-env.js';
import { receiveHooksDir } from '../store/local-remote.js';
import { checkBranchName } from '../store/git-store.js';
import { requireRepo, type RepoPaths } from '../store/repo.js';

export const HOOK_MARKER = 'orchestrator-hook';

function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    if (fs.existsSync(path.join(dir, 'hooks', 'pre-receive')) && fs.existsSync(path.join(dir, 'dist', 'hook.bundle.cjs'))) return dir;
    dir = path.dirname(dir);
  }
  throw new OrchestratorError('INTERNAL', 'hooks/pre-receive or dist/hook.bundle.cjs is missing from this installation (run npm run build)');
}

/** The directory, beside the hook, that holds everything the check runs: nothing outside the repository. */
export const CHECK_DIR = 'orchestrator-check';

/**
 * Copies the check into the hooks directory: the self-contained check
 * bundle, the launcher that starts it from a code cache, and the entry the
 * hook runs. Moving, upgrading or deleting the package leaves it working.
 */
function copyCheck(root: string, hooksDir: string): void {
  const dir = path.join(hooksDir, CHECK_DIR);
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  fs.copyFileSync(path.join(root, 'dist', 'hook.bundle.cjs'), path.join(tmp, 'check.cjs'));
  fs.copyFileSync(path.join(root, 'dist', 'cli', 'launcher.js'), path.join(tmp, 'launcher.cjs'));
  fs.writeFileSync(
    path.join(tmp, 'run.cjs'),
    "'use strict';\n// Runs the orchestrator's pre-receive check (copied here by `orchestrator hooks install`).\nrequire('./launcher.cjs').launch(require('path').join(__dirname, 'check.cjs'));\n",
  );
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
}

/** Where git runs this repository's receive hooks (core.hooksPath from every config level, relative to the git directory). */
async function hooksDir(repo: RepoPaths): Promise<string> {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('git', ['config', '--get', 'core.hooksPath'], { cwd: repo.gitdir, env: gitEnv(), encoding: 'utf8' });
  return receiveHooksDir(repo, r.status === 0 ? r.stdout.trim() : undefined);
}

/** Single-quoted for sh. */
function shQuote(s: string): string {
  return s.replace(/'/g, `'\\''`);
}

export interface HookStatus {
  repo: string;
  hook: string;
  branches: string[];
  chained: boolean;
}

export async function installHook(target: string, branches: string[]): Promise<HookStatus & { replaced: boolean }> {
  if (!branches.length) throw new OrchestratorError('INVALID_INPUT', 'name at least one branch to guard');
  for (const b of branches) checkBranchName(b);
  const repo = requireRepo(target);
  const dir = await hooksDir(repo);
  fs.mkdirSync(dir, { recursive: true });
  const hook = path.join(dir, 'pre-receive');
  const chained = path.join(dir, 'pre-receive.chained');
  let replaced = false;
  if (fs.existsSync(hook)) {
    const current = fs.readFileSync(hook, 'utf8');
    if (current.includes(HOOK_MARKER)) replaced = true;
    else if (fs.existsSync(chained)) {
      throw new OrchestratorError('CONFLICT', `${hook} is not ours and ${chained} exists too; move one of them away first`, { hook });
    } else fs.renameSync(hook, chained);
  }
  const root = packageRoot();
  copyCheck(root, dir);
  const script = fs
    .readFileSync(path.join(root, 'hooks', 'pre-receive'), 'utf8')
    .replace('@BRANCHES@', shQuote(branches.join(',')))
    .replace('@NODE@', shQuote(process.execPath));
  const tmp = `${hook}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, script, { mode: 0o755 });
  fs.renameSync(tmp, hook);
  return { repo: repo.workdir ?? repo.gitdir, hook, branches, chained: fs.existsSync(chained), replaced };
}

export async function uninstallHook(target: string): Promise<{ repo: string; restored: boolean }> {
  const repo = requireRepo(target);
  const dir = await hooksDir(repo);
  const hook = path.join(dir, 'pre-receive');
  if (!fs.existsSync(hook) || !fs.readFileSync(hook, 'utf8').includes(HOOK_MARKER)) {
    throw new OrchestratorError('NOT_FOUND', `the orchestrator hook is not installed in ${repo.workdir ?? repo.gitdir}`);
  }
  fs.rmSync(hook);
  fs.rmSync(path.join(dir, CHECK_DIR), { recursive: true, force: true });
  const chained = path.join(dir, 'pre-receive.chained');
  const restored = fs.existsSync(chained);
  if (restored) fs.renameSync(chained, hook);
  return { repo: repo.workdir ?? repo.gitdir, restored };
}
