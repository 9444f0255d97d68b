/**
 * The snapshot cache: the objects of the board's newest commit kept whole,
 * uncompressed, in one file per commit (`<git dir>/orchestrator/snapshot-cache/<commit id>`).
 *
 * Every CLI call is a new process, and reading a commit the usual way means
 * inflating its commit, trees, state.json and live event segment, and
 * loading zlib (with Node's stream modules) to do it. A read-only command
 * that finds its commit here reads one file and inflates nothing.
 * Measured together with writing output straight to its descriptor (see
 * cli/fd-output.ts, which keeps the stream modules unloaded too): `status`
 * on a board of 1,000 tasks took 12-17 ms less, out of about 30 ms beyond
 * Node's own start-up.
 *
 * One file: a line of JSON naming the objects (id, type, length) in order,
 * then their contents. Written by a one-shot process when its store
 * closes (or when it exits, if that comes first), for the last commit it
 * read or wrote, with the objects of that commit it has in memory (an
 * object larger than MAX_OBJECT is left out: a larger board's
 * state.json has the state cache); a later command that needed more of the
 * commit's objects writes the file again with them. Written to a temporary
 * name and renamed; a missing or damaged file only means the usual way. The
 * newest KEEP files are kept.
 *
 * Objects are immutable, so a file can never be stale: it holds what its
 * commit holds, or it is not used.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { atomicWriteFileSync } from './fs-client.js';

export type CachedObjectType = 'blob' | 'tree' | 'commit';

export interface CachedObject {
  type: CachedObjectType;
  content: Buffer;
}

const VERSION = 1;
const KEEP = 4;
/** Larger objects are not kept (1 MiB: a state.json of about 2,300 tasks; larger boards have the state cache). */
export const MAX_OBJECT = 1 << 20;
/** A process keeps at most this much for the cache (a command reading many commits keeps the first). */
export const MAX_KEPT = 32 << 20;
const NAME = /^[0-9a-f]{40}$/;
const TYPES: ReadonlySet<string> = new Set(['blob', 'tree', 'commit']);

let enabled = false;
/** This process is one command: read and write the snapshot cache. */
export function useSnapshotCache(): void {
  enabled = true;
}

export function snapshotCacheEnabled(): boolean {
  return enabled;
}

// What to write when the process exits, for stores not closed before it.
const atExit = new Set<() => void>();
let hooked = false;

/** Runs `write` when the process exits, unless `cancelAtExit(write)` came first. */
export function writeAtExit(write: () => void): void {
  atExit.add(write);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const w of atExit) w();
      atExit.clear();
    });
  }
}

export function cancelAtExit(write: () => void): void {
  atExit.delete(write);
}

function dirOf(commondir: string): string {
  return path.join(commondir, 'orchestrator', 'snapshot-cache');
}

/** The kept objects of commit `commit`, or null. */
export function readSnapshotCache(commondir: string, commit: string): Map<string, CachedObject> | null {
  if (!enabled || !NAME.test(commit)) return null;
  let file: Buffer;
  try {
    file = fs.readFileSync(path.join(dirOf(commondir), commit));
  } catch {
    return null;
  }
  try {
    const nl = file.indexOf(10);
    if (nl < 0) return null;
    const header = JSON.parse(file.toString('latin1', 0, nl)) as { v?: unknown; commit?: unknown; objects?: unknown };
    if (header.v !== VERSION || header.commit !== commit || !Array.isArray(header.objects)) return null;
    const out = new Map<string, CachedObject>();
    let at = nl + 1;
    for (const o of header.objects as unknown[]) {
      if (!Array.isArray(o) || o.length !== 3) return null;
      const [oid, type, length] = o as [unknown, unknown, unknown];
      if (typeof oid !== 'string' || !NAME.test(oid) || typeof type !== 'string' || !TYPES.has(type)) return null;
      if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || at + length > file.length) return null;
      out.set(oid, { type: type as CachedObjectType, content: file.subarray(at, at + length) });
      at += length;
    }
    return at === file.length && out.has(commit) ? out : null;
  } catch {
    return null;
  }
}

/** Writes the file of `commit` with `objects` (the commit's own first), then keeps the newest KEEP. */
export function writeSnapshotCache(commondir: string, commit: string, objects: Array<{ oid: string } & CachedObject>): void {
  const dir = dirOf(commondir);
  try {
    fs.mkdirSync(dir, { recursive: true });
    const header = JSON.stringify({ v: VERSION, commit, objects: objects.map((o) => [o.oid, o.type, o.content.length]) }) + '\n';
    atomicWriteFileSync(path.join(dir, commit), [Buffer.from(header, 'latin1'), ...objects.map((o) => o.content)], 0o644);
    prune(dir);
  } catch {
    /* a cache: without it the next command reads the objects */
  }
}

function prune(dir: string): void {
  const names = fs.readdirSync(dir);
  if (names.length <= KEEP) return;
  const files = names.map((f) => {
    try {
      return { f, t: fs.statSync(path.join(dir, f)).mtimeMs };
    } catch {
      return { f, t: 0 };
    }
  });
  // Temporary files of a writer that died sort with the oldest, by their time.
  files.sort((a, b) => b.t - a.t);
  const now = Date.now();
  for (const { f, t } of files.slice(KEEP)) if (NAME.test(f) || now - t > 60_000) fs.rmSync(path.join(dir, f), { force: true });
}
