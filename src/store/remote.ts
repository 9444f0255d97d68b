/**
 * Fetch and push of the coordination branch through the git binary (via
 * simple-git), so every transport git knows works: paths, file://, ssh,
 * https with the user's credential helpers.
 *
 * simple-git is loaded on first use: a repository without a remote never
 * pays for it.
 */
import { OFFLINE_HINT, OrchestratorError } from '../errors.js';
import { allowedGitVariables, gitEnv, transferEnv } from './git-env.js';
import type { RepoPaths } from './repo.js';
import { controlDir, isSshUrl, sharingSshCommand } from './ssh.js';
import type { ObjectStore } from './objects.js';
import { readsLazily } from './state-cache.js';
import { readRef } from './refs.js';
import { buildPack, objectsSince, PushSession, type ReceiveSession, type RefUpdate } from './push-session.js';
import { HttpEndpoint, HttpPushSession, httpEnvironmentSet } from './http-push.js';
import { sectionSet } from './git-config.js';


/**
 * A push's outcome. A rejection is a `race` when the remote moved under us
 * (the branch, or a ref we leased): fetch and try again; otherwise the
 * remote refused (a hook, permissions) and trying again would not help.
 */
export type PushOutcome = { ok: true } | { ok: false; reason: string; stderr: string; race: boolean };

// Failures of a fetch that raced the server's own ref updates, or whose connection the network broke
// (reset, cut mid-transfer) or a proxy in front of the server turned away (502, 503): tried again (a
// fetch only reads). A push is not: the server may have taken it before the connection broke.
const TRANSIENT_FETCH =
  /not our ref|could not read loose ref|unable to resolve reference|cannot lock ref|Connection reset by peer|early EOF|the remote end hung up unexpectedly|Empty reply from server|error: 50[23]\b|HTTP 50[23]\b/i;

// A connection that failed before it ran anything: sshd drops new connections beyond its MaxStartups
// (10 unauthenticated at once by default) during a burst, and a shared connection beyond its
// MaxSessions (10) makes ssh open one of its own; a network may reset a connection as it opens (ssh:
// "UNKNOWN port -1", it never had a peer, or "connect to host"; curl: "Failed to connect"); a server
// that restarts refuses connections for a moment. Nothing reached git on the server, so the command
// (a push too) is run again, after a pause that grows each time. (With LogLevel ERROR or QUIET, ssh
// says nothing of a reset as it connects: that failure stands.)
const NOT_CONNECTED =
  /kex_exchange_identification|ssh_exchange_identification|banner exchange|Connection (?:reset|closed) by UNKNOWN port -1|connect to host \S+ port \d+: Connection (?:reset|refused)|Failed to connect to /i;
const SSHD_TURNED_AWAY = /exchange_identification|banner exchange/i;
const CONNECT_TRIES = 6;
/** How long git pushes alone after the server did not take a session's push. */
const SESSIONS_OFF_MS = 10 * 60_000;

/** One more ref to change in the same atomic push: `to` null deletes; `expect` leases its current value (null: must not exist). */
export interface RefChange {
  ref: string;
  to: string | null;
  expect?: string | null;
}

/**
 * The remote's request board: operations waiting to be carried, one ref
 * each under `remotePrefix` (fetched under `localPrefix`); an announce
 * ref, which every push built without a fetch leases and which a request
 * that keeps losing moves, so a writer that keeps winning without looking
 * hears that others wait; and a carrier ref, naming the request whose
 * writer carries the waiting ones next.
 */
export interface RequestBoard {
  readonly remotePrefix: string;
  readonly localPrefix: string;
  readonly announceRef: string;
  readonly carrierRef: string;
  /**
   * Publishes a request commit; with `carrier`, also makes it the carrier
   * when there is none, in the same push. `published` false: the remote
   * refused.
   */
  publish(oid: string, ref: string, carrier: boolean): Promise<{ published: boolean; carrier: boolean }>;
  /** Makes `oid` the carrier if the carrier ref is still `expect` (null: there is none); whether it did. */
  takeCarrier(oid: string, expect: string | null): Promise<boolean>;
  /** Removes the carrier ref if it is still `expect`. */
  releaseCarrier(expect: string): Promise<void>;
  /** Deletes our request if it is still `expect`; 'gone' when it was carried (or removed) first. */
  withdraw(ref: string, expect: string): Promise<'withdrawn' | 'gone'>;
  /** Moves the announce ref to a new commit `oid` (a writer that wins without fetching then fails its lease and fetches). */
  announce(oid: string): Promise<void>;
}

/** How the branch travels to and from a remote. */
export interface Transport {
  /** The remote's name ("origin"). */
  readonly name: string;
  /** "git": the git binary; "local": in process, for a remote on this file system. */
  readonly kind: 'git' | 'local';
  readonly trackingRef: string;
  /** Fetching costs next to nothing (no process to start): fetch before every write. */
  readonly cheapFetch?: boolean;
  /** Brings the remote's branch into the tracking ref; "absent" when the remote has no such branch. */
  fetch(): Promise<'fetched' | 'absent'>;
  /** Makes `commit` the remote branch if it is still at `base` (fast-forward only), with `extra` changes in the same atomic push. */
  push(commit: string, base: string | null, extra?: RefChange[]): Promise<PushOutcome>;
  /** The remote's request board, when the transport has one (see RequestBoard). */
  readonly requests?: RequestBoard;
  /** A git directory every clone of this remote can reach (a remote on this file system): writers of all clones share their turn there. */
  sharedDir?(): string;
  /** A push is coming: open what it needs ahead of time (see PushSession). */
  prepare?(): void;
  close?(): void;
}

interface RawResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Options that keep a transfer to the one process git needs for it: no
 * background maintenance after a fetch (the store packs objects itself), no
 * submodules, no tags, and no client hooks on push (pre-push hooks guard
 * code, and a coordination write must not wait for them).
 */
const QUIET_CONFIG = ['-c', 'maintenance.auto=false', '-c', 'gc.auto=0', '-c', 'fetch.recurseSubmodules=false', '-c', 'push.recurseSubmodules=no', '-c', 'push.followTags=false'];

export class GitTransport implements Transport {
  readonly kind = 'git' as const;
  private lib: typeof import('simple-git') | null = null;
  private envCache: NodeJS.ProcessEnv | null = null;

  /** The session the next push uses (see PushSession, HttpPushSession); the ssh command and arguments git runs to push to this remote. */
  private session: ReceiveSession | null = null;
  private sshCall: { command: string; args: string[] } | null | undefined;
  /** Where pushes over HTTP go in process, and the connection they keep (null: git pushes). */
  private http: HttpEndpoint | null | undefined;
  /** Until when (Date.now()) git pushes instead: the server did not take a session's push. */
  private sessionsOffUntil = 0;

  constructor(
    readonly repo: RepoPaths,
    readonly name: string,
    readonly branch: string,
    readonly url: string = '',
    /** The clone's objects: with them, pushes over ssh and HTTP go through a session opened ahead (see PushSession). */
    private readonly objects: ObjectStore | null = null,
    /** False when git pushes elsewhere than `url` (a pushurl, an insteadOf rule): then only git's own push is used. */
    private readonly direct = true,
  ) {}

  /**
   * The environment of our git processes: the user's, with ssh connection
   * sharing added for an ssh remote (ORCHESTRATOR_SSH_REUSE=0 leaves ssh alone).
   */
  private env(): NodeJS.ProcessEnv {
    if (this.envCache) return this.envCache;
    const env = transferEnv();
    if (isSshUrl(this.url) && process.env.ORCHESTRATOR_SSH_REUSE !== '0' && !env.GIT_SSH) {
      let base = env.GIT_SSH_COMMAND;
      if (base === undefined) {
        // core.sshCommand from any config level (GIT_SSH_COMMAND would override it, so it is read and kept).
        const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
        const r = spawnSync('git', ['config', '--get', 'core.sshCommand'], { cwd: this.repo.gitdir, env: gitEnv(), encoding: 'utf8' });
        base = r.status === 0 ? r.stdout.trim() : undefined;
      }
      const sharing = sharingSshCommand(base, controlDir());
      if (sharing) env.GIT_SSH_COMMAND = sharing;
    }
    return (this.envCache = env);
  }

  get trackingRef(): string {
    return `refs/remotes/${this.name}/${this.branch}`;
  }

  /** Runs one git command; again when it could not connect (see NOT_CONNECTED). */
  private async raw(args: string[]): Promise<RawResult> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.rawOnce(args);
      if (r.exitCode === 0 || !NOT_CONNECTED.test(r.stderr)) return r;
      if (attempt >= CONNECT_TRIES) {
        const why = SSHD_TURNED_AWAY.test(r.stderr) ? ' (sshd turns new connections away beyond its MaxStartups)' : '';
        return { ...r, stderr: `could not connect to the server ${attempt} times in a row${why}\n${r.stderr}` };
      }
      // 50, 100, 200, 400, 800 ms, each between half and one and a half times that.
      await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt * (0.5 + Math.random())));
    }
  }

  /**
   * Runs one git command once. simple-git turns failures into errors that
   * keep only a message, so every call gets its own instance whose error
   * hook records the exit status and both streams, and reports success.
   */
  private async rawOnce(args: string[]): Promise<RawResult> {
    // Loaded here, not at the top: commands on a repository without a remote never pay for it.
    this.lib ??= require('simple-git') as typeof import('simple-git');
    let outcome: RawResult | null = null;
    const git = this.lib.simpleGit({
      baseDir: this.repo.workdir ?? this.repo.gitdir,
      // Resolve on 'close' only: the default also waits 50 ms after 'exit'.
      completion: { onClose: true, onExit: false },
      allowEnvironment: allowedGitVariables(this.env()),
      // simple-git guards against untrusted arguments and environments. Our
      // arguments are fixed (remote and branch names are validated) and the
      // environment is the user's own: ssh commands, askpass and credential
      // helpers, config from the environment (CI systems) must keep working.
      unsafe: {
        allowUnsafeSshCommand: true,
        allowUnsafeAskPass: true,
        allowUnsafeCredentialHelper: true,
        allowUnsafeConfigPaths: true,
        allowUnsafeConfigEnvCount: true,
        allowUnsafeGitProxy: true,
        allowUnsafeExec: true,
        allowUnsafeTemplateDir: true,
        allowUnsafeProtocolOverride: true,
      },
      errors: (_error, result) => {
        outcome = {
          exitCode: result.exitCode,
          stdout: Buffer.concat(result.stdOut).toString('utf8'),
          stderr: Buffer.concat(result.stdErr).toString('utf8'),
        };
        return undefined;
      },
    }).env(this.env());
    try {
      const stdout = await git.raw(args);
      return outcome ?? { exitCode: 0, stdout, stderr: '' };
    } catch (err) {
      throw new OrchestratorError('REMOTE', `cannot run git ${args[0]}: ${(err as Error).message}`);
    }
  }

  /**
   * Fetches the branch into the remote-tracking ref. Returns the remote's tip,
   * or null when the remote does not have the branch yet.
   */
  async fetch(): Promise<'fetched' | 'absent'> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.fetchOnce();
      if (r === 'fetched' || r === 'absent') return r;
      // A ref the server was changing as it listed them (its loose ref file read half-written or gone)
      // is advertised as 0000... and the fetch fails "not our ref": a moment later it reads again. So
      // does a connection the network broke (see TRANSIENT_FETCH).
      // (One that could not connect was tried again already: raw.)
      if (attempt >= 3 || !TRANSIENT_FETCH.test(r.stderr) || NOT_CONNECTED.test(r.stderr)) throw remoteError(`fetch from "${this.name}" failed`, r.stderr);
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }

  private async fetchOnce(): Promise<'fetched' | 'absent' | RawResult> {
    // -v: simple-git waits 50 ms longer for commands that print nothing.
    const r = await this.raw([
      ...QUIET_CONFIG,
      'fetch',
      '-v',
      '--prune',
      '--no-tags',
      '--no-write-fetch-head',
      '--no-recurse-submodules',
      this.name,
      `+refs/heads/${this.branch}:${this.trackingRef}`,
      `+${this.requests.remotePrefix}*:${this.requests.localPrefix}*`,
    ]);
    if (r.exitCode === 0) return 'fetched';
    if (/couldn't find remote ref/i.test(r.stderr)) return 'absent';
    return r;
  }

  /**
   * Pushes `commit` as the remote branch, fast-forward only. A rejection is
   * returned, not thrown: the caller fetches and tells a race (the remote
   * moved) from a refusal (a hook, permissions) by whether the tip changed.
   */
  async push(commit: string, base: string | null = null, extra: RefChange[] = []): Promise<PushOutcome> {
    // Leases go to the server as the values the refs must have (git push checks them against what the server listed).
    const old = await this.serverBase(base);
    const bySession = extra.every((c) => c.expect !== undefined) ? await this.pushBySession([{ ref: `refs/heads/${this.branch}`, old, new: commit }, ...extra.map((c) => ({ ref: c.ref, old: c.expect!, new: c.to }))], commit, old) : null;
    if (bySession) return bySession;
    const args = [...QUIET_CONFIG, 'push', '--porcelain', '--no-verify', '--no-follow-tags'];
    if (extra.length) args.push('--atomic');
    for (const c of extra) if (c.expect !== undefined) args.push(`--force-with-lease=${c.ref}:${c.expect ?? ''}`);
    args.push(this.name, `${commit}:refs/heads/${this.branch}`, ...extra.map((c) => `${c.to ?? ''}:${c.ref}`));
    return this.pushOutcome(await this.raw(args), `refs/heads/${this.branch}`);
  }

  /**
   * The value a session's push expects the branch to have on the server:
   * `base`, or where the branch was last seen there when that is an
   * ancestor of `base`, or none when it was never seen there (commits made
   * offline since then travel in the same pack, as git push, fast-forward
   * only, would send them).
   */
  private async serverBase(base: string | null): Promise<string | null> {
    if (base === null || !this.objects) return base;
    const seen = readRef(this.repo, this.trackingRef);
    // Never seen there (a branch made before the remote, or not fetched yet): it must not exist yet.
    if (seen === null) return null;
    if (seen === base) return base;
    let c: string | undefined = base;
    for (let i = 0; c && i < 256; i++) {
      if (c === seen) return seen;
      c = (await this.objects.readCommit(c).catch(() => null))?.parents[0];
    }
    return base;
  }

  /**
   * Opens the session the next push will use, unless one is open: over ssh
   * with connection sharing, when the clone's objects are at hand, unless
   * ORCHESTRATOR_PUSH_SESSION=0.
   */
  prepare(): void {
    if (this.session?.usable()) return;
    this.session?.close();
    this.session = null;
    if (!this.objects || Date.now() < this.sessionsOffUntil || process.env.ORCHESTRATOR_PUSH_SESSION === '0') return;
    const http = this.httpEndpoint();
    if (http) {
      this.session = new HttpPushSession(http);
      return;
    }
    const call = this.learnSshCall();
    if (!call) return;
    this.session = new PushSession(call.command, call.args, this.env());
  }

  close(): void {
    this.session?.close();
    this.session = null;
    this.http?.close();
    this.http = undefined;
  }

  /**
   * Where an HTTP push goes in process: this remote's url, when git would
   * push to it as it is and the plain way (see http-push.ts); else null.
   */
  private httpEndpoint(): HttpEndpoint | null {
    if (this.http !== undefined) return this.http;
    this.http = null;
    if (!this.direct || !/^https?:\/\//i.test(this.url)) return null;
    if (httpEnvironmentSet(process.env, /^https:/i.test(this.url)) || sectionSet(this.repo.commondir, 'http', this.repo.gitdir)) return null;
    try {
      return (this.http = HttpEndpoint.of(this.url, (u) => this.fillCredentials(u)));
    } catch {
      // A CA file that cannot be read: git says so when it pushes.
      return null;
    }
  }

  /** What git's credential helpers give for `url` (`git credential fill`, never prompting); null when none. */
  private fillCredentials(url: URL): Promise<{ username: string; password: string } | null> {
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    return new Promise((resolve) => {
      const child = spawn('git', ['-c', 'core.askPass=', 'credential', 'fill'], {
        cwd: this.repo.workdir ?? this.repo.gitdir,
        env: { ...this.env(), GIT_TERMINAL_PROMPT: '0', GCM_INTERACTIVE: 'never', GIT_ASKPASS: '', SSH_ASKPASS: '' },
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.on('error', () => resolve(null));
      child.on('close', (code) => {
        const field = (k: string) => out.split('\n').find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1);
        const username = field('username');
        const password = field('password');
        resolve(code === 0 && username !== undefined && password !== undefined ? { username, password } : null);
      });
      child.stdin.on('error', () => undefined);
      const lines = [`protocol=${url.protocol.slice(0, -1)}`, `host=${url.host}`, `path=${decodeURIComponent(url.pathname.replace(/^\//, ''))}`];
      if (url.username) lines.push(`username=${decodeURIComponent(url.username)}`);
      child.stdin.end(lines.join('\n') + '\n\n');
    });
  }

  /** The push through a session; null when there is none or it could not be used (then git pushes). */
  private async pushBySession(updates: RefUpdate[], commit: string, base: string | null): Promise<PushOutcome | null> {
    this.prepare();
    const session = this.session;
    if (!session) return null;
    this.session = null;
    try {
      // An object that cannot be read here (a repository git reads better than this): git pushes.
      const objects = await objectsSince(this.objects!, commit, base).catch(() => null);
      if (!objects) {
        session.close();
        return null;
      }
      const r = await session.push(updates, buildPack(objects));
      if (r.kind === 'report') return this.pushOutcome({ exitCode: r.ok ? 0 : 1, stdout: r.porcelain, stderr: r.stderr }, updates[0].ref);
      if (r.kind === 'broken') throw remoteError(`push to "${this.name}" failed: the connection closed before the server reported`, r.stderr);
      // A server that does not take this kind of push: git pushes for a while (a process that keeps
      // writing tries again later, with credentials asked for anew: a proxy's mistake or a token that
      // expired does not cost it its sessions for good).
      if (r.kind === 'unsupported') {
        this.sessionsOffUntil = Date.now() + SESSIONS_OFF_MS;
        this.http?.close();
        this.http = undefined;
      }
      return null;
    } finally {
      // A process that keeps writing finds the next push's connection open; a command's process ends.
      if (!readsLazily()) this.prepare();
    }
  }

  /**
   * The ssh command and arguments git runs to push to this remote, learned
   * once by letting git start a stand-in that only writes them down; null
   * when git does not push to it over ssh with our connection sharing.
   */
  private learnSshCall(): { command: string; args: string[] } | null {
    if (this.sshCall !== undefined) return this.sshCall;
    this.sshCall = null;
    const env = this.env();
    const command = env.GIT_SSH_COMMAND;
    if (!isSshUrl(this.url) || !command || !command.includes('ControlPath=')) return null;
    const fs = require('node:fs') as typeof import('node:fs');
    const path = require('node:path') as typeof import('node:path');
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    let dir: string | null = null;
    try {
      dir = fs.mkdtempSync(path.join((require('node:os') as typeof import('node:os')).tmpdir(), 'orchestrator-push-'));
      const file = path.join(dir, 'args');
      const stand = `f() { printf '%s\\0' "$@" > '${file.replace(/'/g, `'\\''`)}'; }; f`;
      spawnSync('git', [...QUIET_CONFIG, 'push', '--porcelain', '--no-verify', this.name, `${'0'.repeat(39)}1:refs/heads/${this.branch}`], {
        cwd: this.repo.workdir ?? this.repo.gitdir,
        env: { ...env, GIT_SSH_COMMAND: stand, GIT_SSH_VARIANT: 'ssh' },
        stdio: 'ignore',
      });
      const args = fs.readFileSync(file, 'utf8').split('\0');
      args.pop();
      if (args.length && /^git-receive-pack /.test(args[args.length - 1])) this.sshCall = { command, args };
    } catch {
      /* git did not get as far as ssh: it pushes itself */
    } finally {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
    return this.sshCall;
  }

  /**
   * The flag a porcelain push report gives `ref` (' ' '+' '-' '*' '=': done, '!': rejected); a report
   * without it means the push failed as a whole (thrown), or, unless `required`, that it was not asked for
   * ('!' then).
   */
  private refFlag(r: RawResult, ref: string, required = true): string {
    const line = r.stdout.split('\n').find((l) => /^[ +\-*=!]\t/.test(l) && l.includes(`:${ref}\t`));
    if (line) return line[0];
    if (required) throw remoteError(`push to "${this.name}" failed`, r.stderr);
    return '!';
  }

  /** Reads a porcelain push report ("<flag>\t<from>:<to>\t<summary>") for `ref`; judged by the flag column. */
  private pushOutcome(r: RawResult, ref: string): PushOutcome {
    const lines = r.stdout.split('\n').filter((l) => /^[ +\-*=!]\t/.test(l));
    const line = lines.find((l) => l.includes(`:${ref}\t`));
    if (line && r.exitCode === 0 && line[0] !== '!') return { ok: true };
    if (line && line[0] === '!') {
      const rejected = lines.filter((l) => l[0] === '!');
      // The branch (or a ref we leased) moved: a race. Anything else is the remote's refusal.
      const race = rejected.every((l) => /\((fetch first|non-fast-forward|stale info|atomic push failed|atomic transaction failed|failed to update ref|failed to lock|cannot lock ref[^)]*)\)/.test(l));
      const own = line.split('\t')[2] ?? line;
      const reason = own.includes('atomic push failed') ? rejected.map((l) => l.split('\t')[2]).find((x) => x && !x.includes('atomic push failed')) ?? own : own;
      return { ok: false, reason, stderr: r.stderr, race };
    }
    throw remoteError(`push to "${this.name}" failed`, r.stderr);
  }

  private board: RequestBoard | null = null;

  /** The request board of this remote's branch (see RequestBoard). */
  get requests(): RequestBoard {
    return (this.board ??= this.makeBoard());
  }

  private makeBoard(): RequestBoard {
    const board: RequestBoard = {
    remotePrefix: `refs/orchestrator/requests/${this.branch}/`,
    localPrefix: `refs/orchestrator/remotes/${this.name}/requests/${this.branch}/`,
    announceRef: `refs/orchestrator/requests/${this.branch}/announce`,
    carrierRef: `refs/orchestrator/requests/${this.branch}/carrier`,
    publish: async (oid, ref, carrier) => {
      // Not atomic: each ref is judged alone. The carrier ref is created only where there is none.
      const lease = carrier ? [`--force-with-lease=${board.carrierRef}:`] : [];
      const refs = carrier ? [`${oid}:${board.carrierRef}`] : [];
      // The announce ref is left alone: a publication is what every writer that looks sees, and one
      // more ref is one more run of the server's update hook on every publication (a third of a
      // fetch over gitolite). A writer that keeps winning without looking hears of a request that
      // keeps losing through `announce` (see ChainWriter.publish).
      const r = await this.raw([...QUIET_CONFIG, 'push', '--porcelain', '--no-verify', '--no-follow-tags', ...lease, this.name, `${oid}:${ref}`, ...refs]);
      // Published when the request's own ref was created.
      const published = this.refFlag(r, ref) !== '!';
      return { published, carrier: carrier && this.refFlag(r, board.carrierRef, false) !== '!' };
    },
    takeCarrier: async (oid, expect) => {
      const r = await this.raw([...QUIET_CONFIG, 'push', '--porcelain', '--no-verify', '--no-follow-tags', `--force-with-lease=${board.carrierRef}:${expect ?? ''}`, this.name, `+${oid}:${board.carrierRef}`]);
      return this.refFlag(r, board.carrierRef) !== '!';
    },
    releaseCarrier: async (expect) => {
      await this.raw([...QUIET_CONFIG, 'push', '--porcelain', '--no-verify', `--force-with-lease=${board.carrierRef}:${expect}`, this.name, `:${board.carrierRef}`]);
    },
    withdraw: async (ref, expect) => {
      const r = await this.raw([...QUIET_CONFIG, 'push', '--porcelain', '--no-verify', `--force-with-lease=${ref}:${expect}`, this.name, `:${ref}`]);
      return this.pushOutcome(r, ref).ok ? 'withdrawn' : 'gone';
    },
    announce: async (oid) => {
      await this.raw([...QUIET_CONFIG, 'push', '--porcelain', '--no-verify', '--no-follow-tags', this.name, `+${oid}:${board.announceRef}`]);
    },
    };
    return board;
  }
}

export function rejectedError(remote: string, outcome: { reason: string; stderr: string }): OrchestratorError {
  return remoteError(`push to "${remote}" was rejected: ${outcome.reason}`, outcome.stderr, { rejected: true });
}

function remoteError(what: string, stderr: string, data: Record<string, unknown> = {}): OrchestratorError {
  const detail = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(To |From |Done$|hint:)/.test(l))
    .slice(0, 6)
    .join('; ');
  // A refusal is the remote's answer (a hook, permissions): working offline would not change it.
  const hint = data.rejected ? '' : OFFLINE_HINT;
  return new OrchestratorError('REMOTE', `${what}${detail ? ': ' + detail : ''}${hint}`, { ...data, stderr: stderr.slice(0, 2000) });
}
