/** History and integrity: the audit trail, verify, archive. */
import * as path from 'node:path';
import { OrchestratorError } from '../../errors.js';
import type { OpBase } from '../../domain/op.js';
import type { ArchiveTasksOp } from '../../domain/ops/archive-tasks.js';
import { archivable } from '../../domain/selection.js';
import type { LogEntry, Task } from '../../domain/types.js';
import type { MutationOutcome } from '../../engine.js';
import type { VerifyResult } from '../../store/verify.js';
import { gitEnv } from '../../store/git-env.js';

export type { VerifyResult };
import type { Ctx } from '../context.js';
import { byWho, type Planner } from '../declare.js';
import { engineOf } from '../session.js';
import type { HistoryFilter } from '../view.js';

/** The audit trail: one entry per commit, newest first, filtered; `last` 0 means all. */
export async function log(ctx: Ctx, i: HistoryFilter): Promise<LogEntry[]> {
  return (await ctx.view()).history({ ...i, last: i.last === 0 ? undefined : i.last });
}

/**
 * Replays each commit's recorded operation on its parent's state and checks
 * the commit is exactly the result. `range`: `A..B` (after A up to B), a
 * commit (its whole history), or nothing (the branch tip).
 */
export async function verify(
  ctx: Ctx,
  i: { range?: string; onProgress?: (checked: number, total: number) => void },
): Promise<VerifyResult & { from: string | null; to: string | null }> {
  // Not a view: the tip may hold the malformed file verify is to find.
  const store = (await engineOf(ctx.session)).store;
  const repo = (await ctx.session.where()).repo;
  // A branch name, a full id or an id shown by log resolve without a process; anything else as git does.
  const resolve = async (rev: string): Promise<string> => {
    const oid = (await store.resolveRevision(rev)) ?? revParse(repo, rev);
    if (!oid) throw new OrchestratorError('NOT_FOUND', `no commit "${rev}" in this repository`, { rev });
    return oid;
  };
  let from: string | null = null;
  let to: string | null;
  if (i.range?.includes('...')) {
    throw new OrchestratorError('INVALID_INPUT', `range "${i.range}" is invalid: the branch is one line of commits; use A..B (after A up to B)`, { field: 'range' });
  }
  if (i.range && i.range.includes('..')) {
    const [a, b] = i.range.split('..');
    from = a ? await resolve(a) : null;
    to = b ? await resolve(b) : await ctx.session.readTip();
  } else to = i.range ? await resolve(i.range) : await ctx.session.readTip();
  if (!to) return { ok: true, checked: 0, problem: null, from, to };
  const { verifyRange } = await import('../../store/verify.js');
  const objects = store.objects;
  return { ...(await verifyRange(objects, to, from, { onProgress: i.onProgress })), from, to };
}

/**
 * A revision in git's syntax (`orchestrator~3`, `HEAD@{1}`, `v1^{commit}`,
 * an abbreviated id), resolved by `git rev-parse` to the commit it names;
 * null when git knows none.
 */
function revParse(repo: string, rev: string): string | null {
  if (!rev || rev.startsWith('-')) return null;
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('git', ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { cwd: repo, env: gitEnv(), encoding: 'utf8' });
  const oid = r.status === 0 ? r.stdout.trim() : '';
  return /^[0-9a-f]{40}$/.test(oid) ? oid : null;
}

/**
 * Moves done tasks whose last update is older than `olderThan` ms out of
 * state.json into archive/<YYYY-MM>.jsonl. Tasks an unfinished task depends
 * on stay. No commit when there is nothing to move.
 */
export const archive: Planner<{ older_than: number; agent?: string }, { archived: number; files: string[] }> = (world, c, i, who) => {
  if (!Number.isFinite(i.older_than) || i.older_than < 0) throw new OrchestratorError('INVALID_INPUT', 'older-than must be a duration of 0 or more', { field: 'older-than' });
  const ids = archivable(world.state, Date.parse(c.at) - i.older_than);
  if (!ids.length) return { noop: true, result: { archived: 0, files: [] } };
  return { op: 'task.archive', at: c.at, by: byWho(who, i.agent), ids } satisfies ArchiveTasksOp;
};

export async function archived(ctx: Ctx, i: { workstream?: string; id?: string; last?: number }): Promise<Array<Task & { workstream: string }>> {
  return (await ctx.view()).archived(i);
}

/** Applies a recorded operation as it is (for tools that replay operations). */
export function apply(ctx: Ctx, i: { op: OpBase }): Promise<MutationOutcome<unknown>> {
  return ctx.session.mutate(() => i.op, { raw: true });
}

export const sourceName = (dir: string) => path.basename(path.resolve(dir));
