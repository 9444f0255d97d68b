/**
 * Git objects: loose ones read and written in process (hashed and
 * compressed with Node's crypto and zlib), trees and commits encoded here.
 *
 * Packed objects (by `git gc` or our maintenance): a CLI command reads
 * them in process from the pack's index and the pack itself, a few small
 * reads each (pack.ts: the fan-out table and one bucket of ids, never the
 * whole index, which in a large code repository is megabytes;
 * `readPacks('direct')`); the server and the MCP server read them with
 * isomorphic-git, whose pack cache they keep for their life
 * (`readPacks('cached')`). A library process, and whatever neither reads
 * (alternates, a push quarantine's own pack, an index of another version),
 * goes through one long-lived `git cat-file --batch`, whose delta base
 * cache serves a process that reads the same objects again and again.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zlib } from './zlib.js';
import { OrchestratorError } from '../errors.js';
import { atomicWriteFileSync } from './fs-client.js';
import { gitEnv } from './git-env.js';
import { Packs } from './pack.js';
import { coalesce, isPiece, pieceLength, streamRange, toPieces, unread, zlibStream, type Piece } from './pieces.js';
import { readStateCache, rememberState, type CachedState } from './state-cache.js';
import { cancelAtExit, MAX_KEPT, MAX_OBJECT, readSnapshotCache, snapshotCacheEnabled, writeAtExit, writeSnapshotCache, type CachedObject, type CachedObjectType } from './snapshot-cache.js';
import type { RepoPaths } from './repo.js';

export type ObjectType = 'blob' | 'tree' | 'commit' | 'tag';

export interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

export interface Person {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /** Minutes east of UTC. */
  tzOffset: number;
}

export interface CommitInfo {
  oid: string;
  tree: string;
  parents: string[];
  author: Person;
  committer: Person;
  message: string;
}

export const TREE_MODE = '40000';
export const BLOB_MODE = '100644';

// node:crypto and node:child_process cost ~5 ms each to load; a read-only
// command needs neither, so they are required where first used.
let crypto: typeof import('node:crypto') | null = null;

export function hashObject(type: ObjectType, content: Uint8Array): string {
  crypto ??= require('node:crypto') as typeof import('node:crypto');
  return crypto.createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

/** Git's tree order: byte order of names, with trees compared as if they ended in "/". */
function treeSortKey(e: TreeEntry): string {
  return e.mode === TREE_MODE ? e.name + '/' : e.name;
}

export function encodeTree(entries: TreeEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => {
    const ka = Buffer.from(treeSortKey(a));
    const kb = Buffer.from(treeSortKey(b));
    return Buffer.compare(ka, kb);
  });
  const parts: Buffer[] = [];
  for (const e of sorted) {
    if (!e.name || e.name.includes('/') || e.name.includes('\0') || e.name === '.' || e.name === '..') {
      throw new OrchestratorError('INTERNAL', `refusing to write tree entry ${JSON.stringify(e.name)}`);
    }
    parts.push(Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, 'hex'));
  }
  return Buffer.concat(parts);
}

export function decodeTree(buf: Buffer): TreeEntry[] {
  const out: TreeEntry[] = [];
  let i = 0;
  while (i < buf.length) {
    const sp = buf.indexOf(0x20, i);
    const nul = buf.indexOf(0, sp);
    if (sp < 0 || nul < 0 || nul + 21 > buf.length) throw new OrchestratorError('CORRUPT', 'malformed tree object');
    out.push({ mode: buf.toString('utf8', i, sp), name: buf.toString('utf8', sp + 1, nul), oid: buf.toString('hex', nul + 1, nul + 21) });
    i = nul + 21;
  }
  return out;
}

function formatPerson(p: Person): string {
  const sign = p.tzOffset < 0 ? '-' : '+';
  const abs = Math.abs(p.tzOffset);
  const tz = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  // Names and emails must not contain the characters that delimit them.
  const clean = (s: string) => s.replace(/[<>\n\r\0]/g, '');
  return `${clean(p.name)} <${clean(p.email)}> ${p.timestamp} ${tz}`;
}

function parsePerson(s: string): Person {
  const m = /^(.*) <(.*)> (\d+) ([+-])(\d\d)(\d\d)$/.exec(s);
  if (!m) return { name: s, email: '', timestamp: 0, tzOffset: 0 };
  const off = (Number(m[5]) * 60 + Number(m[6])) * (m[4] === '-' ? -1 : 1);
  return { name: m[1], email: m[2], timestamp: Number(m[3]), tzOffset: off };
}

export function encodeCommit(c: Omit<CommitInfo, 'oid'>): Buffer {
  let head = `tree ${c.tree}\n`;
  for (const p of c.parents) head += `parent ${p}\n`;
  head += `author ${formatPerson(c.author)}\ncommitter ${formatPerson(c.committer)}\n\n`;
  return Buffer.from(head + c.message);
}

export function decodeCommit(oid: string, buf: Buffer): CommitInfo {
  const text = buf.toString('utf8');
  const split = text.indexOf('\n\n');
  const headers = split < 0 ? text : text.slice(0, split);
  const message = split < 0 ? '' : text.slice(split + 2);
  let tree = '';
  const parents: string[] = [];
  let author: Person | null = null;
  let committer: Person | null = null;
  for (const line of headers.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
    else if (line.startsWith('author ')) author = parsePerson(line.slice(7));
    else if (line.startsWith('committer ')) committer = parsePerson(line.slice(10));
  }
  if (!tree || !author || !committer) throw new OrchestratorError('CORRUPT', `malformed commit ${oid}`);
  return { oid, tree, parents, author, committer, message };
}

/**
 * A blob's content: bytes, text, or parts of either and of pieces (see
 * pieces.ts), hashed and compressed part by part without joining them.
 */
export type BlobContent = Uint8Array | string | Array<Uint8Array | string | Piece>;

/**
 * The blob's id and its object as pieces to compress: given pieces stay
 * pieces (after a piece of their own with the `blob <size>\0` header);
 * plain text and bytes are laid out once, header first, in one buffer.
 */
export function blobPieces(content: BlobContent): { oid: string; size: number; pieces: Piece[]; content: () => Buffer } {
  const given = Array.isArray(content) ? content : [content];
  crypto ??= require('node:crypto') as typeof import('node:crypto');
  if (!given.some(isPiece)) {
    // Text is encoded straight into place (state.json is megabytes on a large board: no second copy).
    const parts = given as Array<string | Uint8Array>;
    let size = 0;
    for (const p of parts) size += typeof p === 'string' ? Buffer.byteLength(p) : p.byteLength;
    const header = `blob ${size}\0`;
    const wrapped = Buffer.allocUnsafe(header.length + size);
    let offset = wrapped.write(header, 0, 'latin1');
    for (const p of parts) {
      if (typeof p === 'string') offset += wrapped.write(p, offset, 'utf8');
      else {
        wrapped.set(p, offset);
        offset += p.byteLength;
      }
    }
    return { oid: crypto.createHash('sha1').update(wrapped).digest('hex'), size, pieces: [{ bytes: wrapped }], content: () => wrapped.subarray(header.length) };
  }
  const parts = toPieces(given);
  let size = 0;
  for (const p of parts) size += pieceLength(p);
  const header = Buffer.from(`blob ${size}\0`, 'latin1');
  const hash = crypto.createHash('sha1').update(header);
  // Pieces still in their file are hashed as they stream by (adjacent ones in one read).
  for (const r of coalesce(parts.map((p) => (unread(p) ? p.range : p.bytes)))) {
    if (Buffer.isBuffer(r)) hash.update(r);
    else streamRange(r, (bytes) => hash.update(bytes));
  }
  return { oid: hash.digest('hex'), size, pieces: [{ bytes: header }, ...parts], content: () => (parts.length === 1 ? parts[0].bytes : Buffer.concat(parts.map((p) => p.bytes))) };
}

function sha1(...data: Uint8Array[]): string {
  crypto ??= require('node:crypto') as typeof import('node:crypto');
  const hash = crypto.createHash('sha1');
  for (const d of data) hash.update(d);
  return hash.digest('hex');
}

/** What writing an effect needs from an object store (a real one, or one that only computes ids). */
export interface ObjectSink {
  readBlob(oid: string): Promise<Buffer>;
  /** Keeps the text of a large state.json for the next process (see state-cache.ts); stores that write nothing do nothing. */
  keepState?(oid: string, parts: Array<string | Piece>): void;
  writeBlob(content: BlobContent): Promise<string>;
  writeTree(entries: TreeEntry[]): Promise<string>;
  writeCommit(c: Omit<CommitInfo, 'oid'>): Promise<string>;
}

/**
 * Computes the ids of the objects an effect would write, without writing
 * them (replay verification). Reads fall through to the real store; what it
 * "wrote" recently stays readable from memory.
 */
export class DryRunObjects implements ObjectSink {
  private recent = new Lru<() => Buffer>(16);
  constructor(private readonly real: ObjectStore) {}
  async readBlob(oid: string): Promise<Buffer> {
    const content = this.recent.get(oid);
    return content ? content() : this.real.readBlob(oid);
  }
  async writeBlob(content: BlobContent): Promise<string> {
    const blob = blobPieces(content);
    this.recent.set(blob.oid, blob.content);
    return blob.oid;
  }
  async writeTree(entries: TreeEntry[]): Promise<string> {
    return hashObject('tree', encodeTree(entries));
  }
  async writeCommit(c: Omit<CommitInfo, 'oid'>): Promise<string> {
    return hashObject('commit', encodeCommit(c));
  }
}

/** Small bounded cache; immutable objects never need invalidation. */
class Lru<V> {
  private map = new Map<string, V>();
  constructor(private max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

/** A `git cat-file --batch` (or `--batch-check`) kept open for the life of the process. */
class CatFile {
  private proc: ChildProcessWithoutNullStreams | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private queue: Array<{ oid: string; resolve: (r: { type: ObjectType; content: Buffer } | null) => void; reject: (e: Error) => void }> = [];

  constructor(
    private gitdir: string,
    private mode: 'batch' | 'batch-check' = 'batch',
  ) {}

  read(oid: string): Promise<{ type: ObjectType; content: Buffer } | null> {
    const proc = this.start();
    // Keep the process alive while an answer is pending, and only then.
    if (this.queue.length === 0) this.setRef(proc, true);
    return new Promise((resolve, reject) => {
      this.queue.push({ oid, resolve, reject });
      proc.stdin.write(oid + '\n');
    });
  }

  private setRef(proc: ChildProcessWithoutNullStreams, on: boolean): void {
    for (const h of [proc, proc.stdout, proc.stderr, proc.stdin] as unknown as Array<{ ref?: () => void; unref?: () => void }>) {
      if (on) h.ref?.();
      else h.unref?.();
    }
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const proc = spawn('git', ['--git-dir', this.gitdir, 'cat-file', `--${this.mode}`], { env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stdout.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      this.drain();
    });
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const fail = (err: Error) => {
      this.proc = null;
      for (const q of this.queue.splice(0)) q.reject(err);
    };
    proc.on('error', (err) => fail(new OrchestratorError('INTERNAL', `cannot run git cat-file: ${err.message}`)));
    proc.on('exit', (code) => {
      if (this.queue.length) fail(new OrchestratorError('INTERNAL', `git cat-file exited with ${code}: ${stderr.trim()}`));
      this.proc = null;
    });
    // Never keep the process alive just for this helper when idle.
    this.setRef(proc, false);
    this.proc = proc;
    return proc;
  }

  private drain(): void {
    for (;;) {
      const q = this.queue[0];
      if (!q) {
        if (this.proc) this.setRef(this.proc, false);
        return;
      }
      const nl = this.buf.indexOf(0x0a);
      if (nl < 0) return;
      const header = this.buf.toString('utf8', 0, nl);
      if (header.endsWith(' missing')) {
        this.buf = this.buf.subarray(nl + 1);
        this.queue.shift();
        q.resolve(null);
        continue;
      }
      const [, type, sizeText] = header.split(' ');
      if (this.mode === 'batch-check') {
        this.buf = this.buf.subarray(nl + 1);
        this.queue.shift();
        q.resolve({ type: type as ObjectType, content: Buffer.alloc(0) });
        continue;
      }
      const size = Number(sizeText);
      if (this.buf.length < nl + 1 + size + 1) return;
      const content = Buffer.from(this.buf.subarray(nl + 1, nl + 1 + size));
      this.buf = this.buf.subarray(nl + 1 + size + 1);
      this.queue.shift();
      q.resolve({ type: type as ObjectType, content });
    }
  }

  close(): void {
    this.proc?.kill();
    this.proc = null;
  }
}

/** A loose object's type and content from its inflated bytes (`<type> <size>\0<content>`). */
function unwrap(oid: string, wrapped: Buffer): { type: ObjectType; content: Buffer } {
  const sp = wrapped.indexOf(0x20);
  const nul = wrapped.indexOf(0, sp + 1);
  const size = Number(wrapped.toString('latin1', sp + 1, nul));
  if (sp < 0 || nul < 0 || size !== wrapped.length - nul - 1) throw new OrchestratorError('CORRUPT', `object ${oid} is malformed`, { oid });
  return { type: wrapped.toString('latin1', 0, sp) as ObjectType, content: wrapped.subarray(nul + 1) };
}

/**
 * How this process reads packed objects (see the module comment): through
 * git (a library process: git caches delta bases for repeated reads),
 * straight from the packs (one command, a few objects), or with
 * isomorphic-git's pack cache (the server and the MCP server).
 */
export type PackReading = 'git' | 'direct' | 'cached';
let packReading: PackReading = 'git';
export function readPacks(how: PackReading): void {
  packReading = how;
}

/** Packed objects read in process by isomorphic-git, its pack cache kept for the life of the store. */
class PackReader {
  private git: typeof import('isomorphic-git') | null | undefined;
  private readonly cache = {};
  constructor(private readonly gitdir: string) {}

  /** The object, null when no pack has it, undefined when isomorphic-git cannot be loaded here (a hook's copy). */
  async read(oid: string): Promise<{ type: ObjectType; content: Buffer } | null | undefined> {
    if (this.git === undefined) {
      try {
        // Not bundled: loaded from the package's dependencies by the processes that use it.
        this.git = require('isomorphic-git') as typeof import('isomorphic-git');
      } catch {
        this.git = null;
      }
    }
    if (!this.git) return undefined;
    try {
      const r = await this.git.readObject({ fs, gitdir: this.gitdir, oid, format: 'content', cache: this.cache });
      return { type: r.type as ObjectType, content: Buffer.from(r.object as Uint8Array) };
    } catch (err) {
      if ((err as { code?: string }).code === 'NotFoundError') return null;
      throw err;
    }
  }
}

export class ObjectStore implements ObjectSink {
  private readonly objectsDir: string;
  private catFile: CatFile;
  private checker: CatFile;
  private trees = new Lru<TreeEntry[]>(256);
  private commits = new Lru<CommitInfo>(512);
  private blobs = new Lru<Buffer>(64);
  /** Blobs this store wrote (their content joined when read back). */
  private written = new Lru<() => Buffer>(16);
  /**
   * For the snapshot cache (one-shot processes only): objects this process
   * read or wrote (small ones), objects read from the cache's files, and
   * the last commit it read as a snapshot or wrote.
   */
  private kept: Map<string, { type: CachedObjectType; content: () => Buffer }> | null = null;
  private fromCache = new Map<string, CachedObject>();
  private tip: { commit: string } | null = null;
  private keptBytes = 0;
  /** Writes the snapshot cache when the store closes, or when the process exits before. */
  private flushSnapshot: (() => void) | null = null;

  /**
   * Other directories with loose objects: inside a pre-receive hook the
   * pushed objects wait in a quarantine directory (GIT_OBJECT_DIRECTORY),
   * read here directly instead of through git.
   */
  private readonly extraDirs: string[];

  constructor(readonly repo: RepoPaths) {
    this.objectsDir = path.join(repo.commondir, 'objects');
    const env = process.env;
    this.extraDirs = [env.GIT_OBJECT_DIRECTORY, ...(env.GIT_ALTERNATE_OBJECT_DIRECTORIES ?? '').split(path.delimiter)]
      .filter((d): d is string => !!d)
      .map((d) => path.resolve(d))
      .filter((d) => d !== this.objectsDir && fs.existsSync(d));
    this.catFile = new CatFile(repo.commondir);
    this.checker = new CatFile(repo.commondir, 'batch-check');
    this.packs = new PackReader(repo.commondir);
    this.ownPacks = new Packs(this.objectsDir);
  }

  private readonly packs: PackReader;
  private readonly ownPacks: Packs;

  loosePath(oid: string): string {
    return path.join(this.objectsDir, oid.slice(0, 2), oid.slice(2));
  }

  /** Reads any object; NOT_FOUND when the repository does not have it. */
  async read(oid: string): Promise<{ type: ObjectType; content: Buffer }> {
    const cached = this.fromCache.get(oid);
    if (cached) return cached;
    const r = await this.readStored(oid);
    if (r.type !== 'tag') this.keep(oid, r.type, r.content.length, () => r.content);
    return r;
  }

  private async readStored(oid: string): Promise<{ type: ObjectType; content: Buffer }> {
    for (const dir of [this.objectsDir, ...this.extraDirs]) {
      let deflated: Buffer;
      try {
        deflated = fs.readFileSync(path.join(dir, oid.slice(0, 2), oid.slice(2)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      return unwrap(oid, zlib().inflateSync(deflated));
    }
    // A quarantine or alternates are git's to resolve.
    if (!this.extraDirs.length && packReading !== 'git') {
      // Not in a pack it can read (alternates, say): git's own reader decides.
      const packed = packReading === 'cached' ? await this.packs.read(oid) : await this.ownPacks.read(oid, (base) => this.read(base));
      if (packed) return packed;
    }
    const r = await this.catFile.read(oid);
    if (!r) throw new OrchestratorError('NOT_FOUND', `object ${oid} is missing from the repository`, { oid });
    return r;
  }

  async readTyped(oid: string, type: ObjectType): Promise<Buffer> {
    const r = await this.read(oid);
    if (r.type !== type) throw new OrchestratorError('CORRUPT', `object ${oid} is a ${r.type}, expected a ${type}`, { oid });
    return r.content;
  }

  async readTree(oid: string): Promise<TreeEntry[]> {
    let t = this.trees.get(oid);
    if (!t) {
      t = decodeTree(await this.readTyped(oid, 'tree'));
      this.trees.set(oid, t);
    }
    return t;
  }

  async readCommit(oid: string): Promise<CommitInfo> {
    let c = this.commits.get(oid);
    if (!c) {
      c = decodeCommit(oid, await this.readTyped(oid, 'commit'));
      this.commits.set(oid, c);
    }
    return c;
  }

  async readBlob(oid: string): Promise<Buffer> {
    let b = this.blobs.get(oid);
    if (!b) {
      const written = this.written.get(oid);
      b = written ? written() : await this.readTyped(oid, 'blob');
      this.blobs.set(oid, b);
    }
    return b;
  }

  /** The cached text and runs of state.json blob `oid`, when this repository keeps them (see state-cache.ts). */
  cachedState(oid: string): CachedState | null {
    return readStateCache(this.repo.commondir, oid);
  }

  keepState(oid: string, parts: Array<string | Piece>): void {
    rememberState(this.repo.commondir, oid, parts);
  }

  existsLoose(oid: string): boolean {
    return fs.existsSync(this.loosePath(oid));
  }

  async exists(oid: string): Promise<boolean> {
    if (fs.existsSync(this.loosePath(oid))) return true;
    if (this.extraDirs.some((d) => fs.existsSync(path.join(d, oid.slice(0, 2), oid.slice(2))))) return true;
    if (packReading === 'direct' && this.ownPacks.has(oid)) return true;
    return (await this.checker.read(oid)) !== null;
  }

  /** Copies one object from another repository: a hard link when both are loose on one disk, like git's local clone. */
  async copyFrom(from: ObjectStore, oid: string): Promise<void> {
    const dst = this.loosePath(oid);
    if (fs.existsSync(dst)) return;
    const src = from.loosePath(oid);
    if (fs.existsSync(src)) {
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      try {
        fs.linkSync(src, dst);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
      }
      atomicWriteFileSync(dst, fs.readFileSync(src));
      return;
    }
    const { type, content } = await from.read(oid);
    // What was read must be the object asked for (a damaged cache or object file is never passed on).
    const written = await this.write(type, content);
    if (written !== oid) throw new OrchestratorError('CORRUPT', `object ${oid} read back as ${written}`, { oid });
  }

  /** Writes an object (a no-op when it exists) and returns its id. */
  async write(type: ObjectType, content: Uint8Array): Promise<string> {
    const header = Buffer.from(`${type} ${content.length}\0`);
    const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const oid = sha1(header, bytes);
    this.writeLoose(oid, [{ bytes: header }, { bytes }]);
    if (type !== 'tag') this.keep(oid, type, bytes.length, () => bytes);
    return oid;
  }

  /**
   * Reads commit `commit` from the snapshot cache from now on, when it has
   * it, and names it the commit whose objects this process keeps there
   * when it exits (see snapshot-cache.ts). A no-op outside one-shot processes.
   */
  useSnapshot(commit: string): void {
    if (!snapshotCacheEnabled() || this.tip?.commit === commit) return;
    const found = readSnapshotCache(this.repo.commondir, commit);
    if (found) for (const [oid, o] of found) this.fromCache.set(oid, o);
    this.tip = { commit };
    this.keepOnExit();
  }

  private keep(oid: string, type: CachedObjectType, size: number, content: () => Buffer): void {
    // A command that reads much of the history (verify, log) keeps only its first objects.
    // Only once a snapshot was named (a store that never reads one, such as a remote's, keeps nothing), and each object once.
    if (!this.tip || size > MAX_OBJECT || this.keptBytes + size > MAX_KEPT || this.kept?.has(oid)) return;
    this.keptBytes += size;
    (this.kept ??= new Map()).set(oid, { type, content });
  }

  private keepOnExit(): void {
    if (this.flushSnapshot) return;
    this.flushSnapshot = () => this.writeSnapshot();
    writeAtExit(this.flushSnapshot);
  }

  /**
   * Writes the snapshot cache of the last commit named: the objects of that
   * commit this process has (its commit, root tree, the blobs and trees the
   * root names, and what those trees name), unless its file has them all,
   * or this process does not have its state.json.
   */
  private writeSnapshot(): void {
    const tip = this.tip?.commit;
    // Every object this process read came from the commit's file: it has them all.
    if (!tip || (!this.kept?.size && this.fromCache.has(tip))) return;
    const have = (oid: string): CachedObject | null => {
      const c = this.fromCache.get(oid);
      if (c) return c;
      const k = this.kept?.get(oid);
      return k ? { type: k.type, content: k.content() } : null;
    };
    try {
      const commit = have(tip);
      if (commit?.type !== 'commit') return;
      const out: Array<{ oid: string } & CachedObject> = [{ oid: tip, ...commit }];
      let fresh = !this.fromCache.has(tip);
      const add = (oid: string, depth: number): void => {
        const o = have(oid);
        if (!o) return;
        if (!this.fromCache.has(oid)) fresh = true;
        out.push({ oid, ...o });
        if (o.type === 'tree' && depth > 0) for (const e of decodeTree(o.content)) if (e.mode !== '160000') add(e.oid, depth - 1);
      };
      const root = decodeCommit(tip, commit.content).tree;
      // Without its state.json (a large board's, kept by the state cache instead) a file would save a command little.
      const rootTree = have(root);
      const state = rootTree?.type === 'tree' ? decodeTree(rootTree.content).find((e) => e.name === 'state.json') : undefined;
      if (!state || !have(state.oid)) return;
      add(root, 2);
      if (fresh) writeSnapshotCache(this.repo.commondir, tip, out);
    } catch {
      /* a cache: what could not be gathered is read the usual way */
    }
  }

  async writeBlob(content: BlobContent): Promise<string> {
    return (await this.writeBlobNew(content)).oid;
  }

  /** Writes a blob and says whether this call created its loose object (an importer removes what it created when it fails). */
  async writeBlobNew(content: BlobContent): Promise<{ oid: string; created: boolean }> {
    const { oid, size, pieces, content: joined } = blobPieces(content);
    const created = this.writeLoose(oid, pieces);
    this.written.set(oid, joined);
    this.keep(oid, 'blob', size, joined);
    return { oid, created };
  }

  /** A loose object, unless it exists: written to a temporary file and renamed into place. */
  private writeLoose(oid: string, pieces: Piece[]): boolean {
    const file = this.loosePath(oid);
    if (fs.existsSync(file)) return false;
    atomicWriteFileSync(file, zlibStream(pieces));
    return true;
  }

  async writeTree(entries: TreeEntry[]): Promise<string> {
    const oid = await this.write('tree', encodeTree(entries));
    this.trees.set(oid, entries);
    return oid;
  }

  async writeCommit(c: Omit<CommitInfo, 'oid'>): Promise<string> {
    const oid = await this.write('commit', encodeCommit(c));
    this.commits.set(oid, { ...c, oid });
    return oid;
  }

  close(): void {
    if (this.flushSnapshot) {
      cancelAtExit(this.flushSnapshot);
      this.flushSnapshot();
      this.flushSnapshot = null;
    }
    this.kept = null;
    this.keptBytes = 0;
    this.fromCache.clear();
    this.tip = null;
    this.catFile.close();
    this.checker.close();
  }
}
