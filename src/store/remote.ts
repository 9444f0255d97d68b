/**
 * Fetch and push of the coordination branch through the git binary (via
 * simple-git), so every transport git knows works: paths, file://, ssh,
 * https with the user's credential helpers.
 *
 * simple-git is loaded on first use: a repository without a remote never
 * pays for it.
 */
import { OrchestratorError } from '../errors.js';
import { allowedGitVariables, transferEnv } from './git-env.js';
import type { RepoPaths } from './repo.js';


export type PushOutcome = { ok: true } | { ok: false; reason: string; stderr: string };

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
  /** Makes `commit` the remote branch if it is still at `base` (fast-forward only). */
  push(commit: string, base: string | null): Promise<PushOutcome>;
  /** A git directory every clone of this remote can reach (a remote on this file system): writers of all clones share their turn there. */
  sharedDir?(): string;
  close?(): void;
}

interface RawResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class GitTransport implements Transport {
  readonly kind = 'git' as const;
  private lib: typeof import('simple-git') | null = null;

  constructor(
    readonly repo: RepoPaths,
    readonly name: string,
    readonly branch: string,
  ) {}

  get trackingRef(): string {
    return `refs/remotes/${this.name}/${this.branch}`;
  }

  /**
   * Runs one git command. simple-git turns failures into errors that keep
   * only a message, so every call gets its own instance whose error hook
   * records the exit status and both streams, and reports success.
   */
  private async raw(args: string[]): Promise<RawResult> {
    // Loaded here, not at the top: commands on a repository without a remote never pay for it.
    this.lib ??= require('simple-git') as typeof import('simple-git');
    let outcome: RawResult | null = null;
    const git = this.lib.simpleGit({
      baseDir: this.repo.workdir ?? this.repo.gitdir,
      // Resolve on 'close' only: the default also waits 50 ms after 'exit'.
      completion: { onClose: true, onExit: false },
      allowEnvironment: allowedGitVariables(),
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
    }).env(transferEnv());
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
    // -v: simple-git waits 50 ms longer for commands that print nothing.
    const r = await this.raw(['fetch', '-v', '--no-tags', '--no-write-fetch-head', this.name, `+refs/heads/${this.branch}:${this.trackingRef}`]);
    if (r.exitCode === 0) return 'fetched';
    if (/couldn't find remote ref/i.test(r.stderr)) return 'absent';
    throw remoteError(`fetch from "${this.name}" failed`, r.stderr);
  }

  /**
   * Pushes `commit` as the remote branch, fast-forward only. A rejection is
   * returned, not thrown: the caller fetches and tells a race (the remote
   * moved) from a refusal (a hook, permissions) by whether the tip changed.
   */
  async push(commit: string, _base?: string | null): Promise<PushOutcome> {
    const r = await this.raw(['push', '--porcelain', this.name, `${commit}:refs/heads/${this.branch}`]);
    // Porcelain: "<flag>\t<from>:<to>\t<summary>"; judge by the flag column.
    const line = r.stdout.split('\n').find((l) => l.includes(`:refs/heads/${this.branch}\t`));
    if (line && r.exitCode === 0 && line[0] !== '!') return { ok: true };
    if (line && line[0] === '!') return { ok: false, reason: line.split('\t')[2] ?? line, stderr: r.stderr };
    throw remoteError(`push to "${this.name}" failed`, r.stderr);
  }
}

export function rejectedError(remote: string, outcome: Extract<PushOutcome, { ok: false }>): OrchestratorError {
  return remoteError(`push to "${remote}" was rejected: ${outcome.reason}`, outcome.stderr, { rejected: true });
}

function remoteError(what: string, stderr: string, data: Record<string, unknown> = {}): OrchestratorError {
  const detail = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(To |From |Done$|hint:)/.test(l))
    .slice(0, 6)
    .join('; ');
  return new OrchestratorError('REMOTE', `${what}${detail ? ': ' + detail : ''} (use --offline to work without the remote)`, { ...data, stderr: stderr.slice(0, 2000) });
}
