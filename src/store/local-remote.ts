/**
 * The local transport: a remote on this file system (a path or file:// URL)
 * is pushed to and fetched from in process. Pushing is what receive-pack
 * does for a fast-forward (copy the missing objects, then compare-and-swap
 * the ref under git's lock-file protocol), without the six to eight
 * process spawns of `git push` (one spawn costs several milliseconds).
 *
 * It is used only when it is equivalent to `git push`: the remote has no
 * receive hooks, checks no objects on receive, is not a shared-permission
 * repository and uses files for refs. Otherwise, and with
 * ORCHESTRATOR_TRANSPORT=git, the git binary is used.
 *
 * All clones of one local remote share a writer lock in the remote, so
 * writers on different clones queue instead of racing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectStore, TREE_MODE } from './objects.js';
import { casRef, readRef } from './refs.js';
import { OFFLINE_HINT, OrchestratorError } from '../errors.js';
import { GitTransport, type PushOutcome, type Transport } from './remote.js';
import { findRepo, type RepoPaths } from './repo.js';
import { gitEnv } from './git-env.js';

const RECEIVE_HOOKS = ['pre-receive', 'update', 'post-receive', 'post-update', 'reference-transaction', 'proc-receive', 'push-to-checkout'];

/** The repository a remote URL names, when it is a local path git would reach with its local transport. */
export function localRemotePath(url: string, base: string): string | null {
  // (An empty url is no path: it would name the repository itself.)
  if (!url) return null;
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch {
      return null;
    }
  }
  // scp-like "host:path" and URLs with a scheme are network remotes.
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) return null;
  if (/^[^/]+:/.test(url) && !path.isAbsolute(url)) return null;
  return path.resolve(base, url);
}

const CONFIG_KEYS = ['core.hookspath', 'receive.fsckobjects', 'transfer.fsckobjects', 'core.sharedrepository', 'extensions.refstorage', 'receive.procreceiverefs'];
const configCache = new Map<string, { stamp: string; values: Map<string, string> }>();

/** What identifies the config git would read for `repo` now: files' mtimes and GIT_CONFIG* variables. */
function configStamp(repo: RepoPaths): string {
  const home = (require('node:os') as typeof import('node:os')).homedir();
  const files = [
    path.join(repo.commondir, 'config'),
    process.env.GIT_CONFIG_GLOBAL ?? path.join(home, '.gitconfig'),
    path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'git', 'config'),
    process.env.GIT_CONFIG_SYSTEM ?? '/etc/gitconfig',
  ];
  const mtimes = files.map((f) => {
    try {
      return String(fs.statSync(f).mtimeMs);
    } catch {
      return '-';
    }
  });
  const env = Object.entries(process.env).filter(([k]) => k.startsWith('GIT_CONFIG'));
  return JSON.stringify([mtimes, env]);
}

/**
 * The receive-side settings git would apply in `repo`: read with git itself
 * (global and system config, includes), cached until a config file changes.
 */
function effectiveConfig(repo: RepoPaths): Map<string, string> {
  const stamp = configStamp(repo);
  const cached = configCache.get(repo.commondir);
  if (cached?.stamp === stamp) return cached.values;
  const values = new Map<string, string>();
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('git', ['config', '--get-regexp', `^(${CONFIG_KEYS.map((k) => k.replace('.', '\\.')).join('|')})$`], { cwd: repo.gitdir, env: gitEnv(), encoding: 'utf8' });
  for (const line of (r.stdout ?? '').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) values.set(line.slice(0, sp).toLowerCase(), line.slice(sp + 1));
    else if (line) values.set(line.toLowerCase(), 'true');
  }
  configCache.set(repo.commondir, { stamp, values });
  return values;
}

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The directory git runs `repo`'s receive hooks from: core.hooksPath (relative to the git directory) or hooks/. */
export function receiveHooksDir(repo: RepoPaths, hooksPath: string | undefined): string {
  return hooksPath ? path.resolve(repo.gitdir, hooksPath.replace(/^~(?=\/|$)/, (require('node:os') as typeof import('node:os')).homedir())) : path.join(repo.commondir, 'hooks');
}

/**
 * Whether pushing to this repository in process is equivalent to git push;
 * the reason when it is not.
 */
export async function localPushBlocker(remote: RepoPaths): Promise<string | null> {
  const config = effectiveConfig(remote);
  const hooksDir = receiveHooksDir(remote, config.get('core.hookspath'));
  const hook = RECEIVE_HOOKS.find((h) => executable(path.join(hooksDir, h)));
  if (hook) return `it has a ${hook} hook`;
  for (const key of ['receive.fsckobjects', 'transfer.fsckobjects']) {
    if (['true', 'yes', 'on', '1'].includes((config.get(key) ?? '').toLowerCase())) return `${key} is set`;
  }
  const shared = config.get('core.sharedrepository');
  if (shared && !['false', 'umask', '0', 'no', 'off'].includes(shared.toLowerCase())) return 'it is a shared repository';
  if (config.get('extensions.refstorage')) return 'it does not store refs in files';
  if (config.get('receive.procreceiverefs')) return 'it hands refs to a proc-receive hook';
  try {
    fs.accessSync(path.join(remote.commondir, 'objects'), fs.constants.W_OK);
    fs.accessSync(path.join(remote.commondir, 'refs'), fs.constants.W_OK);
  } catch {
    return 'it is not writable';
  }
  return null;
}

/**
 * Copies what `tip` needs and `to` lacks, walking back to `stop` or to a
 * commit `to` has (our history is linear). A commit's objects are copied
 * after its tree's and each tree after its entries', so `to` never holds a
 * commit without everything it reaches. That is also why only what differs
 * from the parent's tree needs copying: the parent is in `to` already.
 */
export async function copyHistory(from: ObjectStore, to: ObjectStore, tip: string, stop: string | null): Promise<number> {
  const commits: string[] = [];
  // Walking towards a known stop, a loose-object check suffices (no round trip to git).
  const has = (c: string) => (stop ? to.existsLoose(c) : to.exists(c));
  for (let c: string | undefined = tip; c && c !== stop && !(await has(c)); c = (await from.readCommit(c)).parents[0]) commits.push(c);
  let copied = 0;
  const copyTree = async (oid: string, old: string | null): Promise<void> => {
    if (oid === old) return;
    const before = old ? new Map((await from.readTree(old)).map((e) => [e.name, e])) : new Map();
    for (const e of await from.readTree(oid)) {
      const o = before.get(e.name);
      if (o?.oid === e.oid) continue;
      if (e.mode === TREE_MODE) await copyTree(e.oid, o?.mode === TREE_MODE ? o.oid : null);
      else {
        await to.copyFrom(from, e.oid);
        copied++;
      }
    }
    await to.copyFrom(from, oid);
    copied++;
  };
  for (const c of commits.reverse()) {
    const info = await from.readCommit(c);
    const parent = info.parents[0];
    await copyTree(info.tree, parent ? (await from.readCommit(parent)).tree : null);
    await to.copyFrom(from, c);
    copied++;
  }
  return copied;
}

/** Does `from` reach `target` by first parents? */
async function reaches(objects: ObjectStore, from: string | null, target: string): Promise<boolean> {
  for (let c: string | undefined = from ?? undefined, i = 0; c && i < 100_000; c = (await objects.readCommit(c)).parents[0], i++) if (c === target) return true;
  return false;
}

export class LocalTransport implements Transport {
  readonly kind = 'local' as const;
  readonly cheapFetch = true;
  readonly remoteObjects: ObjectStore;
  private readonly ref: string;
  private readonly viaGit: GitTransport;

  constructor(
    private readonly local: RepoPaths,
    private readonly localObjects: ObjectStore,
    readonly name: string,
    readonly branch: string,
    readonly remote: RepoPaths,
  ) {
    this.remoteObjects = new ObjectStore(remote);
    this.ref = `refs/heads/${branch}`;
    this.viaGit = new GitTransport(local, name, branch);
  }

  private reachable(): void {
    if (!fs.existsSync(path.join(this.remote.commondir, 'HEAD'))) {
      throw new OrchestratorError('REMOTE', `remote "${this.name}" at ${this.remote.workdir ?? this.remote.gitdir} is gone${OFFLINE_HINT}`, {
        remote: this.name,
      });
    }
  }

  get trackingRef(): string {
    return `refs/remotes/${this.name}/${this.branch}`;
  }

  async fetch(): Promise<'fetched' | 'absent'> {
    this.reachable();
    const tip = readRef(this.remote, this.ref);
    if (!tip) return 'absent';
    for (let i = 0; i < 5; i++) {
      const tracking = readRef(this.local, this.trackingRef);
      if (tracking === tip) return 'fetched';
      await copyHistory(this.remoteObjects, this.localObjects, tip, tracking);
      if (await casRef(this.local, { ref: this.trackingRef, expected: tracking, next: tip, message: `fetch ${this.name}` })) return 'fetched';
    }
    return 'fetched';
  }

  async push(commit: string, base: string | null): Promise<PushOutcome> {
    this.reachable();
    // Checked on every push: a hook installed meanwhile must run, so git push takes over.
    if (await localPushBlocker(this.remote)) return this.viaGit.push(commit);
    // Like git push: a fast-forward of the remote's tip. That is `base` itself,
    // or an older commit when `base` holds local commits not pushed yet.
    const remoteTip = readRef(this.remote, this.ref);
    if (remoteTip !== base && remoteTip !== null && !(await reaches(this.localObjects, base, remoteTip))) {
      return { ok: false, reason: '[rejected] (fetch first)', stderr: '', race: true };
    }
    await copyHistory(this.localObjects, this.remoteObjects, commit, remoteTip);
    if (await casRef(this.remote, { ref: this.ref, expected: remoteTip, next: commit, message: 'push' })) return { ok: true };
    return { ok: false, reason: '[remote rejected] (failed to update ref)', stderr: '', race: true };
  }

  sharedDir(): string {
    return this.remote.commondir;
  }

  close(): void {
    this.remoteObjects.close();
  }
}

/** The local transport for `url`, or null when git's own push must be used. */
export async function openLocalTransport(local: RepoPaths, localObjects: ObjectStore, name: string, branch: string, url: string): Promise<LocalTransport | null> {
  if (process.env.ORCHESTRATOR_TRANSPORT === 'git') return null;
  const dir = localRemotePath(url, local.workdir ?? local.gitdir);
  if (!dir || !fs.existsSync(dir)) return null;
  const remote = findRepo(dir);
  if (!remote || (remote.workdir !== dir && remote.gitdir !== dir && remote.gitdir !== path.join(dir, '.git'))) return null;
  return new LocalTransport(local, localObjects, name, branch, remote);
}
