/**
 * The chain writer: plans every waiting operation on the newest tip known,
 * writes one commit per operation (each on the previous), advances the
 * branch by compare-and-swap or by one fast-forward push of the chain, and
 * on a lost race fetches the one ref and plans again. With a network
 * remote, writers of other clones meet on its request board (board.ts): a
 * writer that lost, or that saw other writers lately, publishes its
 * operation instead of racing; the first to publish while nobody carries
 * becomes the carrier and carries every published operation in one chain;
 * the others look once that chain should have landed.
 */
import * as fs from 'node:fs';
import { OrchestratorError, withoutOfflineHint } from '../errors.js';
import { applyOp, subjectOf } from '../domain/apply.js';
import { isNoChange, type OpBase } from '../domain/op.js';
import type { Snapshot } from '../store/layout.js';
import { atomicWriteFileSync } from '../store/fs-client.js';
import { rejectedError, type PushOutcome, type RefChange } from '../store/remote.js';
import type { Engine, MutationOutcome } from '../engine.js';
import { Board } from './board.js';
import { findLanded, resultOf } from './landed.js';
import { CONTENDED_MS, monotonicMs, newId, REFUSALS, sleep, trace, type Ctx, type Item, type Planned } from './types.js';
import { SPOOL_TTL_MS } from './spool.js';

/** Looks a writer whose operations wait on the board takes for the carrier before it pushes them itself. */
const MAX_POLLS = 24;
/** Another writer seen at work by an earlier process of this clone this recently: this one starts contended. */
const HINT_CONTENDED_MS = 5000;
/** A carrier seen at work this many fetches and pushes long is taken to have stopped: another takes the turn. */
const STALE_ROUNDS = 6;

/** A writer waiting for the carrier: how often it looked, and since when it has seen the same carrier. */
interface Waiting {
  polls: number;
  carrier: string | null | undefined;
  since: number;
  /** Looks in a row that found the same carrier. */
  same: number;
}

export class ChainWriter {
  private boardCache: Board | null = null;
  /** The remote refused the board (no atomic pushes, or its refs are not ours to write): race plainly. */
  private boardOff = false;
  /** The board was turned off after a refusal that may have been the branch's own. */
  private boardSuspect = false;
  /** Recent push and fetch durations (ms): about how long another writer takes to carry ours. */
  private pushMs = 200;
  private fetchMs = 150;
  /** How long a request of ours lately took from its publication until we saw it landed. */
  private landMs = 700;
  /** Our request the remote's carrier ref names: we carry the waiting requests next. */
  private held: string | null = null;
  /** Requests of ours published during the current batch. */
  private readonly ours = new Set<string>();

  /** Whether the hints of earlier processes were read (see loadHints), and the sighting taken from them. */
  private hinted = false;
  private hintedSeen: { at: number; wall: number } | null = null;

  constructor(private readonly engine: Engine) {}

  /**
   * Every CLI call is a new process: without what earlier ones learned, each would start as if alone
   * (push on the tip it knows, lose, publish, fetch) while the clone's agents are in a burst, and
   * time its waits on guesses. The clone keeps when a writer last saw another at work and how long
   * pushes, fetches and landings took (one small file, read once per process, written after a batch
   * on a network remote). Hints only: nothing correct depends on them.
   */
  private loadHints(): void {
    if (this.hinted) return;
    this.hinted = true;
    const h = readHints(this.engine.store.hintsFile());
    if (!h) return;
    const ms = (v: unknown, def: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 60_000 ? v : def);
    this.pushMs = ms(h.pushMs, this.pushMs);
    this.fetchMs = ms(h.fetchMs, this.fetchMs);
    this.landMs = ms(h.landMs, this.landMs);
    // An agent's next command comes a process start (and its own work) after the last: a sighting
    // this recent still means a burst (taken as one just now). What is saved again is the sighting's
    // own time, so that it ages out.
    const seen = Number(h.competitionSeen);
    const ago = Date.now() - seen;
    if (ago >= 0 && ago < HINT_CONTENDED_MS && this.engine.competitionSeenAt === -Infinity) {
      this.engine.competitionSeenAt = monotonicMs() - Math.min(ago, CONTENDED_MS / 2);
      this.hintedSeen = { at: this.engine.competitionSeenAt, wall: seen };
    }
  }

  private saveHints(): void {
    const file = this.engine.store.hintsFile();
    const at = this.engine.competitionSeenAt;
    let seen = !Number.isFinite(at) ? null : this.hintedSeen?.at === at ? this.hintedSeen.wall : Math.round(Date.now() - (monotonicMs() - at));
    // Another process of the clone may have saved a later sighting meanwhile: the latest is kept.
    const other = Number(readHints(file)?.competitionSeen);
    if (Number.isFinite(other) && (seen === null || other > seen)) seen = other;
    const body = JSON.stringify({ competitionSeen: seen, pushMs: Math.round(this.pushMs), fetchMs: Math.round(this.fetchMs), landMs: Math.round(this.landMs) });
    try {
      atomicWriteFileSync(file, body, 0o644);
    } catch {
      // No hints kept (a read-only clone): the next process starts with guesses.
    }
  }

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
    // Callers hear their answers once the batch is over: a carrier hands its turn back first (a CLI
    // process exits as soon as its command is answered, and a carrier ref left behind would make every
    // other writer wait until it looks stale).
    const hints = !!this.board();
    if (hints) this.loadHints();
    const settle: Array<() => void> = [];
    const waiters = new Map<Item, NonNullable<Item['waiter']>>();
    for (const item of items) {
      const w = item.waiter;
      if (!w) continue;
      waiters.set(item, w);
      item.waiter = { resolve: (o) => settle.push(() => w.resolve(o)), reject: (e) => settle.push(() => w.reject(e)) };
    }
    try {
      await this.rounds(items);
    } catch (err) {
      for (const item of items) if (item.waiter && item.remote && !item.foreign) await this.answer(item, { err }).catch(() => undefined);
      throw err;
    } finally {
      // The carrier ref still names one of our requests (we stopped before a chain that carried it
      // landed: nothing to write after all, an error; or a writer that had not seen the carrier ref
      // carried it): the turn is handed back, after our requests were withdrawn (so that nobody
      // takes the turn to carry what we withdraw).
      this.held = null;
      const carrier = this.boardCache?.carrier();
      if (carrier && this.ours.has(carrier)) await this.boardCache!.releaseCarrier(carrier).catch(() => undefined);
      this.ours.clear();
      if (hints) this.saveHints();
      for (const [item, w] of waiters) item.waiter = w;
      for (const s of settle) s();
    }
  }

  private async rounds(items: Item[]): Promise<void> {
    const store = this.engine.store;
    const cheap = this.engine.online && !!store.remote!.cheapFetch;
    // Other writers were seen lately: a push of ours would most likely race theirs. Our operations go on
    // the board at once instead (one command, where a fetch and a push that mostly loses are two), and
    // the carrier carries them.
    const contended = this.contended();
    // The push's connection opens while the commit is built (over ssh: see PushSession).
    if (this.engine.online) store.remote!.prepare?.();
    let publishFirst = contended && this.publishable(items);
    // Fetching first costs a round trip; it pays only when another writer was seen lately
    // (building on the tip we know would most likely lose).
    let fresh = !this.engine.online || cheap || (contended && !publishFirst);
    let base = fresh && this.engine.online ? await this.fetch() : await this.engine.baseTip();
    let live = items;
    const wait: Waiting = { polls: 0, carrier: undefined, since: 0, same: 0 };
    for (let attempt = 1; ; attempt++) {
      const snap = await store.snapshot(base);
      const board = this.board();
      // We carry when the carrier ref, as fetched, names a request of ours (also after a push that made
      // it whose answer we missed); not when it moved on (another writer carried ours, or took a turn we
      // left too long).
      if (board && fresh) {
        const carrier = board.carrier();
        this.held = carrier !== null && this.ours.has(carrier) ? carrier : null;
      }
      // Operations other clones published, as fetched: carried along when they plan.
      if (board && fresh && this.engine.planners) {
        const waiting = await this.remoteWaiting(board, live);
        if (waiting.length) trace(`${waiting.length} operation(s) of others on the board`);
        live = live.concat(waiting);
      }
      live = await this.dropLanded(live, snap.commit);
      // Only other clones' requests are left: ours landed. Their own writers see to them (a carrier
      // carries what it saw: that was carried with ours, or is left for the next carrier).
      if (!live.some((i) => i.foreign !== null)) return;
      // Ours all wait on the board (none that only we can write: raw operations, or other processes'
      // of this clone): the carrier carries them.
      const carriable = live.filter((i) => i.foreign !== null);
      if (board && fresh && !this.held && carriable.every((i) => i.waiter && i.remote) && (await this.awaitCarrier(board, live, wait))) {
        attempt--;
        base = await this.fetch();
        continue;
      }
      const planned = await this.plan(live, snap);
      for (const f of planned.failed) await this.answer(f.item, { err: f.err });
      live = live.filter((i) => !planned.failed.some((f) => f.item === i));
      if (!planned.chain.length) {
        if (!fresh && (planned.refused.length || planned.unchanged.length)) {
          fresh = true;
          const newer = await this.fetch();
          if (newer !== base) {
            base = newer;
            continue;
          }
        }
        await this.answerUnchanged(planned, base, attempt);
        return;
      }
      if (publishFirst && board) {
        publishFirst = false;
        await this.publish(board, live, planned, base);
        if (live.every((i) => i.remote)) {
          trace(`published without racing: others are writing (${this.held ? 'carrier' : 'waiting'})`);
          await this.pause();
          base = await this.fetch();
          fresh = true;
          attempt--;
          continue;
        }
      }
      for (const item of live) if (!item.foreign) item.attempts++;
      const tipSnap = planned.chain[planned.chain.length - 1].snap;
      const extra = board ? board.changes(planned.chain.flatMap((c) => (c.item.remote ? [c.item.remote] : [])), tipSnap.commit!, fresh, this.held) : [];
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
        // A carrier's chain deletes the carrier ref (Board.changes): its turn is over.
        this.held = null;
        for (const c of planned.chain) {
          if (c.item.foreign) this.engine.spool().withdraw(c.item.foreign.file);
          c.item.waiter?.resolve({ result: c.effect.result, commit: c.snap.commit, op: c.op, attempts: c.item.attempts });
        }
        // Pushed on the remote's tip: the refusals were judged on it.
        await this.answerUnchanged(planned, base, attempt);
        store.maintain();
        return;
      }
      this.engine.competitionSeenAt = monotonicMs();
      if (attempt >= this.engine.maxAttempts) {
        const err = new OrchestratorError('CONTENTION', `gave up after ${attempt} attempts: other writers kept advancing the ${store.branch} branch; try again`, { attempts: attempt });
        for (const item of live) await this.answer(item, { err });
        return;
      }
      const before = base;
      // A writer that lost leaves its operations on the board (once each), offering itself as the
      // carrier, then fetches once. The carrier (whoever's request the carrier ref names) carries
      // every request it sees in one chain; the others look when that chain should have landed.
      // (Publishing never throws; when the fetch fails, what was published is withdrawn: runBatch.)
      if (board) await this.publish(board, live, planned, base);
      if (board && (pushed === false || pushed.race) && !this.held && live.some((i) => i.waiter && i.remote)) await this.pause();
      base = await this.fetch();
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

  /**
   * A writer whose operations wait on the board, after a fetch: true while
   * it should keep waiting for the carrier (it has paused; fetch and look
   * again); false once it is the carrier itself, or has waited long enough
   * to push on its own.
   */
  private async awaitCarrier(board: Board, live: Item[], wait: Waiting): Promise<boolean> {
    if (wait.polls >= MAX_POLLS) return false;
    wait.polls++;
    const carrier = board.carrier();
    if (carrier === null || carrier !== wait.carrier) {
      wait.since = monotonicMs();
      wait.same = 0;
    }
    wait.same++;
    wait.carrier = carrier;
    // No carrier (ours came after the last one looked); one whose request is gone (carried or withdrawn
    // while its writer stopped before handing the turn back); or one that has not moved for a long while
    // (its writer stopped): ours becomes the carrier, if nobody else's did first.
    if (carrier === null || !board.hasRequest(carrier) || monotonicMs() - wait.since > STALE_ROUNDS * (this.pushMs + this.fetchMs)) {
      const mine = live.find((i) => i.waiter && i.remote)!.remote!;
      if (await board.takeCarrier(mine.oid, carrier).catch(() => false)) {
        this.held = mine.oid;
        this.ours.add(mine.oid);
        trace(`carrier now${carrier === null ? '' : board.hasRequest(carrier) ? ' (the last one stood still)' : " (the last one's request is gone)"}`);
        return false;
      }
    }
    // Looking again soon mostly finds the carrier still at work, and every look is a command the
    // server serves beside the carrier's: the next look comes after a third of the time a request of
    // ours has lately taken to land, and half as long again at every look that finds the same
    // carrier still at work (it lost a race, or the server is busy: looks would slow it down), up
    // to that whole time.
    const ms = Math.min(this.landMs, Math.max(this.landMs / 3, this.pushMs / 2) * 1.5 ** (wait.same - 1)) * (1 + Math.random() / 4);
    const created = carrier ? live.find((i) => i.remote?.oid === carrier)?.remote?.created : undefined;
    trace(`waiting for the carrier (${created !== undefined ? `published ${Date.now() - created} ms ago` : 'unknown'}; looking in ${ms.toFixed(0)} ms)`);
    await sleep(ms);
    return true;
  }

  /**
   * After publishing: the carrier waits a quarter of a push, so that the
   * requests of writers publishing beside it are there when it looks; the
   * others wait about as long as their requests lately took to land.
   */
  private pause(): Promise<void> {
    const ms = this.held ? this.pushMs / 4 : this.landMs * (1 + Math.random() / 8);
    return sleep(ms);
  }

  /** Fetches (see Engine.refresh), keeping how long a fetch takes. */
  private async fetch(): Promise<string | null> {
    const started = monotonicMs();
    const tip = await this.engine.refresh();
    if (this.engine.online) this.fetchMs = 0.7 * this.fetchMs + 0.3 * (monotonicMs() - started);
    return tip;
  }

  /** Can every one of these operations wait on the board for another writer to carry it? */
  private publishable(items: Item[]): boolean {
    return !!this.board() && !!this.engine.planners && items.every((i) => i.waiter && i.intent && i.opId && i.foreign === undefined && !i.remote);
  }

  private contended(): boolean {
    return monotonicMs() - this.engine.competitionSeenAt < CONTENDED_MS;
  }

  /** Operations other clones left on the board that this writer can plan. */
  private async remoteWaiting(board: Board, live: Item[]): Promise<Item[]> {
    const room = this.engine.maxBatch - live.length;
    if (room <= 0) return [];
    const out: Item[] = [];
    for (const req of await board.list(new Set(live.map((i) => i.opId ?? '')))) {
      const planner = this.engine.planners!(req.intent.name);
      if (!planner) continue;
      out.push({ opId: req.op_id, plan: (world, ctx) => planner(world, ctx, req.intent.input), publishedBase: req.base, remote: { ref: req.ref, oid: req.oid, created: req.created }, foreign: null, attempts: 0 });
      if (out.length >= room) break;
    }
    return out;
  }

  /** Leaves our waiting operations on the board (each once), so that the carrier carries them. */
  private async publish(board: Board, live: Item[], planned: Planned, base: string | null): Promise<void> {
    let announced = false;
    for (const item of live) {
      if (item.foreign !== undefined || !item.intent || !item.opId) continue;
      const by = planned.chain.find((c) => c.item === item)?.op.by ?? 'system';
      if (item.remote) {
        // Published, and lost again: nobody carried it. A writer that keeps winning without fetching
        // has not seen it; every second loss (every loss of the carrier, whose chain carries the
        // others' too), the announce ref points at it again, so that writer's lease fails and it
        // fetches and carries ours.
        item.lost = (item.lost ?? 0) + 1;
        if (!announced && (item.lost % 2 === 0 || this.held)) {
          announced = true;
          await board.announceAgain(item.opId, by).catch(() => undefined);
          trace(`announced ${item.opId} again`);
        }
        continue;
      }
      // The first one published offers this writer as the carrier.
      const req = await board.publish(item.opId, item.intent, base, by, !this.held).catch(() => null);
      trace(`published ${item.opId}: ${req ? (req.carrier ? 'ok, carrier' : 'ok') : 'refused'}`);
      if (req) this.ours.add(req.oid);
      if (req?.carrier) this.held = req.oid;
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

  /**
   * Answers the callers whose operation changed nothing or was refused, judged on `base`, the
   * remote's tip (fetched after they asked, or the base our chain was pushed on). Other processes'
   * requests from the spool hear it through the spool; other clones' requests stay on the board.
   */
  private async answerUnchanged(planned: Planned, base: string | null, attempt: number): Promise<void> {
    // (Not when this writer went offline: the remote may say otherwise, and they may not go offline.)
    const spool = () => this.engine.spool();
    const judged = this.engine.online || !this.engine.store.remote;
    for (const r of planned.refused) {
      if (r.item.foreign) {
        if (judged) spool().answer(r.item.foreign, { err: { code: r.err.code, message: r.err.message, data: r.err.data } });
      } else await this.answer(r.item, { err: r.err });
    }
    for (const u of planned.unchanged) {
      if (u.item.foreign) {
        if (judged) spool().answer(u.item.foreign, { ok: { result: u.result, commit: base } });
      } else await this.answer(u.item, { ok: { result: u.result, commit: base, op: null, attempts: Math.max(1, u.item.attempts || attempt) } });
    }
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
      const withdrawn = await board.withdraw(item.remote).catch(() => 'unknown' as const);
      item.remote = undefined;
      if (withdrawn !== 'withdrawn') {
        // (A refresh that went offline, with --allow-offline, read nothing of the remote either.)
        const tip = withdrawn === 'gone' ? await this.engine.refresh().then((t) => (this.engine.online ? t : undefined), () => undefined) : undefined;
        const landed = tip === undefined ? new Map() : await findLanded(this.engine.store, tip, new Set([item.opId!]), [item.publishedBase ?? null]);
        const l = landed.get(item.opId!);
        if (l) {
          item.waiter.resolve({ result: await resultOf(this.engine.store, l), commit: l.commit, op: l.op, attempts: Math.max(1, item.attempts) });
          return;
        }
        // The request could not be withdrawn (the remote went out of reach), or another writer carried
        // it and the branch could not be read: the caller must not take the failure for the outcome.
        if (tip === undefined) {
          item.waiter.reject(outcomeUnknown('ok' in outcome ? null : outcome.err, withdrawn === 'gone'));
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
      else {
        // When it landed: its carrier planned it at op.at and pushed for about a push (the time we saw
        // it includes our own pause, which would only grow the next one).
        if (item.waiter && item.remote?.created && l.op) {
          const seen = Date.now() - item.remote.created;
          const landed = Math.min(seen, Math.max(this.pushMs, Date.parse(l.op.at) - item.remote.created + this.pushMs));
          // Bounded: clocks of other machines may be off.
          if (Number.isFinite(landed)) this.landMs = Math.min(0.7 * this.landMs + 0.3 * landed, 4 * (this.pushMs + this.fetchMs));
        }
        item.waiter?.resolve({ result: await resultOf(this.engine.store, l), commit: l.commit, op: l.op, attempts: Math.max(1, item.attempts) });
      }
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
        const started = monotonicMs();
        pushed = await store.remote!.push(commit, base, extra);
        this.pushMs = 0.7 * this.pushMs + 0.3 * (monotonicMs() - started);
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
  }
}

/**
 * The failure of an operation that waited on the request board and may
 * still land, or has landed: the remote went out of reach before its
 * request could be withdrawn (a carrier may still carry it until it
 * expires), or another writer carried it and the branch could not be read.
 */
function outcomeUnknown(err: unknown, carried: boolean): OrchestratorError {
  const cause = err instanceof OrchestratorError ? err : null;
  const why = carried
    ? 'another writer carried the operation, but the branch could not be read to learn its result'
    : `the operation could not be withdrawn from the remote's request board, so another writer may still carry it (within ${SPOOL_TTL_MS / 1000} s)`;
  const message = `${cause ? withoutOfflineHint(cause.message) : 'the remote could not be reached'}; ${why}: look at the branch (orchestrator log) before trying again`;
  return new OrchestratorError(cause?.code ?? 'REMOTE', message, { ...(cause?.data ?? {}), outcome: 'unknown' });
}

/** The hints file's content: an object, or null when there is none or it is not one. */
function readHints(file: string): Record<string, unknown> | null {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return h !== null && typeof h === 'object' && !Array.isArray(h) ? (h as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
