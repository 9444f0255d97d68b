/**
 * The mutation loop: read the newest tip, apply the operation, write one
 * commit, advance the branch by compare-and-swap (and, with a remote, by a
 * fast-forward push), and on a lost race re-apply the operation on the new
 * tip, with randomized spacing, up to a bounded number of attempts.
 *
 * A refusal (task no longer pending, lock held) is an answer, not a retry;
 * but it is only given on a tip that was just fetched, so a stale local view
 * never refuses what the remote would allow.
 */
import { OrchestratorError } from './errors.js';
import { applyOp, subjectOf } from './domain/apply.js';
import { isNoChange, type NoChange, type OpBase } from './domain/op.js';
import type { Effect, World } from './domain/types.js';
import type { GitStore } from './store/git-store.js';
import type { Snapshot } from './store/layout.js';
import { rejectedError } from './store/remote.js';

export interface Ctx {
  /** The operation's time (ISO). */
  at: string;
  /** A fresh random 8-hex-digit id. */
  newId(): string;
}

/** Builds the operation from the newest world, or decides there is nothing to do. */
export type Prepare<R> = (world: World, ctx: Ctx) => OpBase | NoChange<R>;

export interface MutationOutcome<R> {
  result: R;
  /** The commit that holds the result (the new one, or the tip when nothing changed). */
  commit: string | null;
  /** The recorded operation, or null when nothing changed. */
  op: OpBase | null;
  attempts: number;
}

export interface EngineOptions {
  store: GitStore;
  /** Commit locally only; never fetch or push. */
  offline?: boolean;
  /**
   * When the remote cannot be reached, work offline instead of failing
   * (`orchestrator sync` pushes later). `onOffline` hears why, once.
   */
  allowOffline?: boolean;
  onOffline?: (reason: string) => void;
  /** Attempts before giving up with CONTENTION (default 30). */
  maxAttempts?: number;
  /** Milliseconds since the epoch (tests pass a fixed clock). */
  clock?: () => number;
  random?: () => number;
  /** How long a writer waits for the clone's writer mutex before racing without it. */
  mutexWaitMs?: number;
}

const REFUSALS = new Set(['NOT_FOUND', 'CONFLICT', 'LOCK_HELD', 'AMBIGUOUS']);

// ORCHESTRATOR_TRACE=1 prints each step of each attempt to stderr (timings in ms).
const TRACE = !!process.env.ORCHESTRATOR_TRACE;
let traceT0 = 0;
function trace(msg: string): void {
  if (!TRACE) return;
  const now = performance.now();
  const wall = (performance.timeOrigin + now) % 100_000;
  process.stderr.write(`[orchestrator ${process.pid} ${wall.toFixed(1)} +${(now - traceT0).toFixed(1)}ms] ${msg}\n`);
  traceT0 = now;
}

export class Engine {
  readonly store: GitStore;
  private offlineNow: boolean;
  private readonly allowOffline: boolean;
  private readonly onOffline?: (reason: string) => void;
  readonly maxAttempts: number;
  readonly clock: () => number;
  private readonly random: () => number;
  private readonly mutexWaitMs: number;
  /** Set when the remote was asked and does not have the branch. */
  private remoteAbsent = false;
  /** Recent push duration (ms), for fair spacing of writers. */
  private pushMs = 50;
  /** When this engine's last push succeeded. */
  private lastWin: number | null = null;

  constructor(opts: EngineOptions) {
    this.store = opts.store;
    this.offlineNow = opts.offline ?? false;
    this.allowOffline = opts.allowOffline ?? false;
    this.onOffline = opts.onOffline;
    this.maxAttempts = opts.maxAttempts ?? 30;
    this.clock = opts.clock ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.mutexWaitMs = opts.mutexWaitMs ?? 30_000;
  }

  get offline(): boolean {
    return this.offlineNow;
  }

  get online(): boolean {
    return !!this.store.remote && !this.offlineNow;
  }

  /** With allowOffline, an unreachable remote switches this engine to offline; else the error stands. */
  private goOffline(err: unknown): void {
    if (!this.allowOffline || !(err instanceof OrchestratorError) || err.code !== 'REMOTE' || err.data.rejected) throw err;
    this.offlineNow = true;
    this.onOffline?.(err.message);
  }

  /**
   * Fetches the branch (when online) and fast-forwards the local branch to
   * it. Returns the tip to read or build on.
   */
  async refresh(): Promise<string | null> {
    if (this.online) {
      try {
        const r = await this.store.remote!.fetch();
        this.remoteAbsent = r === 'absent';
        trace(`fetch: ${r}`);
      } catch (err) {
        this.goOffline(err);
      }
    }
    return this.baseTip();
  }

  /** The local tip, first fast-forwarded to the remote-tracking tip when that is ahead. */
  async baseTip(): Promise<string | null> {
    const store = this.store;
    for (let i = 0; ; i++) {
      const local = store.localTip();
      const tracking = this.online && !this.remoteAbsent ? store.trackingTip() : null;
      if (!tracking || tracking === local) return local;
      if (local === null || (await store.isAncestor(local, tracking))) {
        if (await store.swapLocal(local, tracking, 'orchestrator', 'orchestrator: fast-forward to remote')) return tracking;
        if (i < 5) continue;
      }
      if (local !== null && (await store.isAncestor(tracking, local))) return local;
      throw new OrchestratorError(
        'NEEDS_SYNC',
        `the local ${store.branch} branch has operations that are not on ${store.remote!.name} (committed offline or before the remote existed); run "orchestrator sync" to apply them on the remote's tip`,
        { local, remote: tracking },
      );
    }
  }

  /** The snapshot to answer a read from: fetched first when online. */
  async read(): Promise<Snapshot> {
    return this.store.snapshot(await this.refresh());
  }

  /** Applies one operation as one commit (see the module comment). */
  async mutate<R>(prepare: Prepare<R>): Promise<MutationOutcome<R>> {
    const mutex = this.store.mutex();
    trace('mutate: waiting for the writer lock');
    const locked = await mutex.acquire(this.mutexWaitMs);
    trace(`mutate: writer lock ${locked ? 'taken' : 'not taken'}`);
    try {
      return await this.attempt(prepare);
    } finally {
      if (locked) mutex.release();
    }
  }

  private async attempt<R>(prepare: Prepare<R>): Promise<MutationOutcome<R>> {
    const store = this.store;
    // Online, the first attempt builds on what we know (push first, fetch on
    // rejection), unless fetching is as cheap as reading.
    let fresh = !this.online || !!store.remote!.cheapFetch;
    if (this.online && !store.remote!.cheapFetch) await this.yieldAfterWin();
    let base = this.online && store.remote!.cheapFetch ? await this.refresh() : await this.baseTip();
    for (let attempt = 1; ; attempt++) {
      const snap = await store.snapshot(base);
      // Time never runs backwards along the branch: a writer whose clock is
      // behind the last commit's takes that commit's time.
      const at = new Date(Math.max(this.clock(), Date.parse(snap.world.state.updated_at) || 0)).toISOString();
      let planned: { op: OpBase; effect: Effect<R> } | NoChange<R>;
      try {
        planned = this.plan(snap.world, prepare, at);
      } catch (err) {
        // A refusal on a view that may be stale is checked against the remote first.
        if (!fresh && err instanceof OrchestratorError && REFUSALS.has(err.code)) {
          fresh = true;
          const newer = await this.refresh();
          if (newer !== base) {
            base = newer;
            continue;
          }
        }
        throw err;
      }
      if (isNoChange(planned)) {
        if (!fresh) {
          fresh = true;
          const newer = await this.refresh();
          if (newer !== base) {
            base = newer;
            continue;
          }
        }
        return { result: planned.result, commit: base, op: null, attempts: attempt };
      }
      const { op, effect } = planned;
      trace(`attempt ${attempt}: planned ${op.op} on ${base?.slice(0, 8) ?? '(none)'}`);
      const next = await store.commit(snap, effect, op, subjectOf(op));
      const commit = next.commit!;
      trace(`attempt ${attempt}: wrote ${commit.slice(0, 8)}`);
      let pushed: Awaited<ReturnType<NonNullable<GitStore['remote']>['push']>> | null = null;
      const started = performance.now();
      if (this.online) {
        try {
          pushed = await store.remote!.push(commit, base);
        } catch (err) {
          this.goOffline(err);
        }
      }
      if (pushed) {
        this.pushMs = 0.8 * this.pushMs + 0.2 * (performance.now() - started);
        trace(`attempt ${attempt}: push ${pushed.ok ? 'ok' : 'rejected ' + pushed.reason}`);
        if (pushed.ok) {
          await store.setTracking(commit);
          this.remoteAbsent = false;
          await this.advanceLocal(base, commit, op);
          this.lastWin = performance.now();
          store.maintain();
          return { result: effect.result, commit, op, attempts: attempt };
        }
        this.giveUpAfter(attempt);
        // Space the losers out before they fetch: the more often a writer lost,
        // the sooner it goes (the oldest first), with jitter to break ties.
        await this.sleep(this.pushMs * (Math.max(0, 8 - attempt) / 8 + this.random() / 8));
        const before = base;
        base = await this.refresh();
        fresh = true;
        // The remote did not move: this was a refusal (a hook, permissions), not a race.
        if (base === before) throw rejectedError(store.remote!.name, pushed);
      } else {
        if (await store.swapLocal(base, commit, op.by, subjectOf(op))) {
          store.maintain();
          return { result: effect.result, commit, op, attempts: attempt };
        }
        this.giveUpAfter(attempt);
        await this.sleep(this.random() * Math.min(50, 2 * attempt));
        base = store.localTip();
      }
    }
  }

  private giveUpAfter(attempt: number): void {
    if (attempt >= this.maxAttempts) {
      throw new OrchestratorError('CONTENTION', `gave up after ${attempt} attempts: other writers kept advancing the ${this.store.branch} branch; try again`, {
        attempts: attempt,
      });
    }
  }

  /**
   * Fairness over a remote reached by git push. A writer that just won is the
   * only one that knows the new tip without fetching; writing again at once
   * it would win every time while the others fetch (capture). So a writer
   * that comes back right after its own successful push first waits about
   * one push: the writers that lost go first.
   */
  private async yieldAfterWin(): Promise<void> {
    if (this.lastWin === null) return;
    const since = performance.now() - this.lastWin;
    if (since < 2 * this.pushMs) await this.sleep(this.pushMs * (1 + this.random()) - since);
  }

  private plan<R>(world: World, prepare: Prepare<R>, at: string): { op: OpBase; effect: Effect<R> } | NoChange<R> {
    const ctx: Ctx = { at, newId: () => (require('node:crypto') as typeof import('node:crypto')).randomBytes(4).toString('hex') };
    const op = prepare(world, ctx);
    if (isNoChange(op)) return op;
    const out = applyOp<R>(world, op);
    if (isNoChange(out)) return out;
    return { op, effect: out };
  }

  /** After a successful push, the local branch follows unless it already moved past us. */
  private async advanceLocal(base: string | null, commit: string, op: OpBase): Promise<void> {
    const store = this.store;
    for (let i = 0; i < 5; i++) {
      if (await store.swapLocal(base, commit, op.by, subjectOf(op))) return;
      const local = store.localTip();
      if (local === commit) return;
      if (local !== null && !(await store.isAncestor(local, commit, 1000))) return;
      base = local;
    }
  }

  private sleep(ms: number): Promise<void> {
    return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
  }
}
