/**
 * Offline work brought online: operations committed locally while the remote
 * was unreachable (or before it existed) are applied again, in order, on the
 * remote's tip. It lives beside the engine: it drives the engine's mutation
 * loop and the store's refs, and nothing above it.
 */
import { OrchestratorError } from './errors.js';
import type { Engine } from './engine.js';
import type { LogEventOp } from './domain/ops/log-event.js';
import { restoreOp } from './store/layout.js';
import { recordedOp, walkHistory } from './store/history.js';
import type { CommitInfo } from './store/objects.js';
import { findLanded } from './engine/landed.js';

/**
 * The ids a local commit travels under: its operation's own (or, for one
 * recorded before operations had ids, one derived from the commit), and
 * the id of the event that records dropping it.
 */
function idsOf(c: CommitInfo): { op: string; dropped: string } {
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  const derive = (what: string) => createHash('sha1').update(`${what} ${c.oid}`).digest('hex').slice(0, 16);
  const rec = recordedOp(c.message);
  return { op: typeof rec?.op_id === 'string' && /^[0-9a-f]{16}$/.test(rec.op_id) ? rec.op_id : derive('sync'), dropped: derive('sync-dropped') };
}

export interface SyncResult {
  remote: string;
  /** Local commits applied on the remote, oldest first, with the commit that holds each now. */
  applied: Array<{ commit: string; new_commit: string | null; op: string }>;
  /** Local commits no longer valid on the remote, with what they named and why. */
  dropped: Array<{ commit: string; op: string; target: string; reason: string }>;
}

/** What an operation acted on, for messages: `task revenue/1a2b3c4d`, `lock "db"`. */
function describeTarget(op: Record<string, unknown>): string {
  if (typeof op.workstream === 'string' && typeof op.id === 'string') return `task ${op.workstream}/${op.id}`;
  if (Array.isArray(op.ids)) return `tasks ${String(op.workstream ?? '')}/${op.ids.join(',')}`;
  if (typeof op.resource === 'string') return `lock ${JSON.stringify(op.resource)}`;
  if (typeof op.topic === 'string') return `topic ${op.topic}`;
  if (op.op === 'workstream.create') return `workstream ${String(op.name)}`;
  if (typeof op.id === 'string') return `agent ${op.id}`;
  return String(op.op ?? '');
}

/**
 * Pushes operations committed offline: each local commit that is not on the
 * remote is applied again, in order, on the remote's tip (with its original
 * time and agent). One that is no longer valid there (a task someone else
 * claimed meanwhile) is dropped, with a `sync_dropped` event on the branch.
 * An interrupted sync resumes where it stopped. `actor` signs the dropped-op
 * events.
 */
export async function syncBranch(engine: Engine, actor: string): Promise<SyncResult> {
  const store = engine.store;
  if (!store.remote) throw new OrchestratorError('INVALID_INPUT', 'there is no remote to sync with (see --remote)');
  if (engine.offline) throw new OrchestratorError('INVALID_INPUT', 'sync needs the remote; drop --offline');
  const pendingRef = `refs/orchestrator/sync/${store.branch}`;
  const doneRef = `refs/orchestrator/sync-done/${store.branch}`;
  await store.remote.fetch();
  let remoteTip = store.trackingTip();
  const local = store.localTip();
  let pending = store.readRef(pendingRef);
  const result: SyncResult = { applied: [], dropped: [], remote: store.remote.name };
  if (!pending) {
    if (!local || local === remoteTip) return result;
    if (remoteTip && (await store.isAncestor(local, remoteTip))) {
      await engine.baseTip();
      return result;
    }
    if (!remoteTip || (await store.isAncestor(remoteTip, local))) {
      // Only local commits on top of the remote's: they were built on its tip, push them as they are.
      const out = await store.remote.push(local, remoteTip);
      if (out.ok) {
        await store.setTracking(local);
        for await (const c of walkHistory(store.objects, local, remoteTip)) result.applied.unshift({ commit: c.oid, new_commit: c.oid, op: recordedOp(c.message)?.op as string });
        return result;
      }
      await store.remote.fetch();
      remoteTip = store.trackingTip();
    }
    // The local operations are kept under a ref of their own: from here on a sync resumes.
    await store.deleteRef(doneRef);
    if (!(await store.swapRef(pendingRef, null, local!))) throw new OrchestratorError('CONFLICT', 'another sync is running');
    pending = local!;
  }
  // The branch moves to the remote's tip; the kept ref holds its operations. A sync killed
  // before this step finds the branch where it was and moves it now.
  const now = store.localTip();
  if (remoteTip && now && now !== remoteTip && !(await store.isAncestor(now, remoteTip)) && !(await store.isAncestor(remoteTip, now))) {
    if (now !== pending) {
      throw new OrchestratorError('CONFLICT', `operations were committed here while a sync was interrupted; the interrupted sync keeps its own under ${pendingRef}`, { local: now, pending });
    }
    if (!(await store.swapLocal(now, remoteTip, 'orchestrator', 'orchestrator: sync'))) {
      throw new OrchestratorError('CONFLICT', 'the branch moved during sync; run sync again (it resumes)');
    }
  }
  // Done: the kept commits applied so far, or (before the first) what the kept and the remote share.
  const done = store.readRef(doneRef) ?? (remoteTip ? await store.mergeBase(pending, remoteTip) : null);
  const commits: CommitInfo[] = [];
  for await (const c of walkHistory(store.objects, pending, done)) commits.unshift(c);
  // Exactly once, however often sync is interrupted: every operation is re-applied under its
  // own operation id (and a dropped one's event under an id of its own), so what an earlier
  // run carried to the remote is found there by id and not applied again.
  const tip = await engine.refresh();
  const base = tip ? await store.mergeBase(pending, tip) : null;
  const ids = new Map(commits.map((c) => [c.oid, idsOf(c)]));
  const landed = await findLanded(store, tip, new Set([...ids.values()].flatMap((i) => [i.op, i.dropped])), [base]);
  for (const c of commits) {
    const rec = recordedOp(c.message);
    const id = ids.get(c.oid)!;
    const target = rec ? describeTarget(rec) : '';
    const drop = async (reason: string) => {
      result.dropped.push({ commit: c.oid, op: String(rec?.op ?? '(none)'), target, reason });
      await engine.mutate(
        (_w, ctx) =>
          ({
            op: 'event.log',
            at: ctx.at,
            by: actor,
            agent: typeof rec?.by === 'string' && rec.by !== 'system' ? rec.by : 'system',
            action: 'sync_dropped',
            data: { operation: rec?.op ?? null, target, reason, commit: c.oid },
          }) satisfies LogEventOp,
        { opId: id.dropped },
      );
    };
    const carried = landed.get(id.op);
    if (carried) result.applied.push({ commit: c.oid, new_commit: carried.commit, op: String(rec?.op ?? '') });
    else if (landed.has(id.dropped)) {
      result.dropped.push({ commit: c.oid, op: String(rec?.op ?? '(none)'), target, reason: 'dropped by an earlier sync that was interrupted (see its sync_dropped event)' });
    } else if (!rec || rec.op === 'import') await drop(rec ? 'imports are not synced; import again on the remote' : 'the commit records no operation');
    else {
      try {
        const op = await restoreOp(store.objects, rec);
        // Applied now, on the remote's tip, at the time it takes effect there.
        const out = await engine.mutate((_w, ctx) => ({ ...op, at: ctx.at }), { opId: id.op });
        result.applied.push({ commit: c.oid, new_commit: out.commit, op: String(rec.op) });
      } catch (err) {
        if (!(err instanceof OrchestratorError) || !['CONFLICT', 'NOT_FOUND', 'LOCK_HELD', 'INVALID_INPUT', 'AMBIGUOUS'].includes(err.code)) throw err;
        await drop(err.message);
      }
    }
    await store.swapRef(doneRef, store.readRef(doneRef), c.oid);
  }
  await store.deleteRef(pendingRef);
  await store.deleteRef(doneRef);
  return result;
}
