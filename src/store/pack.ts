/**
 * Packed objects read in process, for short-lived commands: a lookup in a
 * pack's index (version 2) reads its fan-out table and one bucket of ids,
 * not the whole file, and an object is inflated from its offset in the
 * pack, deltas applied on their bases. Starting `git cat-file` for the few
 * objects a command reads costs more than this does.
 *
 * Anything unusual (an index of another version, a pack replaced by
 * maintenance between two reads, an object this cannot resolve) answers
 * undefined, and the caller asks git.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zlib } from './zlib.js';
import type { ObjectType } from './objects.js';

const TYPES: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;
/** git's own limit on delta chains is 50 by default; deeper than this is not a pack we wrote or fetched. */
const MAX_DEPTH = 1000;

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** One pack and its index, opened on first use. */
class Pack {
  private idx = -1;
  private pack = -1;
  private fanout: Buffer | null = null;
  private count = 0;
  private packSize = 0;

  constructor(readonly base: string) {}

  private open(): boolean {
    if (this.fanout) return true;
    try {
      this.idx = fs.openSync(`${this.base}.idx`, 'r');
      const head = readAt(this.idx, 0, 8 + 256 * 4);
      // Version 2: "\377tOc" then 2.
      if (head.length < 8 + 1024 || head.readUInt32BE(0) !== 0xff744f63 || head.readUInt32BE(4) !== 2) {
        this.close();
        return false;
      }
      this.pack = fs.openSync(`${this.base}.pack`, 'r');
      this.packSize = fs.fstatSync(this.pack).size;
      this.count = head.readUInt32BE(8 + 255 * 4);
      this.fanout = head.subarray(8);
      return true;
    } catch {
      this.close();
      return false;
    }
  }

  /** The object's offset in the pack, null when this pack lacks it, undefined when it cannot be read. */
  offsetOf(oid: string): number | null | undefined {
    if (!this.open()) return undefined;
    const id = Buffer.from(oid, 'hex');
    const first = id[0];
    const lo = first === 0 ? 0 : this.fanout!.readUInt32BE((first - 1) * 4);
    const hi = this.fanout!.readUInt32BE(first * 4);
    if (hi <= lo) return null;
    const shas = readAt(this.idx, 8 + 1024 + lo * 20, (hi - lo) * 20);
    let a = 0;
    let b = hi - lo;
    while (a < b) {
      const m = (a + b) >>> 1;
      const c = shas.compare(id, 0, 20, m * 20, m * 20 + 20);
      if (c === 0) return this.offsetAt(lo + m);
      if (c > 0) b = m;
      else a = m + 1;
    }
    return null;
  }

  private offsetAt(i: number): number {
    const table = 8 + 1024 + this.count * 24;
    const v = readAt(this.idx, table + i * 4, 4).readUInt32BE(0);
    if (!(v & 0x80000000)) return v;
    const big = readAt(this.idx, table + this.count * 4 + (v & 0x7fffffff) * 8, 8);
    return big.readUInt32BE(0) * 2 ** 32 + big.readUInt32BE(4);
  }

  /** The entry at `offset`: its type code, its inflated data, and its delta base when it is a delta. */
  entry(offset: number): { type: number; data: Buffer; baseOffset?: number; baseOid?: string } {
    let head = readAt(this.pack, offset, 32);
    let byte = head[0];
    const type = (byte >> 4) & 7;
    let size = byte & 15;
    let shift = 4;
    let p = 1;
    while (byte & 0x80) {
      byte = head[p++];
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    }
    let baseOffset: number | undefined;
    let baseOid: string | undefined;
    if (type === OFS_DELTA) {
      byte = head[p++];
      let rel = byte & 0x7f;
      while (byte & 0x80) {
        byte = head[p++];
        rel = (rel + 1) * 128 + (byte & 0x7f);
      }
      baseOffset = offset - rel;
    } else if (type === REF_DELTA) {
      baseOid = head.toString('hex', p, p + 20);
      p += 20;
    }
    // A deflate stream is at most a little longer than what it holds; what follows it is ignored.
    const room = Math.min(size + (size >> 8) + 64, this.packSize - offset - p);
    head = readAt(this.pack, offset + p, room);
    const data = zlib().inflateSync(head);
    if (data.length !== size) throw new Error(`pack entry at ${offset} inflates to ${data.length} bytes, not ${size}`);
    return { type, data, baseOffset, baseOid };
  }

  close(): void {
    for (const fd of [this.idx, this.pack]) if (fd >= 0) fs.closeSync(fd);
    this.idx = this.pack = -1;
    this.fanout = null;
  }
}

function varint(buf: Buffer, p: number): [number, number] {
  let v = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = buf[p++];
    v += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [v, p];
}

/** git's delta format: the sizes of base and result, then copies from the base and inserted bytes. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let [baseSize, p] = varint(delta, 0);
  if (baseSize !== base.length) throw new Error(`delta expects a base of ${baseSize} bytes, not ${base.length}`);
  let size: number;
  [size, p] = varint(delta, p);
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  while (p < delta.length) {
    const op = delta[p++];
    if (op & 0x80) {
      let off = 0;
      let len = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) off += delta[p++] * 2 ** (8 * i);
      for (let i = 0; i < 3; i++) if (op & (1 << (4 + i))) len += delta[p++] * 2 ** (8 * i);
      if (len === 0) len = 0x10000;
      if (off + len > base.length || o + len > size) throw new Error('delta copies past its bounds');
      base.copy(out, o, off, off + len);
      o += len;
    } else if (op) {
      if (o + op > size || p + op > delta.length) throw new Error('delta inserts past its bounds');
      delta.copy(out, o, p, p + op);
      o += op;
      p += op;
    } else throw new Error('delta has a reserved instruction');
  }
  if (o !== size) throw new Error(`delta gives ${o} bytes, not ${size}`);
  return out;
}

/** The packs of one object directory. */
export class Packs {
  private packs: Pack[] | null = null;
  private scannedAt = 0;
  private dirTime = -1;

  constructor(private readonly objectsDir: string) {}

  /** The packs, listed again when asked or when the directory changed (maintenance replaced a pack). */
  private list(rescan: boolean): Pack[] {
    const dir = path.join(this.objectsDir, 'pack');
    let time = -1;
    try {
      time = fs.statSync(dir).mtimeMs;
    } catch {
      // No pack directory: nothing packed.
    }
    if (this.packs && !rescan && time === this.dirTime) return this.packs;
    this.dirTime = time;
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir).filter((n) => n.endsWith('.idx'));
    } catch {
      // As above.
    }
    const known = new Map((this.packs ?? []).map((p) => [p.base, p]));
    const next = names.map((n) => known.get(path.join(dir, n.slice(0, -4))) ?? new Pack(path.join(dir, n.slice(0, -4))));
    for (const [base, p] of known) if (!next.some((q) => q.base === base)) p.close();
    this.packs = next;
    this.scannedAt = Date.now();
    return next;
  }

  /** The pack holding the object and its offset there: null when no pack here has it, undefined when one cannot be read. */
  private locate(oid: string): { pack: Pack; offset: number } | null | undefined {
    for (const rescan of [false, true]) {
      // A pack written since the last listing (within the directory time's granularity) is found on a miss.
      if (rescan && Date.now() - this.scannedAt < 5) break;
      for (const pack of this.list(rescan)) {
        const offset = pack.offsetOf(oid);
        if (offset === undefined) return undefined;
        if (offset !== null) return { pack, offset };
      }
    }
    return null;
  }

  /** Whether a pack here has the object (false may still mean another directory has it). */
  has(oid: string): boolean {
    return !!this.locate(oid);
  }

  /**
   * The object, null when no pack here has it, undefined when it could not be
   * read in process (git decides). `resolve` reads a REF_DELTA's base, wherever it is.
   */
  async read(oid: string, resolve: (oid: string) => Promise<{ type: ObjectType; content: Buffer }>): Promise<{ type: ObjectType; content: Buffer } | null | undefined> {
    const found = this.locate(oid);
    if (!found) return found;
    try {
      return await this.at(found.pack, found.offset, resolve);
    } catch {
      return undefined;
    }
  }

  private async at(pack: Pack, offset: number, resolve: (oid: string) => Promise<{ type: ObjectType; content: Buffer }>): Promise<{ type: ObjectType; content: Buffer }> {
    const deltas: Buffer[] = [];
    let e = pack.entry(offset);
    let base: { type: ObjectType; content: Buffer } | null = null;
    while (!base) {
      if (deltas.length > MAX_DEPTH) throw new Error('delta chain too deep');
      if (e.baseOffset !== undefined) {
        deltas.push(e.data);
        e = pack.entry(e.baseOffset);
      } else if (e.baseOid !== undefined) {
        deltas.push(e.data);
        base = await resolve(e.baseOid);
      } else {
        const type = TYPES[e.type];
        if (!type) throw new Error(`pack entry of unknown type ${e.type}`);
        base = { type, content: e.data };
      }
    }
    let content = base.content;
    for (let i = deltas.length - 1; i >= 0; i--) content = applyDelta(content, deltas[i]);
    return { type: base.type, content };
  }
}
