/**
 * The state cache: the newest state.json of a large board kept beside the
 * repository's objects (`<git dir>/orchestrator/state-cache/<blob id>`) as
 * its text and its runs of tasks with their compressed streams. Every CLI
 * call is a new process; with the cache it reads a large board without
 * inflating it, and writes a change by recompressing only the runs it
 * touched (see state-text.ts), where it would otherwise serialize and
 * compress megabytes. Only boards of LARGE_BOARD_TASKS tasks or more.
 *
 * A file is named by the blob id of the text it holds and written whole or
 * not at all (temporary file, rename), after the blob itself; a missing,
 * partial or unreadable file only means the slow way. The newest few are
 * kept. A process writes the cache of the last state it wrote when it
 * exits, and at most once a second while it keeps writing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { atomicWriteFileSync } from './fs-client.js';
import type { Piece } from './pieces.js';
import { isRunPiece, type RunPiece } from './state-text.js';

const VERSION = 2;
const KEEP = 3;
// A process that keeps writing updates the cache at most once a second.
const PAUSE_MS = 1000;

export interface CachedState {
  /** The blob's content. */
  text: Buffer;
  /** Its runs of tasks, in order over its task lists. */
  runs: RunPiece[];
  /** The content in order: the text around the task lists, and the runs. */
  parts: Array<Buffer | RunPiece>;
}

function dirOf(commondir: string): string {
  return path.join(commondir, 'orchestrator', 'state-cache');
}

/** The cached state.json with blob id `oid`, or null. */
export function readStateCache(commondir: string, oid: string): CachedState | null {
  let file: Buffer;
  try {
    file = fs.readFileSync(path.join(dirOf(commondir), oid));
  } catch {
    return null;
  }
  try {
    const nl = file.indexOf(10);
    const header = JSON.parse(file.toString('utf8', 0, nl)) as { v: number; oid: string; size: number; parts: Array<[string, number, number, number, number, number, string]> };
    if (header.v !== VERSION || header.oid !== oid) return null;
    let at = nl + 1;
    const text = file.subarray(at, at + header.size);
    at += header.size;
    const runs: RunPiece[] = [];
    const parts: Array<Buffer | RunPiece> = [];
    let offset = 0;
    for (const [kind, length, count, first, deflatedLength, adler, ids] of header.parts) {
      const bytes = text.subarray(offset, offset + length);
      offset += length;
      if (kind !== 'r') {
        parts.push(bytes);
        continue;
      }
      const run: { bytes: Buffer; count: number; first: boolean; ids: string[]; deflated?: Buffer; adler?: number } = { bytes, count, first: first === 1, ids: ids.split(' ') };
      if (run.ids.length !== count) return null;
      if (deflatedLength > 0) {
        run.deflated = file.subarray(at, at + deflatedLength);
        run.adler = adler;
        at += deflatedLength;
      }
      runs.push(run);
      parts.push(run);
    }
    if (offset !== header.size || text.length !== header.size || at !== file.length) return null;
    return { text, runs, parts };
  } catch {
    return null;
  }
}

function writeStateCache(commondir: string, oid: string, parts: Array<string | Piece>): void {
  const raw: Buffer[] = [];
  const deflated: Buffer[] = [];
  const entries: Array<[string, number, number, number, number, number, string]> = [];
  let size = 0;
  for (const p of parts) {
    const bytes = typeof p === 'string' ? Buffer.from(p) : p.bytes;
    raw.push(bytes);
    size += bytes.length;
    if (isRunPiece(p)) {
      const d = p.deflated && p.adler !== undefined ? p.deflated : null;
      if (d) deflated.push(d);
      // Task ids never contain spaces (see the rules).
      entries.push(['r', bytes.length, p.count, p.first ? 1 : 0, d ? d.length : 0, d ? p.adler! : 0, p.ids.join(' ')]);
    } else entries.push(['s', bytes.length, 0, 0, 0, 0, '']);
  }
  const dir = dirOf(commondir);
  const header = Buffer.from(JSON.stringify({ v: VERSION, oid, size, parts: entries }) + '\n');
  try {
    fs.mkdirSync(dir, { recursive: true });
    atomicWriteFileSync(path.join(dir, oid), [header, ...raw, ...deflated], 0o644);
    // The newest few stay (other processes may be about to read them).
    const files = fs
      .readdirSync(dir)
      .filter((f) => /^[0-9a-f]{40}$/.test(f))
      .map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const { f } of files.slice(KEEP)) fs.rmSync(path.join(dir, f), { force: true });
  } catch {
    /* a cache: without it the next command takes the slow way */
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
