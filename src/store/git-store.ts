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
import { eventSegments, newBranchSnapshot, readKnowledgeText, readSnapshot, writeEffect, type Snapshot } from './layout.js';
import { filterEvents, type EventFilter } from '../domain/queries.js';
import type { OrcEvent } from '../domain/types.js';
import { ObjectStore } from './objects.js';
import { casRef, readRef } from './refs.js';
import { Mutex } from './mutex.js';
import { maintainRepository } from './maintenance.js';
import { committerIdentity } from './git-config.js';
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
  /** This clone's git identity: the committer of every commit it writes (the author is the acting agent). */
  private signer: { name: string; email: string } | null = null;

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
  static async open(repo: RepoPaths, branch: string, remote: { name: string; url: string; direct?: boolean } | null): Promise<GitStore> {
    checkBranchName(branch);
    const objects = new ObjectStore(repo);
    let transport: Transport | null = null;
    // A remote git pushes elsewhere than its url (pushurl, insteadOf) goes through git itself.
    if (remote) transport = (remote.direct !== false ? await openLocalTransport(repo, objects, remote.name, branch, remote.url) : null) ?? new GitTransport(repo, remote.name, branch, remote.url, objects, remote.direct !== false);
    return new GitStore(repo, branch, objects, transport);
  }

  localTip(): string | null {
    return readRef(this.repo, this.ref);
  }

  trackingTip(): string | null {
    return this.remote ? readRef(this.repo, this.remote.trackingRef) : null;
  }

  async snapshot(commit: string | null): Promise<Snapshot> {
    if (!commit) return newBranchSnapshot();
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
    this.signer ??= committerIdentity(this.repo.commondir, this.repo.gitdir);
    const snap = await writeEffect(this.objects, base, effect, op, subject, this.signer);
    if (snap.commit) this.objects.useSnapshot(snap.commit);
    this.remember(snap);
    return snap;
  }

  /**
   * Events matching a filter, oldest first. With `last`, segments are read
   * from the newest backwards and only until enough events matched.
   */
  async events(snap: Snapshot, filter: EventFilter): Promise<OrcEvent[]> {
    const segments = eventSegments(snap);
    if (filter.last !== undefined) {
      let out: OrcEvent[] = [];
      for (const oid of segments) {
        if (out.length >= filter.last) break;
        const found = filterEvents((await this.objects.readBlob(oid)).toString('utf8'), { ...filter, last: filter.last - out.length });
        out = [...found, ...out];
      }
      return out;
    }
    const out: OrcEvent[] = [];
    for (const oid of segments.reverse()) out.push(...filterEvents((await this.objects.readBlob(oid)).toString('utf8'), filter));
    return out;
  }

  knowledgeText(snap: Snapshot, topic: string): Promise<string | null> {
    return readKnowledgeText(this.objects, snap, topic);
  }

  /** Moves the local branch from `expected` to `next`; false when it moved meanwhile. */
  swapLocal(expected: string | null, next: string, by: string, message: string): Promise<boolean> {
    return casRef(this.repo, { ref: this.ref, expected, next, who: { name: by, email: `${by}@orchestrator` }, message });
  }

  readRef(ref: string): string | null {
    return readRef(this.repo, ref);
  }

  /** Compare-and-swap of any ref of this repository. */
  swapRef(ref: string, expected: string | null, next: string): Promise<boolean> {
    return casRef(this.repo, { ref, expected, next, message: 'orchestrator' });
  }

  /** Deletes one of our bookkeeping refs (through git: it may have been packed). */
  async deleteRef(ref: string): Promise<void> {
    if (readRef(this.repo, ref) === null) return;
    const { simpleGit } = require('simple-git') as typeof import('simple-git');
    await simpleGit({ baseDir: this.repo.workdir ?? this.repo.gitdir }).raw(['update-ref', '-d', ref]);
  }

  /** The newest commit both histories contain (git merge-base), or null. */
  async mergeBase(a: string, b: string): Promise<string | null> {
    const seen = new Set<string>();
    for (let c: string | undefined = a; c; c = (await this.objects.readCommit(c)).parents[0]) seen.add(c);
    for (let c: string | undefined = b; c; c = (await this.objects.readCommit(c)).parents[0]) if (seen.has(c)) return c;
    return null;
  }

  /** Moves the remote-tracking ref forward to `next` (never back over a newer fetch). */
  async setTracking(next: string): Promise<void> {
    if (!this.remote) return;
    const ref = this.remote.trackingRef;
    for (let i = 0; i < 5; i++) {
      const current = readRef(this.repo, ref);
      if (current === next) return;
      if (current !== null && !(await this.isAncestor(current, next, 1000))) return;
      if (await casRef(this.repo, { ref, expected: current, next, message: 'orchestrator: push' })) return;
    }
  }


  /** A commit id for a full or abbreviated id, or a ref name; null when there is none. */
  async resolveRevision(rev: string): Promise<string | null> {
    if (/^[0-9a-f]{40}$/.test(rev)) return (await this.objects.exists(rev)) ? rev : null;
    for (const ref of [rev, `refs/heads/${rev}`, `refs/remotes/${rev}`, `refs/tags/${rev}`]) {
      if (!ref.startsWith('refs/')) continue;
      const oid = readRef(this.repo, ref);
      if (oid) return oid;
    }
    if (/^[0-9a-f]{4,39}$/.test(rev)) {
      // An abbreviation: look along the branch (where every id we show comes from).
      for (let c: string | undefined = this.localTip() ?? undefined; c; c = (await this.objects.readCommit(c)).parents[0]) if (c.startsWith(rev)) return c;
    }
    return null;
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

  /** Packs what writes left loose, in the background (see maintenance.ts); this clone and a remote on this file system. */
  maintain(): void {
    const dirs = [this.repo];
    const remoteDir = (this.remote as { remote?: RepoPaths } | null)?.remote;
    if (remoteDir) dirs.push(remoteDir);
    for (const repo of dirs) maintainRepository(repo);
  }

  /** Where the writer turn and the request spool live: the remote's directory when every clone can reach it, else this clone's. */
  private coordinationDir(): string {
    return path.join(this.remote?.sharedDir?.() ?? this.repo.commondir, 'orchestrator');
  }

  /** The writer turn: shared by all clones of a remote on this file system, else per clone (and its linked work trees). */
  mutex(): Mutex {
    return new Mutex(path.join(this.coordinationDir(), encodeURIComponent(this.branch) + '.writer.lock'));
  }

  /** What this clone's writers learned of the remote (contention, round-trip times), kept between processes. */
  hintsFile(): string {
    return path.join(this.coordinationDir(), encodeURIComponent(this.branch) + '.hints.json');
  }

  /** Where writers waiting for the turn leave their operations for the writer whose turn it is. */
  spoolDir(): string {
    return path.join(this.coordinationDir(), 'requests', encodeURIComponent(this.branch));
  }

  close(): void {
    this.objects.close();
    this.remote?.close?.();
  }
}
