/**
 * Has an operation landed? Every operation the engine writes records its
 * operation id in its commit's trailer; an operation carried to the branch
 * by another writer (group commit, a resumed sync) is found by that id, and
 * its result is recomputed by applying the recorded operation again to its
 * parent (operations are deterministic).
 */
import { applyOp } from '../domain/apply.js';
import { isNoChange, type OpBase } from '../domain/op.js';
import { recordedOp } from '../store/history.js';
import { restoreOp } from '../store/layout.js';
import type { GitStore } from '../store/git-store.js';

export interface Landed {
  commit: string;
  op: OpBase;
}

/**
 * The commits from `tip` back (first parents) that record one of `ids`,
 * looking no further back than the oldest of `bases` (the tips the
 * operations were first known at; null: the root). Walks at most `limit`
 * commits.
 */
export async function findLanded(store: GitStore, tip: string | null, ids: ReadonlySet<string>, bases: ReadonlyArray<string | null>, limit = 20_000): Promise<Map<string, Landed>> {
  const found = new Map<string, Landed>();
  if (!ids.size) return found;
  const toPass = new Set(bases);
  const toRoot = toPass.has(null);
  for (let c: string | undefined = tip ?? undefined, i = 0; c && i < limit && found.size < ids.size; i++) {
    if (toPass.delete(c) && !toRoot && toPass.size === 0) break;
    const info = await store.objects.readCommit(c);
    const rec = recordedOp(info.message);
    const id = rec && typeof rec.op_id === 'string' ? rec.op_id : null;
    if (id && ids.has(id) && !found.has(id)) found.set(id, { commit: c, op: await restoreOp(store.objects, rec!) });
    c = info.parents[0];
  }
  return found;
}

/** What the operation recorded in `landed.commit` returned to its caller. */
export async function resultOf<R>(store: GitStore, landed: Landed): Promise<R> {
  const info = await store.objects.readCommit(landed.commit);
  const parent = await store.snapshot(info.parents[0] ?? null);
  const out = applyOp<R>(parent.world, landed.op);
  return isNoChange(out) ? out.result : out.result;
}
