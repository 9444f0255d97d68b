/**
 * One open coordination branch: finds the repository and its remote on
 * first use, runs mutations through the engine and hands out read views
 * (one snapshot each). Use cases, the library facade and the adapters work
 * through a session; the engine and the store stay inside it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Engine, type MutateOptions, type MutationOutcome, type Prepare } from '../engine.js';
import { known, OrchestratorError } from '../errors.js';
import { DEFAULT_STALE_MS } from '../domain/queries.js';
import { check } from '../domain/rules.js';
import { configFiles, configValue, listRemotes } from '../store/git-config.js';
import { GitStore } from '../store/git-store.js';
import { readPacks } from '../store/objects.js';
import { readStateCacheLazily, stateCacheUse } from '../store/state-cache.js';
import { useSnapshotCache } from '../store/snapshot-cache.js';
import { findRepo, requireRepo, type RepoPaths } from '../store/repo.js';
import { actingAgent } from './identity.js';
import { plannerOf } from './planners.js';
import { Reader, View } from './view.js';

export const DEFAULT_BRANCH = 'orchestrator';

/** Whether this process read or kept a large board through the state cache (its code differs: the CLI caches its compiled code per path). */
export function usedStateCache(): boolean {
  return stateCacheUse.used;
}

export interface OpenOptions {
  /** A directory inside the repository (work tree or bare); default: the current directory. */
  repo?: string;
  /** The coordination branch; default "orchestrator". */
  branch?: string;
  /**
   * Remote to coordinate through. Default: "origin" when the repository has
   * it, else none. `null` or "none": local only.
   */
  remote?: string | null;
  /** The acting agent for operations that do not name one (commit author). */
  agent?: string;
  /** The environment to read ORCHESTRATOR_AGENT from (the CLI and the MCP server pass theirs). */
  env?: Record<string, string | undefined>;
  /** Never fetch or push: commit locally only. */
  offline?: boolean;
  /** When the remote cannot be reached, commit locally (sync later) instead of failing. */
  allowOffline?: boolean;
  /** Hears once that the remote could not be reached and work went offline. */
  onOffline?: (reason: string) => void;
  /** Hears what a read wants the caller to know (the remote moved on while local operations wait for sync). */
  onWarning?: (message: string) => void;
  /** Attempts under contention before CONTENTION (default 30). */
  maxAttempts?: number;
  /** An agent is stale when last_seen is older than this (default 5 minutes). */
  staleMs?: number;
  /** Milliseconds since the epoch; tests pass a fixed clock. */
  clock?: () => number;
  /**
   * Fetch before every read when there is a remote (default true). A
   * long-running reader (the server) fetches on its own schedule instead.
   */
  fetchOnRead?: boolean;
  /**
   * A process that lives long (the server, the MCP server): it reads packed
   * objects in process and keeps their index cached, instead of through git.
   */
  longRunning?: boolean;
  /**
   * One command and exit (the CLI): the few packed objects it needs are read
   * straight from the packs instead of through a git process it would start.
   */
  oneShot?: boolean;
}

export interface Where {
  repo: string;
  branch: string;
  remote: string | null;
  offline: boolean;
}

async function resolveRemote(repo: RepoPaths, wanted: string | null | undefined): Promise<{ name: string; url: string; direct: boolean } | null> {
  if (wanted === null || wanted === 'none' || wanted === '') return null;
  if (wanted !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(wanted)) {
    throw new OrchestratorError('INVALID_INPUT', `remote name ${JSON.stringify(wanted)} is invalid`, { remote: wanted });
  }
  const list = listRemotes(repo.commondir, repo.gitdir);
  const remotes = list.map((r) => r.remote);
  const pick = (name: string) => {
    const r = list.find((x) => x.remote === name)!;
    return { name, url: r.url, direct: r.direct };
  };
  if (wanted === undefined) return remotes.includes('origin') ? pick('origin') : null;
  if (!remotes.includes(wanted)) {
    throw new OrchestratorError('INVALID_INPUT', `remote "${wanted}" is not configured in ${repo.workdir ?? repo.gitdir} (known: ${known(remotes)}); use --remote none for local only`, {
      remote: wanted,
    });
  }
  return pick(wanted);
}

/**
 * A git configuration value (`section.key`, no subsection) as git reads it
 * for the repository holding `dir`: its own config, then the user's, then
 * the system's (files read here: no git process); undefined when unset.
 */
function gitConfig(dir: string, key: string): string | undefined {
  const repo = findRepo(dir);
  if (!repo) return undefined;
  const [section, name] = key.split('.');
  for (const file of configFiles(repo.commondir)) {
    const value = configValue(file, section, name, repo.gitdir);
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

// The engine of a session, for the few modules beside it that drive it (sync, verify, tests).
const engines = new WeakMap<Session, () => Promise<Engine>>();

export class Session {
  readonly options: Readonly<OpenOptions>;
  private opened: Promise<{ engine: Engine; where: Omit<Where, 'offline'>; reader: Reader }> | null = null;
  private identity: Promise<string | undefined> | null = null;
  /** The commit of the last read or write (for adapters that show it). */
  lastCommit: string | null = null;
  /** Attempts the last write needed (1 when nobody raced it). */
  lastAttempts = 0;
  private warnedDiverged = false;

  constructor(options: OpenOptions = {}) {
    this.options = { ...options };
    if (options.agent !== undefined) check('agent', options.agent);
    engines.set(this, () => this.open().then((o) => o.engine));
  }

  get staleMs(): number {
    return this.options.staleMs ?? DEFAULT_STALE_MS;
  }

  now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /** The acting agent (see identity.ts), or undefined when none is set. */
  actor(): Promise<string | undefined> {
    this.identity ??= actingAgent({ agent: this.options.agent, env: this.options.env, repo: this.options.repo ?? process.cwd(), gitConfig });
    return this.identity;
  }

  /** Finds the repository, its remote and the branch (once). */
  private open() {
    if (!this.opened) {
      this.opened = (async () => {
        const repo = requireRepo(this.options.repo ?? process.cwd());
        const branch = this.options.branch ?? DEFAULT_BRANCH;
        const remote = await resolveRemote(repo, this.options.remote);
        if (this.options.longRunning) readPacks('cached');
        else if (this.options.oneShot) {
          readPacks('direct');
          readStateCacheLazily();
          useSnapshotCache();
        }
        const store = await GitStore.open(repo, branch, remote);
        const engine = new Engine({
          store,
          offline: this.options.offline,
          allowOffline: this.options.allowOffline,
          onOffline: this.options.onOffline,
          maxAttempts: this.options.maxAttempts,
          clock: this.options.clock,
          planners: plannerOf,
        });
        return { engine, reader: new Reader(engine), where: { repo: repo.workdir ?? repo.gitdir, branch, remote: remote?.name ?? null } };
      })();
      this.opened.catch(() => (this.opened = null));
    }
    return this.opened;
  }

  /** Opens the branch now (the server does, to fail at start rather than on the first request). */
  async ready(): Promise<void> {
    await this.open();
  }

  async where(): Promise<Where> {
    const { engine, where } = await this.open();
    return { ...where, offline: engine.offline };
  }

  /** Whether reads and writes go through a remote. */
  async online(): Promise<boolean> {
    return (await this.open()).engine.online;
  }

  /** Applies one operation as one commit (see engine.ts). */
  async mutate<R>(prepare: Prepare<R>, opts?: MutateOptions): Promise<MutationOutcome<R>> {
    const out = await (await this.open()).engine.mutate(prepare, opts);
    this.lastCommit = out.commit;
    this.lastAttempts = out.attempts;
    return out;
  }

  async run<R>(prepare: Prepare<R>, opts?: MutateOptions): Promise<R> {
    return (await this.mutate(prepare, opts)).result;
  }

  /** The local tip, without fetching (a ref read); this clone's own while operations wait for sync (see readTip). */
  async tip(): Promise<string | null> {
    const { engine } = await this.open();
    return this.diverged(() => engine.baseTip());
  }

  /** Fetches the remote (when online); returns the tip to read. */
  async fetch(): Promise<string | null> {
    return (await this.open()).engine.refresh();
  }

  /**
   * The tip reads answer from: fetched first when online, unless reads do
   * not fetch (the server). When operations committed offline wait for
   * sync and the remote moved on meanwhile, reads answer from this clone's
   * branch with a warning (only writes are refused until sync).
   */
  async readTip(): Promise<string | null> {
    return this.options.fetchOnRead === false ? this.tip() : this.diverged(() => this.fetch());
  }

  /** A read of the tip that answers with the local branch (and warns once) when it diverged from the remote's. */
  private async diverged(read: () => Promise<string | null>): Promise<string | null> {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof OrchestratorError) || err.code !== 'NEEDS_SYNC' || typeof err.data.local !== 'string') throw err;
      if (!this.warnedDiverged) {
        this.warnedDiverged = true;
        const where = await this.where();
        this.options.onWarning?.(
          `the remote ${where.remote} moved on while operations committed here wait to be synced: showing this clone's ${where.branch} branch; writes are refused until "orchestrator sync" applies them on the remote's tip`,
        );
      }
      return err.data.local;
    }
  }

  /** A read view of the tip reads answer from. */
  async view(): Promise<View> {
    const { reader } = await this.open();
    return this.viewAt(await this.readTip(), reader);
  }

  /** A read view of one commit. */
  async viewAt(commit: string | null, reader?: Reader): Promise<View> {
    const r = reader ?? (await this.open()).reader;
    const view = await r.view(commit, this.now(), this.staleMs);
    this.lastCommit = view.commit;
    return view;
  }

  close(): void {
    void this.opened?.then(({ engine }) => engine.store.close()).catch(() => undefined);
  }
}

/** The engine behind a session: for sync, verify and tests only (never exported by the package). */
export function engineOf(session: Session): Promise<Engine> {
  return engines.get(session)!();
}

/**
 * Makes `dir` a git repository when it is not one (git init), for
 * `orchestrator init <dir>`. Returns the repository root.
 */
export async function ensureRepository(dir: string, bare = false): Promise<string> {
  const abs = path.resolve(dir);
  const found = findRepo(abs);
  if (found && (found.workdir === abs || found.gitdir === abs)) return abs;
  fs.mkdirSync(abs, { recursive: true });
  const { simpleGit } = require('simple-git') as typeof import('simple-git');
  await simpleGit({ baseDir: abs }).init(bare);
  return abs;
}
