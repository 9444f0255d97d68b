/** The branch itself: create it, import into it, sync it, its settings. */
import type { ImportResult } from '../../domain/ops/import-board.js';
import type { InitOp } from '../../domain/ops/init.js';
import type { SetSettingsOp } from '../../domain/ops/set-settings.js';
import type { Settings } from '../../domain/types.js';
import { syncBranch, type SyncResult } from '../../sync.js';
import { by, type Ctx } from '../context.js';
import { byWho, type Planner } from '../declare.js';
import { engineOf } from '../session.js';
import { sourceName } from './history.js';

export type { SyncResult };

/** Creates the coordination branch (adopting the remote's when it has one). */
export async function init(ctx: Ctx): Promise<{ created: boolean; commit: string | null; upgraded?: { from: number; to: number } }> {
  const out = await ctx.session.mutate<{ created: boolean; upgraded?: { from: number; to: number } }>((_w, c) => ({ op: 'init', at: c.at, by: by(ctx) }) satisfies InitOp);
  return { created: out.result.created, commit: out.commit, ...(out.result.upgraded ? { upgraded: out.result.upgraded } : {}) };
}

/** Changes branch settings (events per sealed segment of the log). */
export const settings: Planner<{ settings: Settings; agent?: string }, Settings> = (_w, c, i, who) =>
  ({ op: 'settings.set', at: c.at, by: byWho(who, i.agent), settings: i.settings }) satisfies SetSettingsOp;

/**
 * Imports an original orchestrator's data directory into the branch (one
 * commit; see import/import-dir.ts). Everything is validated first;
 * CONFLICT when the branch has data, unless `force`.
 */
export async function importDir(ctx: Ctx, i: { dir: string; force: boolean; onProgress?: (m: string) => void; agent?: string }): Promise<ImportResult & { commit: string | null }> {
  const { importSeedDir } = await import('../../import/import-dir.js');
  return importSeedDir(await engineOf(ctx.session), i.dir, { force: i.force, onProgress: i.onProgress, by: by(ctx, i.agent), source: sourceName(i.dir) }, (prepare) => ctx.session.mutate(prepare));
}

/** Applies operations committed offline on the remote's tip (see sync.ts). */
export async function sync(ctx: Ctx): Promise<SyncResult> {
  return syncBranch(await engineOf(ctx.session), by(ctx));
}
