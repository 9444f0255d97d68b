/**
 * The request board, the engine's side: writers on different clones that
 * lose a race (or saw others write lately) publish their waiting operation
 * (as data: an intent) in a ref of its own on the remote. The carrier ref
 * names the request whose writer carries next: the first publication made
 * while there is none takes it, in the same push. The carrier fetches,
 * carries every published operation it can plan in its chain, and deletes
 * their refs and the carrier ref in the same atomic push; the others look
 * once that chain should have landed, and take the carrier ref themselves
 * when it is gone and theirs still waits (or when its writer stood still
 * far too long). A writer that keeps winning without fetching hears of a
 * request that keeps losing through the announce ref every such push
 * leases. So a burst of writers lands in a few chains instead of one
 * writer per round, and none starves.
 *
 * Nothing here decides an outcome: an operation has landed when a commit
 * on the branch records its operation id, and the carrier ref only says
 * who should push. A publisher that gives up (or is refused) withdraws its
 * request first; when the withdrawal finds it gone, the operation was
 * carried and its result is read from the branch.
 */
import { OrchestratorError } from '../errors.js';
import { recordedOp } from '../store/history.js';
import { dropLooseRef, listRefs, readRef } from '../store/refs.js';
import type { GitStore } from '../store/git-store.js';
import type { RefChange, RequestBoard } from '../store/remote.js';
import { SPOOL_TTL_MS, type Intent } from './spool.js';
import { trace } from './types.js';

export interface RemoteRequest {
  ref: string;
  oid: string;
  op_id: string;
  intent: Intent;
  base: string | null;
  created: number;
}

const SUBJECT = 'orchestrator request';

export class Board {
  private parsed = new Map<string, RemoteRequest | null>();

  constructor(
    private readonly store: GitStore,
    readonly remote: RequestBoard,
  ) {}

  private localRef(remoteRef: string): string {
    return this.remote.localPrefix + remoteRef.slice(this.remote.remotePrefix.length);
  }

  /** The announce ref's value as last fetched (null: none seen). */
  announce(): string | null {
    return readRef(this.store.repo, this.localRef(this.remote.announceRef));
  }

  /** The carrier ref's value as last fetched (or as we set it): the request whose writer carries next. */
  carrier(): string | null {
    return readRef(this.store.repo, this.localRef(this.remote.carrierRef));
  }

  /** The request refs as last fetched (local name and commit), without the announce and carrier refs. */
  private *requestRefs(): Generator<[string, string]> {
    const skip = new Set([this.localRef(this.remote.announceRef), this.localRef(this.remote.carrierRef)]);
    for (const entry of listRefs(this.store.repo, this.remote.localPrefix)) if (!skip.has(entry[0])) yield entry;
  }

  /** Requests as last fetched, oldest first, without `exclude`d ids and expired ones. */
  async list(exclude: ReadonlySet<string>): Promise<RemoteRequest[]> {
    const out: RemoteRequest[] = [];
    const now = Date.now();
    for (const [local, oid] of this.requestRefs()) {
      let req = this.parsed.get(oid);
      if (req === undefined) {
        req = await this.read(this.remote.remotePrefix + local.slice(this.remote.localPrefix.length), oid);
        // A commit that could not be read (yet) is read again next time, not taken for a stranger.
        if (req !== undefined) this.parsed.set(oid, req);
      }
      if (req && !exclude.has(req.op_id) && now - req.created < SPOOL_TTL_MS) out.push(req);
      else if (req === undefined) trace(`board: request ${oid.slice(0, 8)} not readable yet`);
    }
    return out.sort((a, b) => a.created - b.created);
  }

  /** The request in commit `oid`; null: not a request; undefined: the commit could not be read. */
  private async read(ref: string, oid: string): Promise<RemoteRequest | null | undefined> {
    let c: Awaited<ReturnType<GitStore['objects']['readCommit']>>;
    try {
      c = await this.store.objects.readCommit(oid);
    } catch {
      return undefined;
    }
    try {
      if (!c.message.startsWith(SUBJECT)) return null;
      const rec = recordedOp(c.message) as { op_id?: unknown; intent?: Intent; base?: unknown; created?: unknown } | null;
      if (!rec || typeof rec.op_id !== 'string' || !rec.intent || typeof rec.intent.name !== 'string') return null;
      return { ref, oid, op_id: rec.op_id, intent: rec.intent, base: typeof rec.base === 'string' ? rec.base : null, created: Number(rec.created) || 0 };
    } catch {
      return null;
    }
  }

  /** A root commit with an empty tree, by `by` at `now`: a request, or a new value for the announce ref. */
  private async boardCommit(by: string, now: number, message: string): Promise<string> {
    const objects = this.store.objects;
    const person = { name: by, email: `${by}@orchestrator`, timestamp: Math.floor(now / 1000), tzOffset: 0 };
    return objects.writeCommit({ tree: await objects.writeTree([]), parents: [], author: person, committer: person, message });
  }

  /**
   * Publishes a waiting operation, and with `carrier` offers its writer as
   * the carrier (taken when there is none). Null when the remote refused
   * (the board is then not used).
   */
  async publish(opId: string, intent: Intent, base: string | null, by: string, carrier: boolean): Promise<{ ref: string; oid: string; created: number; carrier: boolean } | null> {
    const now = Date.now();
    const record = { op_id: opId, intent, base, created: now };
    const oid = await this.boardCommit(by, now, `${SUBJECT} ${opId}\n\nOrchestrator-Op: ${JSON.stringify(record)}\n`);
    const ref = `${this.remote.remotePrefix}${opId}`;
    const r = await this.remote.publish(oid, ref, carrier);
    if (!r.published) {
      // The publication is not atomic: a carrier ref made for a request that was refused names nothing.
      if (r.carrier) await this.remote.releaseCarrier(oid).catch(() => undefined);
      return null;
    }
    if (r.carrier) await this.setCarrier(oid);
    return { ref, oid, created: now, carrier: r.carrier };
  }

  /** Makes our request `oid` the carrier if the carrier ref is still `expect` (as fetched); whether it did. */
  async takeCarrier(oid: string, expect: string | null): Promise<boolean> {
    if (!(await this.remote.takeCarrier(oid, expect))) return false;
    await this.setCarrier(oid);
    return true;
  }

  /** Gives the carrier role up (it is still `oid`'s): nothing to carry after all. */
  async releaseCarrier(oid: string): Promise<void> {
    await this.remote.releaseCarrier(oid);
    dropLooseRef(this.store.repo, this.localRef(this.remote.carrierRef), oid);
  }

  /** Our copy of the carrier ref follows what we made it (until the next fetch tells the remote's). */
  private async setCarrier(oid: string): Promise<void> {
    const local = this.localRef(this.remote.carrierRef);
    await this.store.swapRef(local, readRef(this.store.repo, local), oid).catch(() => undefined);
  }

  /**
   * Moves the announce ref again for our waiting request: a writer winning
   * without fetching fails its lease, fetches and carries it. The ref gets a
   * new commit of its own (a lease holds while the value is the same).
   */
  async announceAgain(opId: string, by: string): Promise<void> {
    const now = Date.now();
    await this.remote.announce(await this.boardCommit(by, now, `orchestrator announce ${opId} ${now}\n`));
  }

  /** Withdraws our request: 'gone' means another writer carried it (or it expired and was removed). */
  withdraw(req: { ref: string; oid: string }): Promise<'withdrawn' | 'gone'> {
    return this.remote.withdraw(req.ref, req.oid);
  }

  /**
   * What the atomic push of a chain changes besides the branch: the carried
   * requests' deletion; the carrier ref's, when we hold it (`held`) or
   * carry the request it names; and, for a chain built without fetching
   * first, a lease on the announce ref (a request that kept losing moved it
   * since our last fetch: the push fails, so that we fetch and carry it). A
   * chain built on a fresh fetch already carries what was published before
   * it; later publications must not abort it.
   */
  changes(carried: Array<{ ref: string; oid: string }>, tip: string, fetched: boolean, held: string | null): RefChange[] {
    const out: RefChange[] = [];
    if (!fetched) {
      const announce = this.announce();
      out.push(announce ? { ref: this.remote.announceRef, to: announce, expect: announce } : { ref: this.remote.announceRef, to: tip, expect: null });
    }
    for (const c of carried) out.push({ ref: c.ref, to: null, expect: c.oid });
    // A chain of the carrier, or one carrying the carrier's request, ends its turn: the carrier ref goes with it.
    const carrier = held ?? this.carrier();
    if (carrier && (held || carried.some((c) => c.oid === carrier))) out.push({ ref: this.remote.carrierRef, to: null, expect: carrier });
    return out;
  }

  /** Is `oid` the request of one of the refs on the board (as last fetched)? */
  hasRequest(oid: string): boolean {
    for (const [, value] of this.requestRefs()) if (value === oid) return true;
    return false;
  }

  /** After a successful push: our copies follow what it changed. */
  pushed(changes: RefChange[]): void {
    for (const c of changes) {
      const local = this.localRef(c.ref);
      if (c.to === null && c.expect) dropLooseRef(this.store.repo, local, c.expect);
      else if (c.to && c.expect === null) void this.store.swapRef(local, null, c.to).catch(() => undefined);
    }
  }

  /** Is this failure the remote telling us it does not take atomic pushes or our refs? Then the board is not used. */
  static unsupported(err: unknown): boolean {
    return err instanceof OrchestratorError && /does not support --atomic|atomic push/i.test(String(err.data.stderr ?? err.message)) && !/stale info|fetch first/.test(String(err.data.stderr ?? ''));
  }
}
