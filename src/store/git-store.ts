/**
 * The git store: snapshots of the coordination branch read from objects,
 * effects written as commits, the local ref swapped by compare-and-swap, and
 * the remote reached by fetch and push. It knows nothing of operations'
 * meaning; the engine drives it.
 */
import * as path from 'node:path';
import { OrchestratorError } from '../errors.js';
import type { OpBase } from '../domain/op.js';
import type { Effect } from '../domain/types.js';
import { emptySnapshot, readEventsText, readKnowledgeText, readSnapshot, writeEffect, type Snapshot } from './layout.js';
import { ObjectStore } from './objects.js';
import { casRef, Mutex, readRef } from './refs.js';
import { openLocalTransport } from './local-remote.js';
import { GitTransport, type Transport } from './remote.js';
import type { RepoPaths } from './repo.js';

export function checkBranchName(branch: string): string {
  // git check-ref-format rules, the ones that matter for a branch we create.
  if (
    !branch ||
    branch.length > 200 ||
    /(^|\/)\.|\.\.|[\x00-\x20\x7f~^:?*[\\]|@\{|\/\/|\/$|\.lock(\/|$)|\.$/.test(branch) ||
    branch === '@' ||
    branch.startsWith('-')
  ) {
    throw new OrchestratorError('INVALID_INPUT', `branch name ${JSON.stringify(branch)} is not a valid git branch name`, { branch });
  }
  return branch;
}

export class GitStore {
  readonly objects: ObjectStore;
  readonly ref: string;
  readonly remote: Transport | null;
  private snapshots = new Map<string, Snapshot>();

  private constructor(
    readonly repo: RepoPaths,
    readonly branch: string,
    objects: ObjectStore,
    remote: Transport | null,
  ) {
    this.objects = objects;
    this.ref = `refs/heads/${branch}`;
    this.remote = remote;
  }

  /** Opens the store; with a remote, picks the local transport when it is equivalent to git push. */
  static async open(repo: RepoPaths, branch: string, remote: { name: string; url: string } | null): Promise<GitStore> {
    checkBranchName(branch);
    const objects = new ObjectStore(repo);
    let transport: Transport | null = null;
    if (remote) transport = (await openLocalTransport(repo, objects, remote.name, branch, remote.url)) ?? new GitTransport(repo, remote.name, branch);
    return new GitStore(repo, branch, objects, transport);
  }

  localTip(): string | null {
    return readRef(this.repo, this.ref);
  }

  trackingTip(): string | null {
    return this.remote ? readRef(this.repo, this.remote.trackingRef) : null;
  }

  async snapshot(commit: string | null): Promise<Snapshot> {
    if (!commit) return emptySnapshot();
    let snap = this.snapshots.get(commit);
    if (!snap) {
      snap = await readSnapshot(this.objects, commit);
      this.remember(snap);
    }
    return snap;
  }

  private remember(snap: Snapshot): void {
    if (!snap.commit) return;
    this.snapshots.set(snap.commit, snap);
    if (this.snapshots.size > 8) this.snapshots.delete(this.snapshots.keys().next().value as string);
  }

  /** Writes the effect as a commit on `base` (no ref changes) and returns the new snapshot. */
  async commit(base: Snapshot, effect: Effect, op: OpBase, subject: string): Promise<Snapshot> {
    const snap = await writeEffect(this.objects, base, effect, op, subject);
    this.remember(snap);
    return snap;
  }

  eventsText(snap: Snapshot): Promise<string> {
    return readEventsText(this.objects, snap);
  }

  knowledgeText(snap: Snapshot, topic: string): Promise<string | null> {
    return readKnowledgeText(this.objects, snap, topic);
  }

  /** Moves the local branch from `expected` to `next`; false when it moved meanwhile. */
  swapLocal(expected: string | null, next: string, by: string, message: string): boolean {
    return casRef(this.repo, { ref: this.ref, expected, next, who: { name: by, email: `${by}@orchestrator` }, message });
  }

  setTracking(next: string): void {
    if (!this.remote) return;
    const ref = this.remote.trackingRef;
    // The tracking ref mirrors the remote; a lost race here only means a newer fetch won.
    for (let i = 0; i < 3; i++) {
      const current = readRef(this.repo, ref);
      if (current === next) return;
      if (casRef(this.repo, { ref, expected: current, next, message: 'orchestrator: push' })) return;
    }
  }

  /** Is `ancestor` reachable from `commit` by first parents? (Our history is linear.) */
  async isAncestor(ancestor: string, commit: string, limit = 100_000): Promise<boolean> {
    let cur: string | undefined = commit;
    for (let i = 0; cur && i < limit; i++) {
      if (cur === ancestor) return true;
      cur = (await this.objects.readCommit(cur)).parents[0];
    }
    return false;
  }

  /** The writer lock: shared by all clones of a local remote, else per clone. */
  mutex(): Mutex {
    if (this.remote?.writerMutex) return this.remote.writerMutex();
    const file = path.join(this.repo.commondir, 'orchestrator', encodeURIComponent(this.branch) + '.writer.lock');
    return new Mutex(file);
  }

  close(): void {
    this.objects.close();
    this.remote?.close?.();
  }
}
