/**
 * The pre-receive check (run by the installed hook inside the receiving
 * repository). For each update of a guarded branch: deletion and
 * non-fast-forward updates are refused, and every new commit must replay
 * exactly on its parent. The message names the commit and the reason.
 */
import { verifyRange } from '../store/verify.js';
import { LOCK_SKEW_MS } from '../domain/locks.js';
import { ObjectStore } from '../store/objects.js';
import { requireRepo } from '../store/repo.js';

const ZERO = /^0{40}$/;

export interface Refusal {
  ref: string;
  message: string;
}

export async function checkPush(input: string, guarded: string[], cwd: string): Promise<Refusal[]> {
  const repo = requireRepo(cwd);
  const objects = new ObjectStore(repo);
  const refusals: Refusal[] = [];
  try {
    for (const line of input.split('\n')) {
      const [oldOid, newOid, ref] = line.trim().split(/\s+/);
      if (!ref || !guarded.some((b) => ref === `refs/heads/${b}`)) continue;
      const branch = ref.slice('refs/heads/'.length);
      if (ZERO.test(newOid)) {
        refusals.push({ ref, message: `deleting the coordination branch ${branch} is refused` });
        continue;
      }
      const from = ZERO.test(oldOid) ? null : oldOid;
      if (from) {
        let reaches = false;
        for (let c: string | undefined = newOid; c; c = (await objects.readCommit(c)).parents[0]) {
          if (c === from) {
            reaches = true;
            break;
          }
        }
        if (!reaches) {
          refusals.push({ ref, message: `non-fast-forward update of ${branch} refused: ${newOid.slice(0, 8)} does not build on ${from.slice(0, 8)} (history is never rewritten)` });
          continue;
        }
      }
      // Operation times may not run ahead of this server's clock (lock expiry is judged by them).
      const r = await verifyRange(objects, newOid, from, { notAfterMs: Date.now() + LOCK_SKEW_MS, forcedImports: false, server: true });
      if (r.problem) refusals.push({ ref, message: `refused: commit ${r.problem.commit.slice(0, 8)} on ${branch} ${r.problem.reason}` });
    }
  } finally {
    objects.close();
  }
  return refusals;
}
