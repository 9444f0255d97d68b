/**
 * The mutation loop: take the clone's turn, plan every waiting operation on
 * the newest tip known, write one commit per operation (each on the
 * previous: group commit), advance the branch by compare-and-swap (with a
 * remote, by one fast-forward push of the chain), and on a lost race fetch
 * the one ref and plan again, up to a bounded number of attempts.
 *
 * Built for round trips: an uncontended write is one push (it builds on the
 * tip it knows); after a lost race it is one fetch and one push; nobody
 * sleeps. Writers that share a clone (processes, or requests of one server)
 * do not race each other: the one whose turn it is carries the others'
 * operations in its chain, and each caller gets its own result.
 *
 * A refusal (task no longer pending, lock held) is an answer, not a retry;
 * but it is only given on the remote's tip (a tip just fetched, or the base
 * a chain was pushed on), so a stale local view never refuses what the
 * remote would allow.
 */
import { OrchestratorError } from './errors.js';
import { applyOp, subjectOf } from './domain/apply.js';
import { isNoChange, type NoChange, type OpBase } from './domain/op.js';
import type { Effect, World } from './domain/types.js';
import type { GitStore } from './store/git-store.js';
import type { Snapshot } from './store/layout.js';
import type { Mutex, AcquireResult } from './store/mutex.js';
import { rejectedError, type PushOutcome, type RefChange } from './store/remote.js';
import { Board } from './engine/board.js';
import { Spool, type Intent, type SpoolEntry } from './engine/spool.js';
import { findLanded, resultOf } from './engine/landed.js';

export type { Intent };

export interface Ctx {
  /** The operation's time (ISO): the writer's own clock. */
  at: string;
  /** A fresh random 8-hex-digit id. */
  newId(): string;
}

/** Builds the operation from the newest world, or decides there is nothing to do. */
export type Prepare<R> = (world: World, ctx: Ctx) => OpBase | NoChange<R>;

/** A named, pure way to build an operation from its input: what lets another process carry it. */
export type Planner = (world: World, ctx: Ctx, input: any) => OpBase | NoChange<unknown>;

export interface MutationOutcome<R> {
  result: R;
  /** The commit that holds the result (the operation's own, or the tip when nothing changed). */
  commit: string | null;
  /** The recorded operation, or null when nothing changed. */
  op: OpBase | null;
  /** Pushes (or ref swaps) it took part in; 1 when nobody raced it. */
  attempts: number;
}

export interface MutateOptions {
  /**
   * The same operation as data (a planner's name and input), so that the
   * writer whose turn it is in another process can carry it.
   */
  intent?: Intent;
  /** Record the operation exactly as prepared, without an operation id (replay tools, tests). */
  raw?: boolean;
  /** The operation id to record (default: a new one): an operation that must land at most once across runs (sync). */
  opId?: string;
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
  /** How long a writer waits for the clone's turn before racing without it. */
  mutexWaitMs?: number;
  /** Planners by intent name: lets this writer carry other processes' waiting operations. */
  planners?: (name: string) => Planner | undefined;
  /** Most operations in one chain (default 64). */
  maxBatch?: number;
}

const REFUSALS = new Set(['NOT_FOUND', 'CONFLICT', 'LOCK_HELD', 'AMBIGUOUS']);
/** A competing writer seen this recently means: fetch before building (see runBatch). */
const CONTENDED_MS = 2000;
/** How often a writer waiting for the turn looks whether its operation was carried. */
const LANDED_POLL_MS = 10;

// ORCHESTRATOR_TRACE=1 prints each step to stderr (timings in ms).
const TRACE = !!process.env.ORCHESTRATOR_TRACE;
let traceT0 = 0;
export function trace(msg: string): void {
  if (!TRACE) return;
  const now = performance.now();
  const wall = (performance.timeOrigin + now) % 100_000;
  process.stderr.write(`[orchestrator ${process.pid} ${wall.toFixed(1)} +${(now - traceT0).toFixed(1)}ms] ${msg}\n`);
  traceT0 = now;
}

// node:crypto loads on first use: commands that only read never pay for it.
const randomHex = (bytes: number): string => (require('node:crypto') as typeof import('node:crypto')).randomBytes(bytes).toString('hex');
export const newOpId = (): string => randomHex(8);
const newId = (): string => randomHex(4);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One operation waiting to be written: a caller's in this process, or another process's from the spool. */
interface Item {
  opId: string | null;
  plan: (world: World, ctx: Ctx) => OpBase | NoChange<unknown>;
  intent?: Intent;
  /** The tip when it was left in the spool (it cannot have landed before); undefined: never left there. */
  publishedBase?: string | null;
  spoolFile?: string;
  /** Another writer's request (from the spool, or null: from the board): nobody here waits for it. */
  foreign?: SpoolEntry | null;
  /** Its request ref on the remote's board (ours once published, or the one we carry). */
  remote?: { ref: string; oid: string };
  waiter?: { resolve: (o: MutationOutcome<unknown>) => void; reject: (e: unknown) => void };
  attempts: number;
}

interface Planned {
  chain: Array<{ item: Item; op: OpBase; effect: Effect; snap: Snapshot }>;
  refused: Array<{ item: Item; err: OrchestratorError }>;
  unchanged: Array<{ item: Item; result: unknown }>;
  failed: Array<{ item: Item; err: unknown }>;
}

export class Engine {
  readonly store: GitStore;
  private offlineNow: boolean;
  private readonly allowOffline: boolean;
  private readonly onOffline?: (reason: string) => void;
  readonly maxAttempts: number;
  readonly clock: () => number;
  private readonly mutexWaitMs: number;
  private readonly planners?: (name: string) => Planner | undefined;
  private readonly maxBatch: number;
  /** Set when the remote was asked and does not have the branch. */
  private remoteAbsent = false;
  /** The remote's tip as this engine last knew it (undefined: never asked), and when it last saw another writer. */
  private knownTip: string | null | undefined = undefined;
  private competitionSeenAt = -Infinity;
  private queue: Item[] = [];
  private draining: Promise<void> | null = null;
  private spoolCache: Spool | null = null;
  private boardCache: Board | null = null;
  /** The remote refused the board (no atomic pushes, or its refs are not ours to write): race plainly. */
  private boardOff = false;
  /** The board was turned off after a refusal that may have been the branch's own. */
  private boardSuspect = false;

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
      // The remote moved since we last knew it, and not by our push: another writer is at work.
      const after = this.store.trackingTip();
      if (this.knownTip !== undefined && after !== this.knownTip) this.competitionSeenAt = performance.now();
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

  private spool(): Spool {
    return (this.spoolCache ??= new Spool(this.store.spoolDir()));
  }

  /** Takes turns until nothing of ours waits. */
  private async drain(): Promise<void> {
    while (this.queue.length) {
      const mutex = this.store.mutex();
      const got = await this.waitTurn(mutex);
      if (got === 'done') continue;
      trace(`turn: ${got}`);
      const items = this.queue.splice(0, this.maxBatch);
      try {
        for (const item of items) {
          if (item.spoolFile) this.spool().withdraw(item.spoolFile);
          item.spoolFile = undefined;
        }
        const carried = got === 'taken' ? this.othersWaiting(items) : [];
        await this.runBatch([...items, ...carried]);
      } catch (err) {
        for (const item of items) item.waiter?.reject(err);
      } finally {
        if (got === 'taken') mutex.release();
      }
    }
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
      this.queue.splice(this.queue.indexOf(item), 1);
      if (item.spoolFile) this.spool().withdraw(item.spoolFile);
      trace(`carried by another writer: ${l.op.op} in ${l.commit.slice(0, 8)}`);
      item.waiter?.resolve({ result: await resultOf(this.store, l), commit: l.commit, op: l.op, attempts: 1 });
    }
    return tip;
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

  /** The remote's request board, when this transport has one and the remote takes it. */
  private board(): Board | null {
    const remote = this.store.remote;
    if (this.boardOff || !this.online || !remote?.requests || remote.cheapFetch) return null;
    return (this.boardCache ??= new Board(this.store, remote.requests));
  }

  /** Plans, writes and advances one chain for `items`, retrying lost races. */
  private async runBatch(items: Item[]): Promise<void> {
    const store = this.store;
    const cheap = this.online && !!store.remote!.cheapFetch;
    // Fetching first costs a round trip; it pays only when another writer was seen lately
    // (building on the tip we know would most likely lose).
    let fresh = !this.online || cheap || this.contended();
    let base = fresh && this.online ? await this.refresh() : await this.baseTip();
    let live = items;
    for (let attempt = 1; ; attempt++) {
      const snap = await store.snapshot(base);
      const board = this.board();
      // Operations other clones published, as fetched: carried along when they plan.
      if (board && fresh && this.planners) {
        const waiting = await this.remoteWaiting(board, live);
        if (waiting.length) trace(`carrying ${waiting.length} operation(s) from the board`);
        live = live.concat(waiting);
      }
      live = await this.dropLanded(live, snap.commit);
      if (!live.length) return;
      const planned = await this.plan(live, snap);
      for (const f of planned.failed) await this.answer(f.item, { err: f.err });
      live = live.filter((i) => !planned.failed.some((f) => f.item === i));
      if (!planned.chain.length) {
        if (!fresh && (planned.refused.length || planned.unchanged.length)) {
          fresh = true;
          const newer = await this.refresh();
          if (newer !== base) {
            base = newer;
            continue;
          }
        }
        await this.answerUnchanged(planned, base, attempt);
        return;
      }
      for (const item of live) if (!item.foreign) item.attempts++;
      const tipSnap = planned.chain[planned.chain.length - 1].snap;
      const extra = board ? board.changes(planned.chain.flatMap((c) => (c.item.remote ? [c.item.remote] : [])), tipSnap.commit!, fresh) : [];
      trace(`attempt ${attempt}: ${planned.chain.length} operation(s) on ${base?.slice(0, 8) ?? '(none)'} -> ${tipSnap.commit!.slice(0, 8)}`);
      let pushed: Awaited<ReturnType<Engine['advance']>>;
      try {
        pushed = await this.advance(base, tipSnap.commit!, planned, extra);
      } catch (err) {
        if (!board || !Board.unsupported(err)) throw err;
        trace(`board off: ${(err as Error).message}`);
        this.boardOff = true;
        attempt--;
        continue;
      }
      if (pushed !== true && pushed !== false && !pushed.race && extra.length) {
        // Refused with the board's refs in the push: try once without them (a remote that keeps
        // them from us works without the board; a refusal of the branch itself comes back).
        trace(`board off after a refusal: ${pushed.reason}`);
        this.boardOff = true;
        this.boardSuspect = true;
        attempt--;
        continue;
      }
      if (pushed === true) {
        board?.pushed(extra);
        for (const c of planned.chain) {
          if (c.item.foreign) this.spool().withdraw(c.item.foreign.file);
          c.item.waiter?.resolve({ result: c.effect.result, commit: c.snap.commit, op: c.op, attempts: c.item.attempts });
        }
        // Pushed on the remote's tip: the refusals were judged on it.
        await this.answerUnchanged(planned, base, attempt);
        store.maintain();
        return;
      }
      this.competitionSeenAt = performance.now();
      if (attempt >= this.maxAttempts) {
        const err = new OrchestratorError('CONTENTION', `gave up after ${attempt} attempts: other writers kept advancing the ${store.branch} branch; try again`, { attempts: attempt });
        for (const item of live) await this.answer(item, { err });
        return;
      }
      const before = base;
      // One fetch; a writer that lost also leaves its operations on the board (once each), meanwhile.
      [base] = await Promise.all([this.refresh(), board ? this.publish(board, live, planned, base) : null]);
      fresh = true;
      // The remote did not move: this was a refusal (a hook, permissions), not a race.
      if (pushed !== false && !pushed.race && base === before) {
        // Refused without the board's refs too: the board was not the cause.
        if (this.boardSuspect) this.boardOff = this.boardSuspect = false;
        const err = rejectedError(store.remote!.name, pushed);
        for (const item of live) await this.answer(item, { err });
        return;
      }
    }
  }

  private contended(): boolean {
    return performance.now() - this.competitionSeenAt < CONTENDED_MS;
  }

  /** Operations other clones left on the board that this writer can plan. */
  private async remoteWaiting(board: Board, live: Item[]): Promise<Item[]> {
    const room = this.maxBatch - live.length;
    if (room <= 0) return [];
    const out: Item[] = [];
    for (const req of await board.list(new Set(live.map((i) => i.opId ?? '')))) {
      const planner = this.planners!(req.intent.name);
      if (!planner) continue;
      out.push({ opId: req.op_id, plan: (world, ctx) => planner(world, ctx, req.intent.input), publishedBase: req.base, remote: { ref: req.ref, oid: req.oid }, foreign: null, attempts: 0 });
      if (out.length >= room) break;
    }
    return out;
  }

  /** Leaves our waiting operations on the board (each once), so that whoever wins next carries them. */
  private async publish(board: Board, live: Item[], planned: Planned, base: string | null): Promise<void> {
    for (const item of live) {
      if (item.foreign !== undefined || !item.intent || item.remote || !item.opId) continue;
      const by = planned.chain.find((c) => c.item === item)?.op.by ?? 'system';
      const req = await board.publish(item.opId, item.intent, base, by).catch(() => null);
      if (!req) {
        trace('board off: publication refused');
        this.boardOff = true;
        return;
      }
      item.remote = req;
      if (item.publishedBase === undefined) item.publishedBase = base;
    }
  }

  /** Builds the chain: each operation planned on the world the previous one left. */
  private async plan(items: Item[], snap: Snapshot): Promise<Planned> {
    const out: Planned = { chain: [], refused: [], unchanged: [], failed: [] };
    let cur = snap;
    for (const item of items) {
      const ctx: Ctx = { at: new Date(this.clock()).toISOString(), newId };
      try {
        let op = item.plan(cur.world, ctx);
        if (isNoChange(op)) {
          out.unchanged.push({ item, result: op.result });
          continue;
        }
        if (item.opId) op = { ...op, op_id: item.opId } as OpBase;
        const effect = applyOp(cur.world, op);
        if (isNoChange(effect)) {
          out.unchanged.push({ item, result: effect.result });
          continue;
        }
        const next = await this.store.commit(cur, effect, op, subjectOf(op));
        out.chain.push({ item, op, effect, snap: next });
        cur = next;
      } catch (err) {
        if (err instanceof OrchestratorError && REFUSALS.has(err.code)) out.refused.push({ item, err });
        // Anything else (bad input, a bug) is final for this operation alone.
        else out.failed.push({ item, err });
      }
    }
    return out;
  }

  /** Answers the callers whose operation changed nothing or was refused (others' requests stay waiting). */
  private async answerUnchanged(planned: Planned, base: string | null, attempt: number): Promise<void> {
    for (const r of planned.refused) await this.answer(r.item, { err: r.err });
    for (const u of planned.unchanged) await this.answer(u.item, { ok: { result: u.result, commit: base, op: null, attempts: Math.max(1, u.item.attempts || attempt) } });
  }

  /**
   * Answers a caller whose operation did not land. One it left on the board
   * is withdrawn first: when the withdrawal finds it gone, another writer
   * carried it, and the caller hears that result instead.
   */
  private async answer(item: Item, outcome: { ok: MutationOutcome<unknown> } | { err: unknown }): Promise<void> {
    if (!item.waiter) return;
    const board = this.boardCache;
    if (item.remote && board) {
      const gone = (await board.withdraw(item.remote).catch(() => 'withdrawn' as const)) === 'gone';
      item.remote = undefined;
      if (gone) {
        const tip = await this.refresh().catch(() => null);
        const landed = await findLanded(this.store, tip, new Set([item.opId!]), [item.publishedBase ?? null]);
        const l = landed.get(item.opId!);
        if (l) {
          item.waiter.resolve({ result: await resultOf(this.store, l), commit: l.commit, op: l.op, attempts: Math.max(1, item.attempts) });
          return;
        }
      }
    }
    if ('ok' in outcome) item.waiter.resolve(outcome.ok);
    else item.waiter.reject(outcome.err);
  }

  /** Operations that were left waiting and already landed (carried by another writer). */
  private async dropLanded(items: Item[], tip: string | null): Promise<Item[]> {
    const published = items.filter((i) => i.publishedBase !== undefined && i.opId);
    if (!published.length) return items;
    const landed = await findLanded(this.store, tip, new Set(published.map((i) => i.opId!)), published.map((i) => i.publishedBase!));
    if (!landed.size) return items;
    const out: Item[] = [];
    for (const item of items) {
      const l = item.opId ? landed.get(item.opId) : undefined;
      if (!l) out.push(item);
      else if (item.foreign) this.spool().withdraw(item.foreign.file);
      else item.waiter?.resolve({ result: await resultOf(this.store, l), commit: l.commit, op: l.op, attempts: Math.max(1, item.attempts) });
    }
    return out;
  }

  /** Makes `commit` the branch tip if it is still at `base`: true, false (lost a local race), or the remote's rejection. */
  private async advance(base: string | null, commit: string, planned: Planned, extra: RefChange[]): Promise<true | false | Extract<PushOutcome, { ok: false }>> {
    const store = this.store;
    const last = planned.chain[planned.chain.length - 1].op;
    const message = planned.chain.length === 1 ? subjectOf(last) : `${planned.chain.length} operations`;
    if (this.online) {
      let pushed: PushOutcome | null = null;
      try {
        pushed = await store.remote!.push(commit, base, extra);
      } catch (err) {
        if (Board.unsupported(err)) throw err;
        this.goOffline(err);
      }
      if (pushed) {
        trace(`push: ${pushed.ok ? 'ok' : 'rejected ' + pushed.reason}`);
        if (!pushed.ok) return pushed;
        await store.setTracking(commit);
        this.remoteAbsent = false;
        this.knownTip = commit;
        await this.advanceLocal(base, commit, last.by, message);
        return true;
      }
    }
    return store.swapLocal(base, commit, last.by, message);
  }

  /** After a successful push, the local branch follows unless it already moved past us. */
  private async advanceLocal(base: string | null, commit: string, by: string, message: string): Promise<void> {
    const store = this.store;
    for (let i = 0; i < 5; i++) {
      if (await store.swapLocal(base, commit, by, message)) return;
      const local = store.localTip();
      if (local === commit) return;
      if (local !== null && !(await store.isAncestor(local, commit, 1000))) return;
      base = local;
    }
  }
}
