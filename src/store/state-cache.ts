/**
 * The state cache: the newest state.json of a large board kept beside the
 * repository's objects (`<git dir>/orchestrator/state-cache/`), as its runs
 * of tasks with their compressed streams. Every CLI call is a new process;
 * with the cache it reads a large board without inflating it, and writes a
 * change by compressing only the runs it touched (see state-text.ts), where
 * it would otherwise serialize and compress megabytes. Only boards of
 * LARGE_BOARD_TASKS tasks or more.
 *
 * Two kinds of files:
 * - `runs-<random>`: the text of some runs, then their compressed streams.
 *   Written once, whole, never changed.
 * - `<blob id>`: an index: a line of JSON (the blob, the runs files it
 *   names, how many parts), then a table of numbers with one row per part
 *   of the text in order (a run by its file and place, or text between the
 *   task lists), then the ids of each run's tasks, then that text. The table
 *   is read in place and nothing in it is parsed: a board of 50,000 tasks
 *   has about 2,000 runs, and a command reads and writes their index once.
 *   A command that changed three runs writes a runs file of three runs and
 *   an index: a few hundred kilobytes where the board is megabytes. When an
 *   index would name too many runs files, or they hold mostly runs no longer
 *   used, all its runs are written into one new file.
 *
 * Files are written to a temporary name and renamed, runs before the index
 * that names them; a missing, partial or unreadable file only means the
 * slow way. The newest few indexes are kept, and the runs files they name
 * (or newer), pruned once a few more piled up.
 * A process writes the cache of the last state it wrote when it exits, and
 * at most once a second while it keeps writing.
 *
 * A one-shot command reads runs lazily: it opens the runs files, reads the
 * runs whose tasks it touches, and streams the rest from the files when it
 * hashes and writes the new blob (see FilePiece). A long-running process
 * reads every run at once and keeps no file open.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { atomicWriteFileSync } from './fs-client.js';
import { deflatePiece, FilePiece, pieceLength, readRange, type Piece } from './pieces.js';
import { isRunPiece, type RunPiece } from './state-text.js';

const VERSION = 4;
// The table's first word, as this machine writes it: a file from a machine of the other byte order is not read.
const MAGIC = 0x4f524353;
// Numbers per part: kind (0 text, 1 run), length, count, first, deflated length, Adler-32, file, position, deflated position.
const COLUMNS = 9;
const KEEP = 3;
// Indexes beyond KEEP left until the next pruning (see prune).
const SLACK = 3;
// A process that keeps writing updates the cache at most once a second.
const PAUSE_MS = 1000;
// An index names at most this many runs files; more, and its runs are written into one.
const MAX_FILES = 12;
const RUNS = /^runs-[0-9a-f]{16}$/;
const INDEX = /^[0-9a-f]{40}$/;

/** A run of tasks whose text and stream lie in a runs file. */
class FileRun extends FilePiece implements RunPiece {
  private split: readonly string[] | undefined;
  constructor(
    /** The cache directory and the runs file's name in it. */
    readonly dir: string,
    readonly file: string,
    fd: number,
    position: number,
    length: number,
    deflatedPosition: number,
    deflatedLength: number,
    adler: number,
    readonly count: number,
    readonly first: boolean,
    readonly idsText: string,
  ) {
    super(fd, position, length, deflatedPosition, deflatedLength, adler);
  }
  get ids(): readonly string[] {
    return (this.split ??= this.idsText.split(' '));
  }
}

export interface CachedState {
  /** Its runs of tasks, in order over its task lists. */
  runs: RunPiece[];
  /** The content in order: the text around the task lists, and the runs. */
  parts: Array<Buffer | RunPiece>;
  /** The whole content (reads every run). */
  text(): Buffer;
}

/** The first line of an index (short: pruning reads only this). */
interface Header {
  v: number;
  oid: string;
  size: number;
  files: string[];
  /** Rows of the table. */
  parts: number;
  /** Bytes of the runs' ids (each run's ids and a newline). */
  idsBytes: number;
}

/** Where the table starts: after the first line, at a multiple of 4. */
function tableStart(headerBytes: number): number {
  return (headerBytes + 3) & ~3;
}

function dirOf(commondir: string): string {
  return path.join(commondir, 'orchestrator', 'state-cache');
}

let lazy = false;
/** This process is one command: read runs as they are used, and keep the runs files open until it exits. */
export function readStateCacheLazily(): void {
  lazy = true;
}

/** Whether this process is one command (see above). */
export function readsLazily(): boolean {
  return lazy;
}

/** Whether this process has read or kept a large board's cache (its code paths differ: see the CLI's code cache). */
export const stateCacheUse = { used: false };

// Runs files a lazy process opened, by path: opened once, open until it exits.
const openFiles = new Map<string, number>();

function openRuns(file: string): number {
  let fd = openFiles.get(file);
  if (fd === undefined) {
    fd = fs.openSync(file, 'r');
    if (lazy) openFiles.set(file, fd);
  }
  return fd;
}

/** The cached state.json with blob id `oid`, or null. */
export function readStateCache(commondir: string, oid: string): CachedState | null {
  const dir = dirOf(commondir);
  let file: Buffer;
  try {
    file = fs.readFileSync(path.join(dir, oid));
  } catch {
    return null;
  }
  const fds: number[] = [];
  try {
    const nl = file.indexOf(10);
    const header = JSON.parse(file.toString('utf8', 0, nl)) as Header;
    if (header.v !== VERSION || header.oid !== oid || !header.files.every((f) => RUNS.test(f))) return null;
    const start = tableStart(nl + 1);
    const rows = header.parts;
    if (!Number.isInteger(rows) || rows < 0 || start + 4 * (1 + rows * COLUMNS) > file.length) return null;
    // Read in place when it lies at a multiple of 4 in memory, else from a copy.
    const bytes = (file.byteOffset + start) % 4 === 0 ? file : Buffer.from(file);
    const table = new Uint32Array(bytes.buffer, bytes.byteOffset + start, 1 + rows * COLUMNS);
    if (table[0] !== MAGIC) return null;
    const idsAt = start + table.byteLength;
    let at = idsAt + header.idsBytes;
    if (!Number.isInteger(header.idsBytes) || header.idsBytes < 0 || at > file.length) return null;
    const ids = file.toString('utf8', idsAt, at).split('\n');
    const sizes: number[] = [];
    for (const f of header.files) {
      const fd = openRuns(path.join(dir, f));
      fds.push(fd);
      sizes.push(fs.fstatSync(fd).size);
    }
    let size = 0;
    let run = 0;
    const runs: FileRun[] = [];
    const parts: Array<Buffer | RunPiece> = [];
    for (let row = 0, i = 1; row < rows; row++, i += COLUMNS) {
      const length = table[i + 1];
      size += length;
      if (table[i] === 0) {
        parts.push(file.subarray(at, at + length));
        at += length;
        continue;
      }
      const count = table[i + 2];
      const deflatedLength = table[i + 4];
      const f = table[i + 6];
      const position = table[i + 7];
      const deflatedPosition = table[i + 8];
      if (table[i] !== 1 || fds[f] === undefined || position + length > sizes[f] || deflatedPosition + deflatedLength > sizes[f] || count < 1 || run >= ids.length - 1) return null;
      const r = new FileRun(dir, header.files[f], fds[f], position, length, deflatedPosition, deflatedLength, table[i + 5], count, table[i + 3] === 1, ids[run++]);
      runs.push(r);
      parts.push(r);
    }
    if (run !== ids.length - 1) return null;
    if (size !== header.size || at !== file.length) return null;
    stateCacheUse.used = true;
    // A long-running process reads everything now and keeps no file open.
    if (!lazy) loadAll(runs);
    return { runs, parts, text: () => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : p.bytes))) };
  } catch {
    return null;
  } finally {
    if (!lazy) for (const fd of fds) fs.closeSync(fd);
  }
}

/** Reads every run's text and stream, one read per file. */
function loadAll(runs: FileRun[]): void {
  const byFd = new Map<number, Buffer>();
  for (const r of runs) {
    let all = byFd.get(r.fd);
    if (!all) byFd.set(r.fd, (all = readRange({ fd: r.fd, position: 0, length: fs.fstatSync(r.fd).size })));
    r.adopt(all.subarray(r.position, r.position + r.length), all.subarray(r.deflatedPosition, r.deflatedPosition + r.deflatedLength));
  }
}

function randomName(): string {
  return 'runs-' + Array.from({ length: 16 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
}

function writeStateCache(commondir: string, oid: string, given: Array<string | Piece>): void {
  const dir = dirOf(commondir);
  try {
    fs.mkdirSync(dir, { recursive: true });
    const parts = given.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));
    // Runs that already lie in a runs file of this cache are named, not written again
    // (a run of another repository's cache, in a process that has two, is written again).
    const kept = new Map<string, number>();
    const live = new Map<string, number>();
    for (const p of parts) {
      if (!(p instanceof FileRun) || p.dir !== dir) continue;
      if (!kept.has(p.file)) {
        let size = -1;
        try {
          size = fs.statSync(path.join(dir, p.file)).size;
        } catch {
          /* removed since: its runs are written again */
        }
        kept.set(p.file, size);
      }
      live.set(p.file, (live.get(p.file) ?? 0) + p.length + p.deflatedLength);
    }
    for (const [f, size] of kept) if (size < 0) kept.delete(f);
    // Too many files, or files of mostly dead runs: every run into one new file.
    let liveBytes = 0;
    let fileBytes = 0;
    for (const [f, size] of kept) {
      liveBytes += live.get(f) ?? 0;
      fileBytes += size;
    }
    if (kept.size >= MAX_FILES || liveBytes * 2 < fileBytes) kept.clear();
    const named = (p: Piece | Buffer): p is FileRun => p instanceof FileRun && p.dir === dir && kept.has(p.file);
    const files = [...kept.keys()];
    const fileIndex = new Map(files.map((f, i) => [f, i]));
    const fresh = parts.filter((p): p is RunPiece => isRunPiece(p) && !named(p));
    const name = randomName();
    if (fresh.length) {
      // A run's stream is known once its blob was written (one is computed here otherwise).
      for (const r of fresh) if (!(r instanceof FilePiece)) deflatePiece(r);
      atomicWriteFileSync(path.join(dir, name), [...fresh.map((r) => r.bytes), ...fresh.map((r) => r.deflated!)], 0o644);
      files.push(name);
    }
    const table = new Uint32Array(1 + parts.length * COLUMNS);
    table[0] = MAGIC;
    const ids: string[] = [];
    const inline: Buffer[] = [];
    let size = 0;
    let position = 0;
    let deflatedPosition = fresh.reduce((n, r) => n + pieceLength(r), 0);
    for (let row = 0, i = 1; row < parts.length; row++, i += COLUMNS) {
      const p = parts[row];
      const length = Buffer.isBuffer(p) ? p.length : pieceLength(p);
      size += length;
      table[i + 1] = length;
      if (!isRunPiece(p)) {
        // Text around the task lists (a piece that is not a run is read whole: it is small).
        inline.push(Buffer.isBuffer(p) ? p : p.bytes);
        continue;
      }
      table[i] = 1;
      table[i + 2] = p.count;
      table[i + 3] = p.first ? 1 : 0;
      ids.push(p.idsText);
      if (named(p)) {
        table[i + 4] = p.deflatedLength;
        table[i + 5] = p.adler;
        table[i + 6] = fileIndex.get(p.file)!;
        table[i + 7] = p.position;
        table[i + 8] = p.deflatedPosition;
      } else {
        const stream = p.deflated!;
        table[i + 4] = stream.length;
        table[i + 5] = p.adler!;
        table[i + 6] = files.length - 1;
        table[i + 7] = position;
        table[i + 8] = deflatedPosition;
        position += length;
        deflatedPosition += stream.length;
      }
    }
    const idsText = Buffer.from(ids.length ? ids.join('\n') + '\n' : '');
    const line = Buffer.from(JSON.stringify({ v: VERSION, oid, size, files, parts: parts.length, idsBytes: idsText.length } satisfies Header) + '\n');
    const pad = Buffer.alloc(tableStart(line.length) - line.length);
    atomicWriteFileSync(path.join(dir, oid), [line, pad, Buffer.from(table.buffer, table.byteOffset, table.byteLength), idsText, ...inline], 0o644);
    prune(dir);
  } catch {
    /* a cache: without it the next command takes the slow way */
  }
}

/** Keeps the newest few indexes and the runs files they name (and any runs file too new to be named yet). */
function prune(dir: string): void {
  const names = fs.readdirSync(dir);
  // Pruning stats every file and reads the kept indexes' headers: done once a few indexes piled up.
  if (names.filter((f) => INDEX.test(f)).length <= KEEP + SLACK) return;
  const entries = names.map((f) => {
    try {
      return { f, t: fs.statSync(path.join(dir, f)).mtimeMs };
    } catch {
      return { f, t: 0 };
    }
  });
  const indexes = entries.filter((e) => INDEX.test(e.f)).sort((a, b) => b.t - a.t);
  const named = new Set<string>();
  for (const { f } of indexes.slice(0, KEEP)) {
    try {
      const fd = fs.openSync(path.join(dir, f), 'r');
      const head = Buffer.alloc(4096);
      const n = fs.readSync(fd, head, 0, head.length, 0);
      fs.closeSync(fd);
      const header = JSON.parse(head.toString('utf8', 0, head.subarray(0, n).indexOf(10))) as Header;
      for (const r of header.files ?? []) named.add(r);
    } catch {
      /* a damaged index names nothing */
    }
  }
  for (const { f } of indexes.slice(KEEP)) fs.rmSync(path.join(dir, f), { force: true });
  // A file older than the oldest index kept and named by none is left over (a runs file written just
  // now, whose index is being written, is newer); so are temporary files of a writer that died.
  if (indexes.length < KEEP) return;
  const oldest = indexes[KEEP - 1].t;
  for (const { f, t } of entries) {
    if (!INDEX.test(f) && !named.has(f) && t < oldest) fs.rmSync(path.join(dir, f), { force: true });
  }
}

const pending = new Map<string, { oid: string; parts: Array<string | Piece> }>();
let timer: NodeJS.Timeout | null = null;
let hooked = false;

function flush(): void {
  if (timer) clearTimeout(timer);
  timer = null;
  for (const [commondir, { oid, parts }] of pending) writeStateCache(commondir, oid, parts);
  pending.clear();
}

/** Keeps `parts` (the text of blob `oid`) as the repository's newest cached state, written on exit or within a second. */
export function rememberState(commondir: string, oid: string, parts: Array<string | Piece>): void {
  stateCacheUse.used = true;
  pending.set(commondir, { oid, parts });
  if (!hooked) {
    hooked = true;
    process.on('exit', flush);
  }
  if (!timer) {
    timer = setTimeout(flush, PAUSE_MS);
    timer.unref();
  }
}
