/**
 * A push over a connection opened before the push is ready.
 *
 * Over ssh, half of a small push passes before the server says a word: the
 * channel opens, the server's access check runs (gitolite starts perl),
 * git-receive-pack starts and lists the refs. Measured against gitolite on
 * loopback: the list arrives after about 90 of a push's 185 ms. A session
 * opens that connection ahead of time: when a write starts (so it overlaps
 * building the commit), and in a process that keeps writing, again right
 * after each push (so the next push finds it ready). Its push then costs
 * only what comes after: the pack, the server's hooks, the ref update.
 *
 * It speaks git's own protocol to receive-pack (pkt-lines, report-status).
 * The update names the value the ref must still have, and receive-pack
 * changes the ref only if it has that value, under the ref's lock: a
 * compare-and-swap judged by the server, as with git push. The ssh command
 * and its arguments are the ones git itself runs for the remote (asked of
 * git once per process), so url rewrites, ports, users and the user's own
 * ssh command all hold.
 *
 * A session serves one push, and answers as git push --porcelain reports,
 * so that the caller judges both the same way. One that was closed before
 * its push was sent, that waited too long, or that the server answered in a
 * way this does not take (no report-status, objects it says are missing, an
 * unpack error) changed nothing on the server, and the caller pushes with
 * git. A connection that breaks after the push was sent is an error, as a
 * git push broken mid-transfer is: the server may have taken it.
 */
import type { ChildProcess } from 'node:child_process';
import type { ObjectStore, ObjectType } from './objects.js';
import { TREE_MODE } from './objects.js';
import { zlib } from './zlib.js';

/** A session not used within this long is closed unused (a connection idle that long may have been dropped on the way). */
export const SESSION_IDLE_MS = 15_000;
const ZERO = '0'.repeat(40);
const PACK_TYPES: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };

/** One ref to change: `old` the value it must still have (null: it must not exist), `new` its value (null: deleted). */
export interface RefUpdate {
  ref: string;
  old: string | null;
  new: string | null;
}

/**
 * What became of a session's push:
 * - `report`: the server's verdict on every ref, as git push --porcelain
 *   prints it (flag, tab, `<new>:<ref>`, tab, summary), and its stderr;
 * - `closed`: nothing was sent (the session had closed, or waited too long);
 * - `unsupported`: the server changed nothing for a reason git push would
 *   not have (no report-status or a capability the push needs, an unpack
 *   error, objects it says are missing): push with git, and not this way again;
 * - `broken`: the connection closed after the push was sent, before the
 *   server's verdict (it may have taken it).
 */
export type SessionOutcome = { kind: 'report'; ok: boolean; porcelain: string; stderr: string } | { kind: 'closed' } | { kind: 'unsupported' } | { kind: 'broken'; stderr: string };

/** A line of git push --porcelain for `u`. */
function porcelain(u: RefUpdate, summary: string): string {
  return `${summary === '[ok]' ? ' ' : '!'}\t${u.new ?? '(delete)'}:${u.ref}\t${summary}`;
}

/** What receive-pack said before the push: its capabilities and refs. */
export interface Advertisement {
  caps: Set<string>;
  refs: Map<string, string>;
  /** When it arrived (Date.now()). */
  at: number;
}

/** A session to receive-pack, over whatever carries it (ssh here, HTTP in http-push.ts). */
export interface ReceiveSession {
  /** Whether a push may still be sent on it. */
  usable(): boolean;
  /** Sends the ref updates and the pack of their new objects (see SessionOutcome). */
  push(updates: RefUpdate[], pack: Buffer): Promise<SessionOutcome>;
  /** Ends it unused. */
  close(): void;
}

/**
 * A lease on a ref the push does not change (its value must still be the
 * one we know) is checked against the refs the server listed, as git push
 * checks its leases, when the list is this fresh; an older list sends it as
 * an update to the same value, checked by the server under the ref's lock
 * (exact, but the server runs its update hook for it).
 */
const LEASE_LIST_MS = 1000;

/** One pkt-line (payload without the 4-byte length). */
function pkt(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body]);
}

/** pkt-lines read as their bytes arrive. */
export class PktReader {
  private input: Buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | null = null;

  add(chunk: Buffer): void {
    this.input = this.input.length ? Buffer.concat([this.input, chunk]) : chunk;
    this.poke();
  }

  end(): void {
    this.ended = true;
    this.poke();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** The next pkt-line's payload, 'flush', or null at the end of the stream. */
  async next(): Promise<Buffer | 'flush' | null> {
    for (;;) {
      if (this.input.length >= 4) {
        const len = parseInt(this.input.toString('latin1', 0, 4), 16);
        if (Number.isNaN(len) || (len > 0 && len < 4)) throw new Error(`bad pkt-line length ${JSON.stringify(this.input.toString('latin1', 0, 4))}`);
        if (len === 0) {
          this.input = this.input.subarray(4);
          return 'flush';
        }
        if (this.input.length >= len) {
          const line = this.input.subarray(4, len);
          this.input = this.input.subarray(len);
          return line;
        }
      }
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/**
 * Reads receive-pack's ref list (over HTTP after its `# service=` line);
 * null when the stream ended first or the server cannot report a push's
 * outcome (no report-status).
 */
export async function readAdvertisement(r: PktReader, http = false): Promise<Advertisement | null> {
  if (http) {
    const head = await r.next();
    if (head === null || head === 'flush' || !head.toString('latin1').startsWith('# service=git-receive-pack')) return null;
    if ((await r.next()) !== 'flush') return null;
  }
  const caps = new Set<string>();
  const refs = new Map<string, string>();
  let first = true;
  for (;;) {
    const line = await r.next();
    if (line === null) return null;
    if (line === 'flush') break;
    let text = line.toString('utf8').replace(/\n$/, '');
    if (first) {
      first = false;
      const nul = text.indexOf('\0');
      if (nul < 0) return null;
      for (const c of text.slice(nul + 1).trim().split(' ')) if (c) caps.add(c);
      text = text.slice(0, nul);
    }
    const m = /^([0-9a-f]{40}) (\S+)$/.exec(text);
    if (m && m[2] !== 'capabilities^{}') refs.set(m[2], m[1]);
  }
  return caps.has('report-status') ? { caps, refs, at: Date.now() } : null;
}

/**
 * What to send for a push, given the server's ref list: the request (the
 * updates, each with the value the ref must still have, in one atomic
 * transaction when there are several, then the pack unless every update
 * deletes), or at once the outcome (a lease the list shows stale; a
 * capability the push needs that the server lacks).
 */
export function pushRequest(adv: Advertisement, updates: RefUpdate[], pack: Buffer, opts: { sideband?: boolean } = {}): { body: Buffer; updates: RefUpdate[]; sendsPack: boolean; sideband: boolean } | SessionOutcome {
  if (Date.now() - adv.at < LEASE_LIST_MS) {
    // Leases on refs this push leaves alone, judged on the list (see LEASE_LIST_MS).
    const leases = updates.filter((u, i) => i > 0 && u.old === u.new);
    const stale = leases.find((u) => (adv.refs.get(u.ref) ?? null) !== u.old);
    if (stale) {
      // As git push reports a lease that failed: that ref stale, the others not sent (atomic).
      const lines = updates.map((u) => porcelain(u, u === stale ? '[rejected] (stale info)' : '[rejected] (atomic push failed)'));
      return { kind: 'report', ok: false, porcelain: lines.join('\n'), stderr: '' };
    }
    updates = updates.filter((u) => !leases.includes(u));
  }
  const needs = [...(updates.length > 1 ? ['atomic'] : []), ...(updates.some((u) => u.new === null) ? ['delete-refs'] : [])];
  if (!needs.every((c) => adv.caps.has(c))) return { kind: 'unsupported' };
  const caps = ['report-status', ...needs];
  // Over HTTP the server's stderr (a hook's words) reaches the client only on side-band 2.
  const sideband = !!opts.sideband && adv.caps.has('side-band-64k');
  if (sideband) caps.push('side-band-64k');
  if (adv.caps.has('quiet')) caps.push('quiet');
  if ([...adv.caps].some((c) => c.startsWith('object-format='))) caps.push('object-format=sha1');
  caps.push('agent=git-orchestrator');
  const lines = updates.map((u, i) => {
    const text = `${u.old ?? ZERO} ${u.new ?? ZERO} ${u.ref}`;
    return pkt(i === 0 ? Buffer.concat([Buffer.from(text), Buffer.from([0]), Buffer.from(' ' + caps.join(' '))]) : text);
  });
  const sendsPack = updates.some((u) => u.new !== null);
  return { body: Buffer.concat([...lines, Buffer.from('0000'), ...(sendsPack ? [pack] : [])]), updates, sendsPack, sideband };
}

/**
 * Splits a side-band stream: band 1 (the report) into `into`, bands 2 and 3
 * (progress, a hook's words, a fatal error) to `say`.
 */
export async function demux(from: PktReader, into: PktReader, say: (text: string) => void): Promise<void> {
  try {
    for (;;) {
      const p = await from.next();
      if (p === null || p === 'flush') break;
      if (p.length && p[0] === 1) into.add(p.subarray(1));
      else if (p.length && (p[0] === 2 || p[0] === 3)) say(p.toString('utf8', 1));
    }
  } catch {
    /* a broken stream: the report reader sees it end */
  }
  into.end();
}

/** Reads receive-pack's report: the unpack status and a verdict per ref. */
export async function readReport(r: PktReader, sendsPack: boolean): Promise<{ unpack: string | null; verdicts: Map<string, string> }> {
  let unpack: string | null = null;
  const verdicts = new Map<string, string>();
  try {
    for (;;) {
      const line = await r.next();
      if (line === null) break;
      if (line === 'flush') {
        if (unpack !== null || !sendsPack) break;
        continue;
      }
      const text = line.toString('utf8').replace(/\n$/, '');
      if (text.startsWith('unpack ')) unpack = text.slice(7);
      else {
        const m = /^(ok|ng) (\S+)(?: (.*))?$/.exec(text);
        if (m) verdicts.set(m[2], m[1] === 'ok' ? 'ok' : (m[3] ?? 'rejected'));
      }
    }
  } catch {
    verdicts.clear();
  }
  return { unpack, verdicts };
}

/** The outcome a report gives (`stderr`: the server's words, read to their end for a refusal). */
export async function judgeReport(report: { unpack: string | null; verdicts: Map<string, string> }, updates: RefUpdate[], sendsPack: boolean, stderr: () => Promise<string>): Promise<SessionOutcome> {
  const { unpack, verdicts } = report;
  // An unpack error or missing objects: no ref was changed, and git push can do what this could not.
  if ((unpack !== null && unpack !== 'ok') || [...verdicts.values()].some((v) => /missing necessary objects|unpacker error/.test(v))) return { kind: 'unsupported' };
  if ((sendsPack && unpack === null) || updates.some((u) => !verdicts.has(u.ref))) return { kind: 'broken', stderr: await stderr() };
  const ok = updates.every((u) => verdicts.get(u.ref) === 'ok');
  const lines = updates.map((u) => {
    const v = verdicts.get(u.ref)!;
    return porcelain(u, v === 'ok' ? '[ok]' : `[remote rejected] (${v})`);
  });
  return { kind: 'report', ok, porcelain: lines.join('\n'), stderr: ok ? '' : await stderr() };
}

/** A version 2 pack of `objects`, each compressed on its own (git's own layout, without deltas). */
export function buildPack(objects: Array<{ type: ObjectType; content: Buffer }>): Buffer {
  const head = Buffer.alloc(12);
  head.write('PACK', 0, 'latin1');
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(objects.length, 8);
  const parts: Buffer[] = [head];
  for (const o of objects) {
    // Type and size: the low four bits of the size first, then seven bits a byte.
    let size = o.content.length;
    const bytes = [(PACK_TYPES[o.type] << 4) | (size & 0x0f)];
    size = Math.floor(size / 16);
    while (size > 0) {
      bytes[bytes.length - 1] |= 0x80;
      bytes.push(size & 0x7f);
      size = Math.floor(size / 128);
    }
    parts.push(Buffer.from(bytes), zlib().deflateSync(o.content, { level: 1 }));
  }
  const body = Buffer.concat(parts);
  const crypto = require('node:crypto') as typeof import('node:crypto');
  return Buffer.concat([body, crypto.createHash('sha1').update(body).digest()]);
}

/** A session to receive-pack over ssh: the ssh command git itself runs for the remote. */
export class PushSession implements ReceiveSession {
  private readonly child: ChildProcess;
  private readonly reader = new PktReader();
  private stderrText = '';
  private used = false;
  /** Whether anything was written to the server (then closing is the server's to do). */
  private sent = false;
  private readonly advertised: Promise<Advertisement | null>;
  private readonly opened = Date.now();
  private readonly idle: NodeJS.Timeout;
  private readonly closed: Promise<void>;

  /** Starts `sh -c '<command> "$@"' <command> <args>`, as git runs an ssh command. */
  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    // Loaded here: every command's start-up would pay for child_process.
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    this.child = spawn('sh', ['-c', `${command} "$@"`, command, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (c: Buffer) => this.reader.add(c));
    this.child.stderr!.on('data', (c: Buffer) => (this.stderrText += c.toString('utf8')));
    const done = () => this.reader.end();
    this.child.on('error', done);
    this.child.stdout!.on('end', done);
    this.child.on('close', done);
    this.closed = new Promise<void>((resolve) => this.child.on('close', () => resolve()));
    // A write to a connection that closed: the read that follows reports it.
    this.child.stdin!.on('error', () => undefined);
    this.advertised = readAdvertisement(this.reader).catch(() => null);
    this.idle = setTimeout(() => this.close(), SESSION_IDLE_MS);
    this.idle.unref();
    // A session waiting for its push is no reason to keep a process alive (one pushing is).
    this.hold(false);
  }

  private hold(on: boolean): void {
    for (const h of [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as unknown as Array<{ ref?(): void; unref?(): void } | null>) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }

  usable(): boolean {
    return !this.used && !this.reader.isEnded && Date.now() - this.opened < SESSION_IDLE_MS;
  }

  async push(updates: RefUpdate[], pack: Buffer): Promise<SessionOutcome> {
    if (!this.usable()) return { kind: 'closed' };
    this.used = true;
    clearTimeout(this.idle);
    this.hold(true);
    try {
      return await this.send(updates, pack);
    } finally {
      this.hold(false);
    }
  }

  private async send(updates: RefUpdate[], pack: Buffer): Promise<SessionOutcome> {
    const adv = await this.advertised;
    if (!adv || this.reader.isEnded) {
      this.close();
      return { kind: 'closed' };
    }
    const request = pushRequest(adv, updates, pack);
    if ('kind' in request) {
      this.close();
      return request;
    }
    this.sent = true;
    this.child.stdin!.end(request.body);
    const report = await readReport(this.reader, request.sendsPack);
    // The server's own words (a hook's) come on stderr, which may still be on its way: read to its end (1 s at most).
    return judgeReport(report, request.updates, request.sendsPack, async () => {
      await Promise.race([this.closed, new Promise((r) => setTimeout(r, 1000).unref())]);
      return this.stderrText;
    });
  }

  /** Ends an unused session: receive-pack, given no command, exits having done nothing. */
  close(): void {
    clearTimeout(this.idle);
    this.used = true;
    if (!this.sent) {
      this.sent = true;
      this.child.stdin!.end('0000');
    }
  }
}

/** Objects beyond this size go through git push (which streams them). */
const MAX_SESSION_BYTES = 8 << 20;
/** Commits beyond this many between the remote's tip and ours go through git push. */
const MAX_SESSION_COMMITS = 256;

/**
 * The objects `commit` has that `base` (on the server) lacks: the commits
 * back to `base`, and the trees and blobs each changed from its parent's.
 * null when git should decide (a merge, a chain that does not reach `base`,
 * a large object).
 */
export async function objectsSince(store: ObjectStore, commit: string, base: string | null): Promise<Array<{ type: ObjectType; content: Buffer }> | null> {
  const chain: Array<{ oid: string; tree: string; parent: string | null }> = [];
  for (let c: string | null = commit; c !== base; ) {
    if (c === null || chain.length >= MAX_SESSION_COMMITS) return null;
    const info = await store.readCommit(c);
    if (info.parents.length > 1) return null;
    chain.push({ oid: c, tree: info.tree, parent: info.parents[0] ?? null });
    c = info.parents[0] ?? null;
  }
  const out = new Map<string, { type: ObjectType; content: Buffer }>();
  let bytes = 0;
  const add = async (oid: string, type: ObjectType): Promise<boolean> => {
    if (out.has(oid)) return false;
    const content = await store.readTyped(oid, type);
    bytes += content.length;
    if (bytes > MAX_SESSION_BYTES) throw new Error('too large');
    out.set(oid, { type, content });
    return true;
  };
  const addTree = async (oid: string, old: string | null): Promise<void> => {
    if (oid === old || !(await add(oid, 'tree'))) return;
    const before = old ? new Map((await store.readTree(old)).map((e) => [e.name, e])) : null;
    for (const e of await store.readTree(oid)) {
      if (e.mode === '160000') continue;
      const prev = before?.get(e.name);
      if (prev?.oid === e.oid) continue;
      if (e.mode === TREE_MODE) await addTree(e.oid, prev?.mode === TREE_MODE ? prev.oid : null);
      else await add(e.oid, 'blob');
    }
  };
  try {
    for (const c of chain.reverse()) {
      await add(c.oid, 'commit');
      await addTree(c.tree, c.parent === null ? null : (await store.readCommit(c.parent)).tree);
    }
  } catch (err) {
    if ((err as Error).message === 'too large') return null;
    throw err;
  }
  return [...out.values()];
}
