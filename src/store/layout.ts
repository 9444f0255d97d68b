/**
 * The tree of the coordination branch:
 *
 *   state.json             workstreams, tasks, agents (the original's schema)
 *   events.jsonl           the live segment of the event log, one event a line
 *   events/000001.jsonl    sealed segments: full ones, never changed again
 *   knowledge/<topic>.md   exactly the content written
 *   locks/<resource>.json  one file per held lock
 *   archive/<YYYY-MM>.jsonl done tasks moved out of state.json, one a line
 *
 * and how a snapshot of it is read and an effect written as one commit. A
 * mutation rewrites state.json and the live segment only; the rest of the
 * tree is shared with the parent, so its cost does not grow with history.
 */
import { OrchestratorError } from '../errors.js';
import { fileToResource, resourceToFile } from '../domain/rules.js';
import { DEFAULT_EVENTS_PER_SEGMENT, emptyState, formatOf, FORMAT_VERSION, type Effect, type Lock, type Settings, type State, type World } from '../domain/types.js';
import type { OpBase } from '../domain/op.js';
import { newRecord } from '../domain/own.js';
import { BLOB_MODE, TREE_MODE, type ObjectSink, type ObjectStore, type TreeEntry } from './objects.js';
import { piece, type Piece } from './pieces.js';
import { adoptRuns, isRunPiece, LARGE_BOARD_TASKS, stateParts } from './state-text.js';
import { LAZY_BOARD_TASKS, lazyState } from './lazy-tasks.js';

export const STATE_FILE = 'state.json';
export const EVENTS_FILE = 'events.jsonl';
export const KNOWLEDGE_DIR = 'knowledge';
export const LOCKS_DIR = 'locks';
export const SEGMENTS_DIR = 'events';
export const ARCHIVE_DIR = 'archive';
export const TRAILER = 'Orchestrator-Op';

const EPOCH = '1970-01-01T00:00:00.000Z';

export interface Snapshot {
  /** Commit id, or null before the branch exists. */
  commit: string | null;
  root: TreeEntry[];
  world: World;
  knowledgeTree: TreeEntry[];
  locksTree: TreeEntry[];
  /** The live segment of the event log. */
  eventsOid: string | null;
  /** Sealed segments, oldest first. */
  segments: TreeEntry[];
  /** Archive files, oldest first. */
  archiveTree: TreeEntry[];
}

/**
 * Settings every new branch starts with, recorded in its state.json: the
 * live segment of the log is sealed at 128 KB as well as at its number of
 * events, so a mutation's cost stays flat over a segment's life. Branches
 * created before have no such setting and keep sealing by count alone
 * (their history must replay as it was written).
 */
export const NEW_BRANCH_SETTINGS: Settings = { segment_bytes: 128 * 1024 };

/** The state before the first commit; `settings` are the new branch's (none: as branches were first made). */
export function emptySnapshot(settings?: Settings, format = FORMAT_VERSION): Snapshot {
  const state = emptyState(EPOCH);
  state.format = format;
  if (settings) state.settings = { ...settings };
  return {
    commit: null,
    root: [],
    world: { state, locks: newRecord(), topics: [] },
    knowledgeTree: [],
    locksTree: [],
    eventsOid: null,
    segments: [],
    archiveTree: [],
  };
}

const byName = (a: TreeEntry, b: TreeEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function entry(entries: TreeEntry[], name: string): TreeEntry | undefined {
  return entries.find((e) => e.name === name);
}

/** Where a branch about to be created starts. */
export function newBranchSnapshot(): Snapshot {
  return emptySnapshot(NEW_BRANCH_SETTINGS);
}

/**
 * Where the history that starts with `root` started, for replaying it: a
 * root commit written with new-branch settings was built on them.
 */
export async function emptySnapshotFor(objects: ObjectStore, root: string): Promise<Snapshot> {
  try {
    const tree = await objects.readTree((await objects.readCommit(root)).tree);
    const stateEntry = entry(tree, STATE_FILE);
    const state = stateEntry ? (JSON.parse((await objects.readBlob(stateEntry.oid)).toString('utf8')) as Partial<State>) : null;
    const bytes = state?.settings?.segment_bytes;
    // And under the rules of the format it was written in.
    return emptySnapshot(typeof bytes === 'number' ? { segment_bytes: bytes } : undefined, state ? formatOf(state) : FORMAT_VERSION);
  } catch {
    // What is wrong with the root is for its replay to report.
    return emptySnapshot();
  }
}

export function parseState(text: string, where: string): State {
  let state: State;
  try {
    state = JSON.parse(text) as State;
  } catch (err) {
    throw new OrchestratorError('CORRUPT', `${where}: state.json is not valid JSON (${(err as Error).message})`);
  }
  if (!state || typeof state !== 'object' || typeof state.workstreams !== 'object' || typeof state.agents !== 'object' || !Number.isInteger(state.version)) {
    throw new OrchestratorError('CORRUPT', `${where}: state.json lacks version, workstreams or agents`);
  }
  for (const [name, ws] of Object.entries(state.workstreams)) {
    if (!ws || !Array.isArray(ws.tasks)) throw new OrchestratorError('CORRUPT', `${where}: state.json workstream "${name}" has no task list`);
  }
  return state;
}

export function serializeState(state: State): string {
  // Native JSON.stringify beats any cache of per-task texts (measured: joining
  // 1,000 cached strings alone costs as much as stringifying the state).
  return JSON.stringify(state, null, 2) + '\n';
}

export function serializeLock(lock: Lock): string {
  return JSON.stringify(lock, null, 2) + '\n';
}

export async function readSnapshot(objects: ObjectStore, commit: string): Promise<Snapshot> {
  objects.useSnapshot(commit);
  const info = await objects.readCommit(commit);
  const root = await objects.readTree(info.tree);
  const where = `commit ${commit.slice(0, 8)}`;
  const stateEntry = entry(root, STATE_FILE);
  if (!stateEntry) throw new OrchestratorError('CORRUPT', `${where} has no state.json`);
  // A large board comes from the state cache when it has it: no inflating, and its runs of tasks ready to
  // reuse; a very large one parses its tasks as they are used (stand-ins cost a warm process more later).
  const cached = objects.cachedState(stateEntry.oid);
  let state = cached && cached.runs.reduce((n, r) => n + r.count, 0) >= LAZY_BOARD_TASKS ? lazyState(cached.parts, (text) => parseState(text, where)) : null;
  if (!state) {
    state = parseState((cached ? cached.text() : await objects.readBlob(stateEntry.oid)).toString('utf8'), where);
    if (cached) adoptRuns(state, cached.runs);
  }
  const kEntry = entry(root, KNOWLEDGE_DIR);
  const knowledgeTree = kEntry ? await objects.readTree(kEntry.oid) : [];
  const lEntry = entry(root, LOCKS_DIR);
  const locksTree = lEntry ? await objects.readTree(lEntry.oid) : [];
  const locks = newRecord<Lock>();
  for (const e of locksTree) {
    let lock: Lock;
    try {
      lock = JSON.parse((await objects.readBlob(e.oid)).toString('utf8')) as Lock;
    } catch (err) {
      throw new OrchestratorError('CORRUPT', `${where}: locks/${e.name} is not valid JSON (${(err as Error).message})`);
    }
    locks[fileToResource(e.name)] = lock;
  }
  const topics = knowledgeTree.filter((e) => e.name.endsWith('.md')).map((e) => e.name.slice(0, -3)).sort();
  const sEntry = entry(root, SEGMENTS_DIR);
  const aEntry = entry(root, ARCHIVE_DIR);
  return {
    commit,
    root,
    world: { state, locks, topics },
    knowledgeTree,
    locksTree,
    eventsOid: entry(root, EVENTS_FILE)?.oid ?? null,
    segments: sEntry ? [...(await objects.readTree(sEntry.oid))].sort(byName) : [],
    archiveTree: aEntry ? [...(await objects.readTree(aEntry.oid))].sort(byName) : [],
  };
}

/** The event log's segments, newest first: the live one, then the sealed ones. */
export function eventSegments(snap: Snapshot): string[] {
  return [...(snap.eventsOid ? [snap.eventsOid] : []), ...snap.segments.map((e) => e.oid).reverse()];
}

function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** Splits event lines into full segments (by the limits) and what remains live. */
function splitSegments(text: Buffer, limits: { events: number; bytes: number }): { sealed: Buffer[]; live: Buffer } {
  const sealed: Buffer[] = [];
  let start = 0;
  let lines = 0;
  for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) {
    if (++lines >= limits.events || i + 1 - start >= limits.bytes) {
      sealed.push(text.subarray(start, i + 1));
      start = i + 1;
      lines = 0;
    }
  }
  return { sealed, live: text.subarray(start) };
}

/**
 * Cuts a log handed over line by line into sealed segments, written to the
 * store as they fill (by the same limits as splitSegments), and a live
 * remainder: an import of any size holds one segment in memory.
 */
export class LogCutter {
  private lines: string[] = [];
  private bytes = 0;
  readonly sealed: string[] = [];
  /** Loose objects this cutter created (to remove when the import fails). */
  readonly created: string[] = [];

  constructor(
    private readonly objects: ObjectStore,
    private readonly limits: { events: number; bytes: number },
  ) {}

  add(line: string): Promise<void> | void {
    this.lines.push(line);
    this.bytes += Buffer.byteLength(line) + 1;
    if (this.lines.length >= this.limits.events || this.bytes >= this.limits.bytes) return this.seal();
  }

  private async seal(): Promise<void> {
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    this.bytes = 0;
    const { oid, created } = await this.objects.writeBlobNew(text);
    if (created) this.created.push(oid);
    this.sealed.push(oid);
  }

  /** The sealed segments' ids and the live remainder. */
  finish(): { sealed: string[]; live: string } {
    return { sealed: this.sealed, live: this.lines.length ? this.lines.join('\n') + '\n' : '' };
  }
}

/** The live segment as pieces (compressed once each), with its size. */
interface Live {
  pieces: Piece[];
  lines: number;
  bytes: number;
}

// The live segments this process wrote or read last, by blob id (content-addressed: valid in any repository).
const lives = new Map<string, Live>();
// New lines join the last piece while it is small: a few large pieces, and little to recompress.
const LIVE_PIECE_BYTES = 8 * 1024;

async function readLive(objects: ObjectSink, oid: string | null): Promise<Live> {
  if (!oid) return { pieces: [], lines: 0, bytes: 0 };
  const known = lives.get(oid);
  if (known) return known;
  const text = await objects.readBlob(oid);
  return { pieces: text.length ? [piece(text)] : [], lines: countLines(text), bytes: text.length };
}

function appendLive(live: Live, lines: Buffer, count: number): Live {
  const pieces = live.pieces.slice();
  const last = pieces[pieces.length - 1];
  if (last && last.bytes.length + lines.length <= LIVE_PIECE_BYTES) pieces[pieces.length - 1] = piece(Buffer.concat([last.bytes, lines]));
  else if (lines.length) pieces.push(piece(lines));
  return { pieces, lines: live.lines + count, bytes: live.bytes + lines.length };
}

function rememberLive(oid: string, live: Live): void {
  lives.delete(oid);
  lives.set(oid, live);
  if (lives.size > 8) lives.delete(lives.keys().next().value as string);
}

/** When the live segment is sealed: at this many events, or bytes (on branches that bound them). */
export function segmentLimits(state: State): { events: number; bytes: number } {
  return { events: state.settings?.events_per_segment ?? DEFAULT_EVENTS_PER_SEGMENT, bytes: state.settings?.segment_bytes ?? Infinity };
}

const segmentName = (n: number) => `${String(n).padStart(6, '0')}.jsonl`;

export async function readKnowledgeText(objects: ObjectStore, snap: Snapshot, topic: string): Promise<string | null> {
  const e = entry(snap.knowledgeTree, topic + '.md');
  return e ? (await objects.readBlob(e.oid)).toString('utf8') : null;
}

function upsert(entries: TreeEntry[], name: string, value: TreeEntry | null): TreeEntry[] {
  const out = entries.filter((e) => e.name !== name);
  if (value) out.push(value);
  return out;
}

/** The operation as recorded in the commit message; large content is referenced by blob id. */
export function recordOp(op: OpBase, blobs: Record<string, string>): Record<string, unknown> {
  const rec: Record<string, unknown> = { ...op };
  if (op.op === 'knowledge.write') {
    const content = (op as OpBase & { content: string }).content;
    delete rec.content;
    rec.content_blob = blobs[content] ?? '';
  }
  if (op.op === 'import') {
    // The imported data is the commit's tree; the record says how much of it there was.
    const o = op as OpBase & { state: State; log: { count: number }; knowledge: object; locks: object };
    delete rec.state;
    delete rec.log;
    delete rec.knowledge;
    delete rec.locks;
    rec.tasks = Object.values(o.state.workstreams).reduce((n, ws) => n + ws.tasks.length, 0);
    rec.event_count = o.log.count;
    rec.topics = Object.keys(o.knowledge).length;
    rec.lock_count = Object.keys(o.locks).length;
  }
  return rec;
}

/** The full operation from its record: the reverse of recordOp (content read back from its blob). */
export async function restoreOp(objects: ObjectSink, rec: Record<string, unknown>): Promise<OpBase> {
  const op = { ...rec };
  if (op.op === 'knowledge.write' && typeof op.content_blob === 'string') {
    op.content = (await objects.readBlob(op.content_blob)).toString('utf8');
    delete op.content_blob;
  }
  return op as unknown as OpBase;
}

export function commitMessage(subject: string, recorded: Record<string, unknown>): string {
  const oneLine = subject.replace(/[\r\n]+/g, ' ');
  return `${oneLine}\n\n${TRAILER}: ${JSON.stringify(recorded)}\n`;
}

/**
 * Writes everything an effect changes and the commit on top of `base`:
 * authored by the operation's agent at its time, committed by `committer`
 * (the clone that wrote it; by default the agent too, as commits made
 * before clones signed their own). Returns the new snapshot; no ref is touched.
 */
export async function writeEffect(objects: ObjectSink, base: Snapshot, effect: Effect, op: OpBase, subject: string, committer?: { name: string; email: string }): Promise<Snapshot> {
  let root = base.root;
  let locksTree = base.locksTree;
  let knowledgeTree = base.knowledgeTree;
  let locks = base.world.locks;
  let topics = base.world.topics;
  // A root commit keeps the settings its new branch starts with (an init resets the state).
  const state = base.commit === null && base.world.state.settings && !effect.state.settings ? { ...effect.state, settings: base.world.state.settings } : effect.state;
  const parts = stateParts(state);
  const stateOid = await objects.writeBlob(parts);
  if (objects.keepState) {
    let tasks = 0;
    for (const p of parts) if (isRunPiece(p)) tasks += p.count;
    if (tasks >= LARGE_BOARD_TASKS) objects.keepState(stateOid, parts);
  }
  root = upsert(root, STATE_FILE, { mode: BLOB_MODE, name: STATE_FILE, oid: stateOid });

  let segments = base.segments;
  if (effect.events.length || effect.replaceEvents) {
    const limits = segmentLimits(state);
    const lines = Buffer.from(effect.events.length ? effect.events.map((e) => JSON.stringify(e)).join('\n') + '\n' : '');
    let live: Live;
    if (effect.replaceEvents && effect.log) {
      // A log already cut and written (import): its segments as they are, the events after its remainder.
      segments = effect.log.sealed.map((oid, i) => ({ mode: BLOB_MODE, name: segmentName(i + 1), oid }));
      const rest = Buffer.from(effect.log.live);
      live = appendLive({ pieces: rest.length ? [piece(rest)] : [], lines: countLines(rest), bytes: rest.length }, lines, effect.events.length);
    } else if (effect.replaceEvents) {
      // A replaced log is cut into full segments at once.
      const split = splitSegments(lines, limits);
      segments = [];
      for (const seg of split.sealed) segments.push({ mode: BLOB_MODE, name: segmentName(segments.length + 1), oid: await objects.writeBlob(seg) });
      live = { pieces: split.live.length ? [piece(split.live)] : [], lines: countLines(split.live), bytes: split.live.length };
    } else {
      const old = await readLive(objects, base.eventsOid);
      // A full live segment is sealed (it never changes again) before new events start the next.
      if (old.bytes && (old.lines >= limits.events || old.bytes >= limits.bytes)) {
        const last = segments.length ? Number(segments[segments.length - 1].name.slice(0, 6)) : 0;
        segments = [...segments, { mode: BLOB_MODE, name: segmentName(last + 1), oid: base.eventsOid! }];
        live = appendLive({ pieces: [], lines: 0, bytes: 0 }, lines, effect.events.length);
      } else live = appendLive(old, lines, effect.events.length);
    }
    const liveOid = await objects.writeBlob(live.pieces);
    rememberLive(liveOid, live);
    root = upsert(root, EVENTS_FILE, { mode: BLOB_MODE, name: EVENTS_FILE, oid: liveOid });
    if (segments !== base.segments) {
      root = upsert(root, SEGMENTS_DIR, segments.length ? { mode: TREE_MODE, name: SEGMENTS_DIR, oid: await objects.writeTree(segments) } : null);
    }
  } else if (!base.eventsOid) {
    root = upsert(root, EVENTS_FILE, { mode: BLOB_MODE, name: EVENTS_FILE, oid: await objects.writeBlob(Buffer.alloc(0)) });
  }

  let archiveTree = base.archiveTree;
  if (effect.archive && Object.keys(effect.archive).length) {
    for (const [file, text] of Object.entries(effect.archive)) {
      const old = archiveTree.find((e) => e.name === file);
      const content = [old ? await objects.readBlob(old.oid) : Buffer.alloc(0), text];
      archiveTree = upsert(archiveTree, file, { mode: BLOB_MODE, name: file, oid: await objects.writeBlob(content) }).sort(byName);
    }
    root = upsert(root, ARCHIVE_DIR, { mode: TREE_MODE, name: ARCHIVE_DIR, oid: await objects.writeTree(archiveTree) });
  }

  if (effect.locks && Object.keys(effect.locks).length) {
    let tree = base.locksTree;
    const next = newRecord(locks);
    for (const [resource, lock] of Object.entries(effect.locks)) {
      const name = resourceToFile(resource);
      tree = upsert(tree, name, lock ? { mode: BLOB_MODE, name, oid: await objects.writeBlob(serializeLock(lock)) } : null);
      if (lock) next[resource] = lock;
      else delete next[resource];
    }
    root = upsert(root, LOCKS_DIR, tree.length ? { mode: TREE_MODE, name: LOCKS_DIR, oid: await objects.writeTree(tree) } : null);
    locksTree = tree;
    locks = next;
  }

  const blobs = newRecord<string>();
  if (effect.knowledge && Object.keys(effect.knowledge).length) {
    let tree = base.knowledgeTree;
    for (const [topic, content] of Object.entries(effect.knowledge)) {
      const name = topic + '.md';
      let value: TreeEntry | null = null;
      if (content !== null) {
        const oid = await objects.writeBlob(content);
        blobs[content] = oid;
        value = { mode: BLOB_MODE, name, oid };
      }
      tree = upsert(tree, name, value);
    }
    root = upsert(root, KNOWLEDGE_DIR, tree.length ? { mode: TREE_MODE, name: KNOWLEDGE_DIR, oid: await objects.writeTree(tree) } : null);
    knowledgeTree = tree;
    topics = tree.filter((e) => e.name.endsWith('.md')).map((e) => e.name.slice(0, -3)).sort();
  }

  const tree = await objects.writeTree(root);
  const person = { name: op.by, email: `${op.by}@orchestrator`, timestamp: Math.floor(Date.parse(op.at) / 1000), tzOffset: 0 };
  const signer = committer ? { ...committer, timestamp: person.timestamp, tzOffset: 0 } : person;
  const commit = await objects.writeCommit({
    tree,
    parents: base.commit ? [base.commit] : [],
    author: person,
    committer: signer,
    message: commitMessage(subject, recordOp(op, blobs)),
  });
  return {
    commit,
    root,
    world: { state, locks, topics },
    knowledgeTree,
    locksTree,
    eventsOid: entry(root, EVENTS_FILE)?.oid ?? null,
    segments,
    archiveTree,
  };
}
