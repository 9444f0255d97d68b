/**
 * Blobs built from pieces that are compressed once. A mutation rewrites
 * state.json and the live event segment, but most of their bytes are those
 * of the previous version: a piece keeps its bytes, its raw deflate stream
 * (ended by a sync flush, so streams of pieces can be laid end to end) and
 * its Adler-32, and a loose object is the zlib header, the pieces' streams,
 * an empty final block and the Adler-32 of the whole, combined from the
 * pieces' own (what pigz does). Only pieces that changed are compressed.
 *
 * Every piece is compressed on its own (no back-references across pieces),
 * which costs a little compression; git recompresses when it packs.
 */
import * as fs from 'node:fs';
import { zlib } from './zlib.js';

export interface Piece {
  readonly bytes: Buffer;
  /** Raw deflate data ending in a sync flush; computed on first write. */
  deflated?: Buffer;
  adler?: number;
}

export function piece(bytes: Buffer): Piece {
  return { bytes };
}

/** Bytes that lie in an open file: read when needed, or streamed without holding them. */
export interface FileRange {
  readonly fd: number;
  readonly position: number;
  readonly length: number;
}

/**
 * A piece whose bytes and compressed stream lie in a file (the state
 * cache's runs): its bytes are read the first time they are asked for, and a
 * blob made of such pieces is hashed and written by streaming them from the
 * file, so a command that changes one task of 50,000 never holds the others.
 */
export class FilePiece implements Piece {
  private text: Buffer | undefined;
  private stream: Buffer | undefined;
  constructor(
    readonly fd: number,
    readonly position: number,
    readonly length: number,
    readonly deflatedPosition: number,
    readonly deflatedLength: number,
    readonly adler: number,
  ) {}
  get bytes(): Buffer {
    return (this.text ??= readRange({ fd: this.fd, position: this.position, length: this.length }));
  }
  get deflated(): Buffer {
    return (this.stream ??= readRange({ fd: this.fd, position: this.deflatedPosition, length: this.deflatedLength }));
  }
  set deflated(stream: Buffer) {
    this.stream = stream;
  }
  /** Its bytes and stream, read by the caller. */
  adopt(text: Buffer, stream: Buffer): void {
    this.text = text;
    this.stream = stream;
  }
  /** Whether its bytes were read (else they are streamed from the file). */
  get read(): boolean {
    return this.text !== undefined;
  }
  /** The bytes, as a range of the file (streamed, never kept). */
  get range(): FileRange {
    return { fd: this.fd, position: this.position, length: this.length };
  }
  get deflatedRange(): FileRange {
    return { fd: this.fd, position: this.deflatedPosition, length: this.deflatedLength };
  }
}

/** Reads `length` bytes at `position` of `fd` into `into` at 0; a file that ends early is an error. */
function readFully(fd: number, into: Buffer, length: number, position: number): void {
  for (let done = 0; done < length; ) {
    const n = fs.readSync(fd, into, done, length - done, position + done);
    if (n === 0) throw new Error(`state cache: a file ended ${length - done} bytes early`);
    done += n;
  }
}

export function readRange(r: FileRange): Buffer {
  const out = Buffer.allocUnsafe(r.length);
  readFully(r.fd, out, r.length, r.position);
  return out;
}

// One buffer for every streamed range: a fresh 20 MB buffer costs more in page faults than reading it.
// A chunk small enough to stay in the CPU's cache while it is hashed or written: reading and hashing a
// 22 MB board took 19-20 ms in 128 KB chunks against 28-33 ms in 1 MB chunks.
const CHUNK = 1 << 17;
let chunk: Buffer | null = null;

/** Calls `each` with the bytes of `r` in order, a megabyte at a time (the buffer is reused: copy what you keep). */
export function streamRange(r: FileRange, each: (bytes: Buffer) => void): void {
  chunk ??= Buffer.allocUnsafe(CHUNK);
  for (let done = 0; done < r.length; ) {
    const n = Math.min(CHUNK, r.length - done);
    readFully(r.fd, chunk, n, r.position + done);
    each(chunk.subarray(0, n));
    done += n;
  }
}

/** Adjacent ranges of one file as one (fewer, larger reads). */
export function coalesce(ranges: Iterable<FileRange | Buffer>): Array<FileRange | Buffer> {
  const out: Array<FileRange | Buffer> = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (!Buffer.isBuffer(r) && last && !Buffer.isBuffer(last) && last.fd === r.fd && last.position + last.length === r.position) {
      out[out.length - 1] = { fd: r.fd, position: last.position, length: last.length + r.length };
    } else out.push(r);
  }
  return out;
}

/** A piece not yet read from its file: stream it rather than read it. */
export function unread(p: Piece): p is FilePiece {
  return p instanceof FilePiece && !p.read;
}

export function pieceLength(p: Piece): number {
  return p instanceof FilePiece ? p.length : p.bytes.length;
}

export function isPiece(x: unknown): x is Piece {
  return typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && (x instanceof FilePiece || Buffer.isBuffer((x as Piece).bytes));
}

const BASE = 65521;
// The largest n such that 255 n (n + 1) / 2 + (n + 1) (BASE - 1) fits in 32 bits (zlib's NMAX).
const NMAX = 5552;

export function adler32(buf: Uint8Array, adler = 1): number {
  let a = adler & 0xffff;
  let b = adler >>> 16;
  let i = 0;
  const len = buf.length;
  while (i < len) {
    const end = Math.min(len, i + NMAX);
    for (; i < end; i++) {
      a += buf[i];
      b += a;
    }
    a %= BASE;
    b %= BASE;
  }
  return ((b << 16) | a) >>> 0;
}

/** The Adler-32 of A followed by B, from theirs and B's length (zlib's adler32_combine). */
export function adler32Combine(adlerA: number, adlerB: number, lengthB: number): number {
  const rem = lengthB % BASE;
  let sum1 = adlerA & 0xffff;
  let sum2 = (rem * sum1) % BASE;
  sum1 += (adlerB & 0xffff) + BASE - 1;
  sum2 += (adlerA >>> 16) + (adlerB >>> 16) + BASE - rem;
  if (sum1 >= BASE) sum1 -= BASE;
  if (sum1 >= BASE) sum1 -= BASE;
  if (sum2 >= BASE << 1) sum2 -= BASE << 1;
  if (sum2 >= BASE) sum2 -= BASE;
  return ((sum2 << 16) | sum1) >>> 0;
}

// Level 1 is git's own default for loose objects (core.looseCompression): the fastest that compresses.
const DEFLATE = { level: 1, finishFlush: 2 /* Z_SYNC_FLUSH */ };

// Below this size a piece is stored, not compressed: setting up zlib costs more than it saves.
const STORE_BELOW = 1024;

/** Stored (uncompressed, non-final) deflate blocks: a block header, the length and its complement, the bytes. */
function stored(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + bytes.length);
  out[0] = 0;
  out.writeUInt16LE(bytes.length, 1);
  out.writeUInt16LE(~bytes.length & 0xffff, 3);
  bytes.copy(out, 5);
  return out;
}

// Above this size zlib computes a piece's Adler-32 (in a stored stream, whose trailer is the sum): a
// one-shot process runs adler32 above in the interpreter, where 100 KB take milliseconds.
const NATIVE_ADLER_FROM = 4096;

function adlerOf(bytes: Buffer): number {
  if (bytes.length < NATIVE_ADLER_FROM) return adler32(bytes);
  const z = zlib().deflateSync(bytes, { level: 0 });
  return z.readUInt32BE(z.length - 4);
}

export function deflatePiece(p: Piece): Piece {
  p.deflated ??= p.bytes.length < STORE_BELOW ? stored(p.bytes) : zlib().deflateRawSync(p.bytes, DEFLATE);
  p.adler ??= adlerOf(p.bytes);
  return p;
}

// zlib header for deflate with a 32K window and the fastest level; then an empty final block (fixed Huffman).
const ZLIB_HEADER = Buffer.from([0x78, 0x01]);
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/**
 * The zlib stream of the pieces' bytes, as buffers to write one after
 * another. Pieces are compressed one by one and keep their compressed stream
 * for the next version of the blob; a blob of a single piece of some size is
 * compressed in one call (zlib computes its Adler-32 natively).
 */
export function zlibStream(pieces: Piece[]): Array<Buffer | FileRange> {
  if (pieces.length === 1 && !(pieces[0] instanceof FilePiece) && !pieces[0].deflated && pieces[0].bytes.length >= STORE_BELOW) return [zlib().deflateSync(pieces[0].bytes, { level: 1 })];
  const out: Array<Buffer | FileRange> = [ZLIB_HEADER];
  let adler = 1;
  for (const p of pieces) {
    // A piece still in its file is copied from there (its stream and Adler-32 are known).
    if (unread(p)) out.push(p.deflatedRange);
    else out.push(p instanceof FilePiece ? p.deflated : deflatePiece(p).deflated!);
    adler = adler32Combine(adler, p.adler!, pieceLength(p));
  }
  const trailer = Buffer.allocUnsafe(4);
  trailer.writeUInt32BE(adler, 0);
  out.push(FINAL_BLOCK, trailer);
  return coalesce(out);
}

/**
 * Groups raw parts (text and bytes) into pieces, keeping given pieces as they
 * are: runs of raw parts become one piece each, compressed with the write.
 */
export function toPieces(parts: Array<Uint8Array | string | Piece>): Piece[] {
  const out: Piece[] = [];
  let run: Buffer[] = [];
  const flush = () => {
    if (run.length) out.push({ bytes: run.length === 1 ? run[0] : Buffer.concat(run) });
    run = [];
  };
  for (const p of parts) {
    if (typeof p === 'string') run.push(Buffer.from(p));
    else if (p instanceof Uint8Array) run.push(Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    else {
      flush();
      out.push(p);
    }
  }
  flush();
  return out;
}
