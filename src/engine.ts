/**
 * The mutation loop: take the clone's turn, plan every waiting operation on
 * the newest tip known, write one commit per operation (each on the
 * previous: group commit), advance the branch by compare-and-swap (with a
 * remote, by one fast-forward push of the chain), and on a lost race fetch
 * the one ref and plan again, up to a bounded number of attempts.
 *
 * Built for round trips: an uncontended write is one push (it builds on the
 * tip it knows), without a pause. Writers that share a clone (processes, or
 * requests of one server) do not race each other: the one whose turn it is
 * carries the others' operations in its chain, and each caller gets its own
 * result. Writers of different clones meet on the remote's request board
 * (engine/writer.ts, engine/board.ts): once they contend, one carrier
 * carries the others' operations, and they wait for its chain instead of
 * racing it.
 *
 * A refusal (task no longer pending, lock held) is an answer, not a retry;
 * but it is only given on the remote's tip (a tip just fetched, or the base
 * a chain was pushed on), so a stale local view never refuses what the
 * remote would allow.
 */
import { OrchestratorError } from './errors.js';
import type { GitStore } from './store/git-store.js';
import type { Snapshot } from './store/layout.js';
import type { Mutex, AcquireResult } from './store/mutex.js';
import { Spool, type Intent } from './engine/spool.js';
import { findLanded, resultOf } from './engine/landed.js';
import { CONTENDED_MS, LANDED_POLL_MS, monotonicMs, newOpId, sleep, trace, type EngineOptions, type Item, type MutateOptions, type MutationOutcome, type Planner, type Prepare } from './engine/types.js';
import { ChainWriter } from './engine/writer.js';

export type { Intent };
export type { Ctx, Prepare, Planner, MutationOutcome, MutateOptions, EngineOptions } from './engine/types.js';
export { newOpId, trace } from './engine/types.js';

/** Group commit's gathering (see Engine.gather): a request this recent means more may be on their way. */
const GATHER_QUIET_MS = LANDED_POLL_MS + 2;
const GATHER_MAX_MS = 30;

export class Engine {
  readonly store: GitStore;
  private offlineNow: boolean;
  private readonly allowOffline: boolean;
  private readonly onOffline?: (reason: string) => void;
  readonly maxAttempts: number;
  readonly clock: () => number;
  private readonly mutexWaitMs: number;
  /** (Shared with the chain writer, like the fields below.) */
  readonly planners?: (name: string) => Planner | undefined;
  readonly maxBatch: number;
  /** Set when the remote was asked and does not have the branch. */
  remoteAbsent = false;
  /** The remote's tip as this engine last knew it (undefined: never asked), and when it last saw another writer. */
  knownTip: string | null | undefined = undefined;
  competitionSeenAt = -Infinity;
  /** When another process on this clone last carried ours, or we carried theirs (see gather). */
  private sharedSeenAt = -Infinity;
  private queue: Item[] = [];
  private draining: Promise<void> | null = null;
  private spoolCache: Spool | null = null;
  private readonly writer = new ChainWriter(this);

  constructor(opts: EngineOptions) {
    this.store = opts.store;
    this.offlineNow = opts.offline ?? false;
    this.allowOffline = opts.allowOffline ?? false;
    this.onOffline = opts.onOffline;
    this.maxAttempts = opts.maxAttempts ?? 30;
    this.clock = opts.clock ?? Date.now;
    this.mutexWaitMs = opts.mutexWaitMs ?? 30_000;
    this.planners = opts.planners;
    this.maxBatch = opts.maxBatch ?? 64;
  }

  get offline(): boolean {
    return this.offlineNow;
  }

  get online(): boolean {
    return !!this.store.remote && !this.offlineNow;
  }

  /** With allowOffline, an unreachable remote switches this engine to offline; else the error stands. */
  goOffline(err: unknown): void {
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
      // The remote moved since we last knew it, and not by our push: another writer is at work.
      const after = this.store.trackingTip();
      if (this.knownTip !== undefined && after !== this.knownTip) this.competitionSeenAt = monotonicMs();
      this.knownTip = after;
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

  /**
   * Applies one operation as one commit (see the module comment). Calls made
   * while a write is under way are carried together in the next chain.
   */
  mutate<R>(prepare: Prepare<R>, opts: MutateOptions = {}): Promise<MutationOutcome<R>> {
    return new Promise<MutationOutcome<R>>((resolve, reject) => {
      this.queue.push({
        opId: opts.raw ? null : (opts.opId ?? newOpId()),
        plan: prepare,
        intent: opts.intent,
        waiter: { resolve: resolve as (o: MutationOutcome<unknown>) => void, reject },
        attempts: 0,
      });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain()
      .catch((err) => {
        for (const item of this.queue.splice(0)) item.waiter?.reject(err);
      })
      .finally(() => {
        this.draining = null;
        if (this.queue.length) this.kick();
      });
  }

  spool(): Spool {
    return (this.spoolCache ??= new Spool(this.store.spoolDir()));
  }

  /** Takes turns until nothing of ours waits. */
  private async drain(): Promise<void> {
    while (this.queue.length) {
      const mutex = this.store.mutex();
      const got = await this.waitTurn(mutex);
      if (got === 'done') continue;
      trace(`turn: ${got}`);
      const taken = this.queue.splice(0, this.maxBatch);
      // Answered through the spool by the writer whose turn it was: done (see Spool.answer).
      const items = taken.filter((item) => !this.answeredInSpool(item));
      if (!items.length) {
        if (got === 'taken') mutex.release();
        continue;
      }
      try {
        for (const item of items) {
          if (item.spoolFile) this.spool().withdraw(item.spoolFile);
          item.spoolFile = undefined;
        }
        if (got === 'taken' && this.gathers()) await this.gather();
        const carried = got === 'taken' ? this.othersWaiting(items) : [];
        if (carried.length) this.sharedSeenAt = monotonicMs();
        await this.writer.runBatch([...items, ...carried]);
      } catch (err) {
        for (const item of items) item.waiter?.reject(err);
      } finally {
        if (got === 'taken') mutex.release();
      }
    }
  }

  /**
   * Group commit's gathering: other processes on this clone whose operations
   * the last chain carried come back with their next ones a few milliseconds
   * after it landed (each notices within LANDED_POLL_MS). The writer that
   * takes the turn waits until the spool stops growing (GATHER_QUIET_MS
   * without a new request, GATHER_MAX_MS at most), so that one push carries
   * them all instead of one push carrying the first few and the next the
   * rest. Only when other writers shared this clone lately, and only for a
   * remote reached through git (a push of 150 ms and more, where 30 ms are
   * well spent).
   */
  private gathers(): boolean {
    // A write that costs a round trip: on the file system (a commit, or a push in process) the wait would cost more than it gains.
    const slow = this.online && !this.store.remote!.cheapFetch;
    return slow && !!this.planners && monotonicMs() - this.sharedSeenAt < CONTENDED_MS;
  }

  private async gather(): Promise<void> {
    const spool = this.spool();
    const start = monotonicMs();
    let seen = spool.count();
    let quietSince = start;
    while (monotonicMs() - start < GATHER_MAX_MS) {
      await sleep(1);
      const n = spool.count();
      const now = monotonicMs();
      if (n !== seen) {
        seen = n;
        quietSince = now;
      } else if (now - quietSince >= GATHER_QUIET_MS) break;
    }
    trace(`gathered ${seen} request(s) in ${(monotonicMs() - start).toFixed(1)} ms`);
  }

  /**
   * Waits for the clone's turn. While another writer holds it, our
   * operations that can travel as data are left in the spool for it to
   * carry; those it carries are answered from the branch as they land.
   * 'done' when nothing of ours is left waiting.
   */
  private async waitTurn(mutex: Mutex): Promise<AcquireResult | 'done'> {
    const abort = new AbortController();
    const acquiring = mutex.acquire(this.mutexWaitMs, abort.signal);
    const canCarry = () => this.queue.some((i) => i.intent && i.publishedBase === undefined);
    if (!canCarry() && !this.queue.some((i) => i.spoolFile)) return acquiring;
    // A free turn is taken at once, with nothing left in the spool.
    const first = await Promise.race([acquiring, sleep(1).then(() => null)]);
    if (first) return first;
    let scannedTo: string | null | undefined;
    for (;;) {
      if (canCarry()) {
        const base = this.store.localTip();
        for (const item of this.queue) {
          if (!item.intent || item.publishedBase !== undefined) continue;
          item.publishedBase = base;
          item.spoolFile = this.spool().publish(item.opId!, item.intent, base);
        }
        trace('waiting: operations left in the spool');
      }
      const got = await Promise.race([acquiring, sleep(LANDED_POLL_MS).then(() => null)]);
      scannedTo = await this.answerLanded(scannedTo);
      this.queue = this.queue.filter((item) => !this.answeredInSpool(item));
      if (got) return got;
      if (!this.queue.length) {
        abort.abort();
        if ((await acquiring) === 'taken') mutex.release();
        return 'done';
      }
    }
  }

  /** Answers our waiting operations that another writer carried onto the branch; returns the tip looked at. */
  private async answerLanded(scannedTo: string | null | undefined): Promise<string | null | undefined> {
    const published = this.queue.filter((i) => i.publishedBase !== undefined);
    if (!published.length) return scannedTo;
    const tip = this.online && this.store.remote!.cheapFetch ? await this.refresh() : await this.baseTip();
    if (tip === scannedTo) return scannedTo;
    const ids = new Set(published.map((i) => i.opId!));
    const landed = await findLanded(this.store, tip, ids, published.map((i) => i.publishedBase!));
    for (const item of published) {
      const l = landed.get(item.opId!);
      if (!l) continue;
      this.sharedSeenAt = monotonicMs();
      this.queue.splice(this.queue.indexOf(item), 1);
      if (item.spoolFile) this.spool().withdraw(item.spoolFile);
      trace(`carried by another writer: ${l.op.op} in ${l.commit.slice(0, 8)}`);
      item.waiter?.resolve({ result: await resultOf(this.store, l), commit: l.commit, op: l.op, attempts: 1 });
    }
    return tip;
  }

  /**
   * Is `item` (left in the spool) answered there by another writer, as changing nothing or refused
   * on the remote's tip? Then its caller has heard the answer.
   */
  private answeredInSpool(item: Item): boolean {
    if (!item.spoolFile) return false;
    const a = this.spool().takeAnswer(item.spoolFile);
    if (!a) return false;
    this.sharedSeenAt = monotonicMs();
    this.spool().withdraw(item.spoolFile);
    item.spoolFile = undefined;
    trace(`answered by another writer: ${'ok' in a ? 'nothing to change' : a.err.code}`);
    if ('ok' in a) item.waiter?.resolve({ result: a.ok.result, commit: a.ok.commit, op: null, attempts: 1 });
    else item.waiter?.reject(new OrchestratorError(a.err.code as OrchestratorError['code'], a.err.message, a.err.data ?? {}));
    return true;
  }

  /** Other processes' operations waiting in the spool that this writer knows how to plan. */
  private othersWaiting(own: Item[]): Item[] {
    if (!this.planners) return [];
    const room = this.maxBatch - own.length;
    if (room <= 0) return [];
    const out: Item[] = [];
    for (const entry of this.spool().list(new Set(own.map((i) => i.opId ?? '')))) {
      const planner = this.planners(entry.intent.name);
      if (!planner) continue;
      out.push({ opId: entry.op_id, plan: (world, ctx) => planner(world, ctx, entry.intent.input), publishedBase: entry.base, foreign: entry, attempts: 0 });
      if (out.length >= room) break;
    }
    return out;
  }
}
