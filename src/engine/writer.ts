/**
 * The chain writer: plans every waiting operation on the newest tip known,
 * writes one commit per operation (each on the previous), advances the
 * branch by compare-and-swap or by one fast-forward push of the chain, and
 * on a lost race fetches the one ref and plans again. With a network
 * remote, writers of other clones meet on its request board (board.ts):
 * a writer that lost publishes its operation, and whoever wins next carries
 * every published one.
 */
import { OrchestratorError } from '../errors.js';
import { applyOp, subjectOf } from '../domain/apply.js';
import { isNoChange, type OpBase } from '../domain/op.js';
import type { Snapshot } from '../store/layout.js';
import { rejectedError, type PushOutcome, type RefChange } from '../store/remote.js';
import type { Engine, MutationOutcome } from '../engine.js';
import { Board } from './board.js';
import { findLanded, resultOf } from './landed.js';
import { CONTENDED_MS, newId, REFUSALS, sleep, trace, type Ctx, type Item, type Planned } from './types.js';

/** Rounds a writer lets an older published operation's writer carry its own before it pushes anyway. */
const MAX_WAITS = 3;

export class ChainWriter {
  private boardCache: Board | null = null;
  /** The remote refused the board (no atomic pushes, or its refs are not ours to write): race plainly. */
  private boardOff = false;
  /** The board was turned off after a refusal that may have been the branch's own. */
  private boardSuspect = false;
  /** Recent push duration (ms): about how long another writer takes to carry ours. */
  private pushMs = 200;

  constructor(private readonly engine: Engine) {}

  /** The remote's request board, when this transport has one and the remote takes it. */
  private board(): Board | null {
    const remote = this.engine.store.remote;
    if (this.boardOff || !this.engine.online || !remote?.requests || remote.cheapFetch) return null;
    return (this.boardCache ??= new Board(this.engine.store, remote.requests));
  }

  /**
   * Plans, writes and advances one chain for `items`, retrying lost races.
   * When it fails (the remote cannot be reached, say), our operations left
   * on the board are withdrawn before their callers hear of the failure: one
   * found gone was carried, and its caller hears its result instead. None
   * lands after its caller was told it failed.
   */
  async runBatch(items: Item[]): Promise<void> {
    try {
      await this.rounds(items);
    } catch (err) {
      for (const item of items) if (item.waiter && item.remote && !item.foreign) await this.answer(item, { err }).catch(() => undefined);
      throw err;
    }
  }

  private async rounds(items: Item[]): Promise<void> {
    const store = this.engine.store;
    const cheap = this.engine.online && !!store.remote!.cheapFetch;
    // Fetching first costs a round trip; it pays only when another writer was seen lately
    // (building on the tip we know would most likely lose).
    let fresh = !this.engine.online || cheap || this.contended();
    let base = fresh && this.engine.online ? await this.engine.refresh() : await this.engine.baseTip();
    let live = items;
    let waits = 0;
    for (let attempt = 1; ; attempt++) {
      const snap = await store.snapshot(base);
      const board = this.board();
      // Operations other clones published, as fetched: carried along when they plan.
      if (board && fresh && this.engine.planners) {
        const waiting = await this.remoteWaiting(board, live);
        if (waiting.length) trace(`carrying ${waiting.length} operation(s) from the board`);
        live = live.concat(waiting);
      }
      live = await this.dropLanded(live, snap.commit);
      // Only other clones' requests are left: ours landed (another writer carried them). Those
      // requests' own writers see to them: racing them for it only costs the server pushes it refuses
      // after taking them (8 clones over ssh, 4 runs each: 2.56 claims/s against 2.36).
      if (!live.some((i) => i.foreign !== null)) return;
      // Ours wait on the board behind an older operation: its writer is about to carry ours too.
      // Pushing now would most likely lose to it; look again after one to one and a half pushes (a few
      // times at most). That writer must finish its attempt, fetch and push: a look after half a push
      // mostly found nothing yet, and cost the server a fetch (8 claimers over ssh: 1.61 claims/s
      // over 6 runs with 0.5-1 push, 1.83 with 1-1.5, 1.82 with 1.5-2).
      if (board && fresh && waits < MAX_WAITS && (await this.behindOnBoard(board, live))) {
        waits++;
        attempt--;
        trace('waiting behind an older operation on the board');
        await sleep(this.pushMs * (1 + Math.random() / 2));
        base = await this.engine.refresh();
        continue;
      }
      const planned = await this.plan(live, snap);
      for (const f of planned.failed) await this.answer(f.item, { err: f.err });
      live = live.filter((i) => !planned.failed.some((f) => f.item === i));
      if (!planned.chain.length) {
        if (!fresh && (planned.refused.length || planned.unchanged.length)) {
          fresh = true;
          const newer = await this.engine.refresh();
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
      let pushed: Awaited<ReturnType<ChainWriter['advance']>>;
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
          if (c.item.foreign) this.engine.spool().withdraw(c.item.foreign.file);
          c.item.waiter?.resolve({ result: c.effect.result, commit: c.snap.commit, op: c.op, attempts: c.item.attempts });
        }
        // Pushed on the remote's tip: the refusals were judged on it.
        await this.answerUnchanged(planned, base, attempt);
        store.maintain();
        return;
      }
      this.engine.competitionSeenAt = performance.now();
      if (attempt >= this.engine.maxAttempts) {
        const err = new OrchestratorError('CONTENTION', `gave up after ${attempt} attempts: other writers kept advancing the ${store.branch} branch; try again`, { attempts: attempt });
        for (const item of live) await this.answer(item, { err });
        return;
      }
      const before = base;
      // A writer that lost leaves its operations on the board (once each), then fetches once. In that
      // order: writers that lost to the same push publish together, and a fetch made after our own
      // publication mostly shows theirs too, so they agree on whose request is the oldest and one of
      // them carries the others. Fetching beside the publication (one round trip less) let each see
      // only itself, and they all pushed: 8 claimers over ssh made 1.72 claims/s with 246 fetches and
      // 4 attempts at worst (mean of 9 runs), against 1.88 claims/s, 215 fetches and 2-3 attempts.
      // (Publishing never throws; when the fetch fails, what was published is withdrawn: runBatch.)
      if (board) await this.publish(board, live, planned, base);
      // Ours wait on the board now: whoever carries next (the writer of the oldest request, or one that
      // starts afresh) needs one to two pushes to land them. Looking sooner mostly finds them still
      // waiting, and on a busy server every look is a command that slows the carrier down (8 claimers
      // over ssh, means of 9 and 10 runs: 2.17 claims/s and about 180 fetches for 64 claims, against 1.73 and 230
      // when looking at once; half a push to a push gained less, and longer waits no more).
      if (board && (pushed === false || pushed.race) && live.some((i) => i.waiter && i.remote)) await sleep(this.pushMs * (1 + Math.random()));
      base = await this.engine.refresh();
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
    return performance.now() - this.engine.competitionSeenAt < CONTENDED_MS;
  }

  /** Operations other clones left on the board that this writer can plan. */
  private async remoteWaiting(board: Board, live: Item[]): Promise<Item[]> {
    const room = this.engine.maxBatch - live.length;
    if (room <= 0) return [];
    const out: Item[] = [];
    for (const req of await board.list(new Set(live.map((i) => i.opId ?? '')))) {
      const planner = this.engine.planners!(req.intent.name);
      if (!planner) continue;
      out.push({ opId: req.op_id, plan: (world, ctx) => planner(world, ctx, req.intent.input), publishedBase: req.base, remote: { ref: req.ref, oid: req.oid }, foreign: null, attempts: 0 });
      if (out.length >= room) break;
    }
    return out;
  }

  /**
   * Is one of our operations on the board, with an older one (that we can plan) before it?
   * Ours counts from its publication even when the fetch that ran beside it did not see it.
   */
  private async behindOnBoard(board: Board, live: Item[]): Promise<boolean> {
    const mine = live.flatMap((i) => (i.waiter && i.remote ? [i.remote] : []));
    if (!mine.length || !this.engine.planners) return false;
    const oids = new Set(mine.map((r) => r.oid));
    const waiting = (await board.list(new Set())).filter((r) => this.engine.planners!(r.intent.name));
    const seen = waiting.findIndex((r) => oids.has(r.oid));
    if (seen >= 0) return seen > 0;
    const created = Math.min(...mine.map((r) => r.created ?? Infinity));
    return waiting.some((r) => r.created < created);
  }

  /** Leaves our waiting operations on the board (each once), so that whoever wins next carries them. */
  private async publish(board: Board, live: Item[], planned: Planned, base: string | null): Promise<void> {
    for (const item of live) {
      if (item.foreign !== undefined || !item.intent || !item.opId) continue;
      const by = planned.chain.find((c) => c.item === item)?.op.by ?? 'system';
      if (item.remote) {
        // Published, and lost again: nobody carried it. A writer that keeps winning without fetching
        // has not seen it; every second loss, the announce ref points at it again, so that writer's
        // lease fails and it fetches and carries ours.
        item.lost = (item.lost ?? 0) + 1;
        if (item.lost % 2 === 0) {
          await board.announceAgain(item.opId, by).catch(() => undefined);
          trace(`announced ${item.opId} again`);
        }
        continue;
      }
      const req = await board.publish(item.opId, item.intent, base, by).catch(() => null);
      trace(`published ${item.opId}: ${req ? 'ok' : 'refused'}`);
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
      const ctx: Ctx = { at: new Date(this.engine.clock()).toISOString(), newId };
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
        const next = await this.engine.store.commit(cur, effect, op, subjectOf(op));
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
        const tip = await this.engine.refresh().catch(() => null);
        const landed = await findLanded(this.engine.store, tip, new Set([item.opId!]), [item.publishedBase ?? null]);
        const l = landed.get(item.opId!);
        if (l) {
          item.waiter.resolve({ result: await resultOf(this.engine.store, l), commit: l.commit, op: l.op, attempts: Math.max(1, item.attempts) });
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
    const landed = await findLanded(this.engine.store, tip, new Set(published.map((i) => i.opId!)), published.map((i) => i.publishedBase!));
    if (!landed.size) return items;
    const out: Item[] = [];
    for (const item of items) {
      const l = item.opId ? landed.get(item.opId) : undefined;
      if (!l) out.push(item);
      else if (item.foreign) this.engine.spool().withdraw(item.foreign.file);
      else item.waiter?.resolve({ result: await resultOf(this.engine.store, l), commit: l.commit, op: l.op, attempts: Math.max(1, item.attempts) });
    }
    return out;
  }

  /** Makes `commit` the branch tip if it is still at `base`: true, false (lost a local race), or the remote's rejection. */
  private async advance(base: string | null, commit: string, planned: Planned, extra: RefChange[]): Promise<true | false | Extract<PushOutcome, { ok: false }>> {
    const store = this.engine.store;
    const last = planned.chain[planned.chain.length - 1].op;
    const message = planned.chain.length === 1 ? subjectOf(last) : `${planned.chain.length} operations`;
    if (this.engine.online) {
      let pushed: PushOutcome | null = null;
      try {
        const started = performance.now();
        pushed = await store.remote!.push(commit, base, extra);
        this.pushMs = 0.7 * this.pushMs + 0.3 * (performance.now() - started);
      } catch (err) {
        if (Board.unsupported(err)) throw err;
        this.engine.goOffline(err);
      }
      if (pushed) {
        trace(`push: ${pushed.ok ? 'ok' : 'rejected ' + pushed.reason}`);
        if (!pushed.ok) return pushed;
        await store.setTracking(commit);
        this.engine.remoteAbsent = false;
        this.engine.knownTip = commit;
        await this.advanceLocal(base, commit, last.by, message);
        return true;
      }
    }
    return store.swapLocal(base, commit, last.by, message);
  }

  /** After a successful push, the local branch follows unless it already moved past us. */
  private async advanceLocal(base: string | null, commit: string, by: string, message: string): Promise<void> {
    const store = this.engine.store;
    for (let i = 0; i < 5; i++) {
      if (await store.swapLocal(base, commit, by, message)) return;
      const local = store.localTip();
      if (local === commit) return;
      if (local !== null && !(await store.isAncestor(local, commit, 1000))) return;
      base = local;
    }
  }}
