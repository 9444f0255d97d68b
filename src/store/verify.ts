/**
 * Verification by replay: every commit of the branch must be exactly what
 * its recorded operation produces on its parent. Each operation is applied
 * again to the parent's state and the resulting commit id computed (without
 * writing anything); any difference (a hand-edited file, missing or extra
 * events, a lock taken before it expired, a changed sealed segment, a
 * forged author) is reported with the first commit that has it.
 */
import { OrchestratorError } from '../errors.js';
import { applyOp, subjectOf } from '../domain/apply.js';
import { isNoChange, type OpBase } from '../domain/op.js';
import { hasData } from '../domain/ops/import-board.js';
import { recordedOp } from './history.js';
import { emptySnapshotFor, readSnapshot, restoreOp, serializeLock, serializeState, TRAILER, writeEffect, type Snapshot } from './layout.js';
import { LOCK_SKEW_MS } from '../domain/locks.js';
import { fileToResource, resourceToFile, rules } from '../domain/rules.js';
import { TASK_STATUSES, type State } from '../domain/types.js';
import { DryRunObjects, type CommitInfo, type ObjectStore, type TreeEntry } from './objects.js';

export interface VerifyProblem {
  commit: string;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Commits checked (up to and including a bad one). */
  checked: number;
  problem: VerifyProblem | null;
}

function short(oid: string): string {
  return oid.slice(0, 8);
}

/** The first path at which two JSON values differ, for messages. */
function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (a === b) return null;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${path || '(top)'} is ${JSON.stringify(b)?.slice(0, 60)}, the operation gives ${JSON.stringify(a)?.slice(0, 60)}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const sub = Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], sub);
    if (d) return d;
  }
  return null;
}

async function describeTreeDifference(objects: ObjectStore, expected: TreeEntry[], actualTree: string, prefix = ''): Promise<string> {
  const actual = await objects.readTree(actualTree);
  const exp = new Map(expected.map((e) => [e.name, e]));
  const act = new Map(actual.map((e) => [e.name, e]));
  for (const [name, e] of act) {
    const x = exp.get(name);
    const p = prefix + name;
    if (!x) return `has ${p}, which its operation does not produce`;
    if (x.oid === e.oid) continue;
    if (e.mode === '40000' && x.mode === '40000') {
      // Subtrees the dry run built are not on disk; name the first differing entry by comparing the listings we can read.
      try {
        return await describeTreeDifference(objects, await objects.readTree(x.oid), e.oid, p + '/');
      } catch {
        return `has a ${p}/ that differs from its operation's result`;
      }
    }
    if (p === 'events.jsonl') return 'has an events.jsonl that differs from what its operation appends (missing, extra or edited events)';
    if (p.startsWith('events/')) return `changes the sealed event segment ${p}`;
    return `has a ${p} that differs from its operation's result`;
  }
  for (const name of exp.keys()) if (!act.has(name)) return `lacks ${prefix}${name}`;
  return 'has a tree that differs from its operation\'s result';
}

const IMPORT_ENTRIES = new Set(['state.json', 'events.jsonl', 'events', 'knowledge', 'locks']);

/**
 * Checks an import commit. Its content is data, not a replayable change, so
 * it must be a board exactly as the importer writes one: canonical files
 * only, valid names, the counts it records, and the `imported` event last.
 * On a parent with data (not one `init` just made) it needs `force` (and
 * the hook refuses it anyway).
 */
async function checkImport(objects: ObjectStore, c: CommitInfo, rec: Record<string, unknown>, parent: Snapshot, forcedImports: boolean): Promise<{ snap: Snapshot } | { reason: string }> {
  if (hasData(parent.world)) {
    if (rec.force !== true) return { reason: 'imports over a branch that has data, without --force' };
    if (!forcedImports) return { reason: 'replaces a branch that has data by an import; this repository accepts imports only into a new branch' };
  }
  if (c.author.name !== rec.by) return { reason: `has author ${c.author.name} but its operation's agent is ${String(rec.by)}` };
  let snap: Snapshot;
  try {
    snap = await readSnapshot(objects, c.oid);
  } catch (err) {
    return { reason: `has malformed imported data: ${(err as Error).message}` };
  }
  const extra = snap.root.find((e) => !IMPORT_ENTRIES.has(e.name));
  if (extra) return { reason: `has ${extra.name}, which an import does not write` };
  const state = snap.world.state;
  const stateEntry = snap.root.find((e) => e.name === 'state.json')!;
  if ((await objects.readBlob(stateEntry.oid)).toString('utf8') !== serializeState(state)) return { reason: 'has a state.json that is not in canonical form' };
  const problem = checkBoard(state);
  if (problem) return { reason: `has imported data that is not valid: ${problem}` };
  for (const e of snap.locksTree) {
    const lock = snap.world.locks[fileToResource(e.name)];
    if (!lock || resourceToFile(lock.resource) !== e.name || (await objects.readBlob(e.oid)).toString('utf8') !== serializeLock(lock)) return { reason: `has a lock file locks/${e.name} that is not in canonical form` };
  }
  for (const e of snap.knowledgeTree) {
    if (!e.name.endsWith('.md') || !rules.topic.safeParse(e.name.slice(0, -3)).success) return { reason: `has knowledge/${e.name}, which is not a valid topic` };
  }
  // The log: the imported events, then the importer's own `imported` event with the counts.
  let count = 0;
  let last = '';
  for (const oid of [...snap.segments.map((e) => e.oid), ...(snap.eventsOid ? [snap.eventsOid] : [])]) {
    const lines = (await objects.readBlob(oid)).toString('utf8').split('\n').filter(Boolean);
    count += lines.length;
    if (lines.length) last = lines[lines.length - 1];
  }
  let closing: Record<string, unknown> = {};
  try {
    closing = JSON.parse(last) as Record<string, unknown>;
  } catch {
    return { reason: 'has an event log that does not end with the import event' };
  }
  const tasks = Object.values(state.workstreams).reduce((n, ws) => n + ws.tasks.length, 0);
  if (closing.action !== 'imported' || closing.ts !== rec.at || closing.agent !== rec.by) return { reason: 'has an event log that does not end with its import event' };
  if (closing.tasks !== tasks || rec.tasks !== tasks) return { reason: `records ${String(rec.tasks)} imported tasks but its tree has ${tasks}` };
  if (rec.event_count !== count - 1 || closing.events !== count - 1) return { reason: `records ${String(rec.event_count)} imported events but its log has ${count - 1}` };
  if (rec.topics !== snap.world.topics.length || rec.lock_count !== Object.keys(snap.world.locks).length) return { reason: 'records other counts of topics or locks than its tree has' };
  if (state.updated_at !== rec.at) return { reason: "has a state.json whose time is not its operation's time" };
  return { snap };
}

/** Names, ids and shapes in a board that did not come from a replayed operation. */
function checkBoard(state: State): string | null {
  const seen = new Set<string>();
  for (const [name, ws] of Object.entries(state.workstreams)) {
    if (!rules.workstream.safeParse(name).success) return `workstream name ${JSON.stringify(name)}`;
    for (const t of ws.tasks) {
      if (!rules.taskId.safeParse(t.id).success || seen.has(t.id)) return `task id ${JSON.stringify(t.id)} in ${name}`;
      seen.add(t.id);
      if (!rules.title.safeParse(t.title).success || !TASK_STATUSES.includes(t.status) || !Number.isInteger(t.priority)) return `task ${t.id} in ${name}`;
      if (t.assigned_to !== null && !rules.agent.safeParse(t.assigned_to).success) return `the assignee of task ${t.id}`;
    }
  }
  for (const id of Object.keys(state.agents)) if (!rules.agent.safeParse(id).success) return `agent id ${JSON.stringify(id)}`;
  return null;
}

/**
 * Verifies the commits after `from` (exclusive; null: from the root) up to
 * `to`, oldest first, stopping at the first problem.
 */
export interface VerifyOptions {
  onProgress?: (checked: number, total: number) => void;
  /** Refuse operation times after this (ms since the epoch; default: this machine's clock plus the skew margin). */
  notAfterMs?: number;
  /** The check runs on the receiving server (for messages). */
  server?: boolean;
  /** Accept an import that replaces a branch with data (default true; the hook says false). */
  forcedImports?: boolean;
}

/**
 * The oldest commit whose recorded time is ahead of every commit written
 * after it by more than the skew margin (a writer whose clock ran ahead:
 * the writers after it disagree). The newest commits, which have nothing
 * after them, are judged against the verifier's clock instead.
 */
function firstAheadOfLater(commits: CommitInfo[]): { index: number; laterMax: string } | null {
  const times = commits.map((c) => Date.parse(String(recordedOp(c.message)?.at ?? '')));
  let laterMax = -Infinity;
  let found: { index: number; laterMax: string } | null = null;
  for (let i = times.length - 1; i >= 0; i--) {
    const t = times[i];
    if (Number.isFinite(laterMax) && t > laterMax + LOCK_SKEW_MS) found = { index: i, laterMax: new Date(laterMax).toISOString() };
    if (Number.isFinite(t)) laterMax = Math.max(laterMax, t);
  }
  return found;
}

export async function verifyRange(objects: ObjectStore, to: string, from: string | null, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const onProgress = opts.onProgress;
  const commits: CommitInfo[] = [];
  for (let oid: string | undefined = to; oid !== undefined && oid !== from; ) {
    const c = await objects.readCommit(oid);
    commits.push(c);
    if (c.parents.length > 1) return { ok: false, checked: 1, problem: { commit: c.oid, reason: `is a merge of ${c.parents.length} parents (the coordination branch is linear)` } };
    oid = c.parents[0];
    if (oid === undefined && from !== null) {
      throw new OrchestratorError('INVALID_INPUT', `${short(from)} is not an ancestor of ${short(to)}`, { from, to });
    }
  }
  commits.reverse();
  const ahead = firstAheadOfLater(commits);
  const notAfterMs = opts.notAfterMs ?? Date.now() + LOCK_SKEW_MS;
  const dry = new DryRunObjects(objects);
  let snap = from ? await readSnapshot(objects, from) : await emptySnapshotFor(objects, commits[0].oid);
  let checked = 0;
  for (const c of commits) {
    checked++;
    const fail = (reason: string): VerifyResult => ({ ok: false, checked, problem: { commit: c.oid, reason } });
    const rec = recordedOp(c.message);
    if (!rec) return fail(`records no operation (no ${TRAILER} trailer): the orchestrator did not make it`);
    if (ahead && ahead.index === checked - 1) {
      return fail(`records a time (${String(rec.at)}) ahead of the commits written after it (the newest of them at ${ahead.laterMax}) by more than the ${LOCK_SKEW_MS / 1000} s clock-skew margin: its writer's clock was ahead`);
    }
    if (Date.parse(String(rec.at)) > notAfterMs) {
      return fail(`records a time (${String(rec.at)}) ahead of this ${opts.server ? "server's" : "machine's"} clock; clocks must agree within ${LOCK_SKEW_MS / 1000} s`);
    }
    if (rec.op === 'import') {
      const r = await checkImport(objects, c, rec, snap, opts.forcedImports ?? true);
      if ('reason' in r) return fail(r.reason);
      snap = r.snap;
      continue;
    }
    let op: OpBase;
    try {
      op = await restoreOp(objects, rec);
    } catch (err) {
      return fail(`lacks its recorded content: ${(err as Error).message}`);
    }
    let out;
    try {
      out = applyOp(snap.world, op);
    } catch (err) {
      const e = err as OrchestratorError;
      return fail(e.code === 'INVALID_INPUT' ? `records an invalid operation: ${e.message}` : `records an operation its parent refuses: ${e.message}`);
    }
    if (isNoChange(out)) return fail(`records an operation (${op.op}) that changes nothing on its parent`);
    // Whoever committed it (the clone that wrote it) is recorded, not replayed.
    const expected = await writeEffect(dry, snap, out, op, subjectOf(op), { name: c.committer.name, email: c.committer.email });
    if (expected.commit !== c.oid) {
      const expectedTree = await dry.writeTree(expected.root);
      if (expectedTree !== c.tree) {
        // Name the difference: state.json by its first differing field, else the path.
        const stateEntry = (await objects.readTree(c.tree)).find((e) => e.name === 'state.json');
        const expectedState = expected.root.find((e) => e.name === 'state.json');
        if (stateEntry && expectedState && stateEntry.oid !== expectedState.oid) {
          let detail = 'it differs';
          try {
            const actual = JSON.parse((await objects.readBlob(stateEntry.oid)).toString('utf8'));
            detail = firstDifference(expected.world.state, actual) ?? 'it differs in formatting';
          } catch {
            detail = 'it is not valid JSON';
          }
          return fail(`has a state.json its operation (${op.op}) does not produce: ${detail}`);
        }
        return fail(await describeTreeDifference(objects, expected.root, c.tree));
      }
      if (c.parents[0] !== (snap.commit ?? undefined)) return fail('has a parent other than the commit its operation applies to');
      if (c.author.name !== op.by) return fail(`has author ${c.author.name} but its operation's agent is ${op.by}`);
      if (c.author.timestamp !== Math.floor(Date.parse(op.at) / 1000)) return fail("has an author time other than its operation's time");
      if (c.committer.timestamp !== Math.floor(Date.parse(op.at) / 1000)) return fail("has a commit time other than its operation's time");
      return fail('has a message other than what its operation records');
    }
    snap = expected;
    if (onProgress && checked % 500 === 0) onProgress(checked, commits.length);
  }
  return { ok: true, checked, problem: null };
}
