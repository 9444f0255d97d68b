/**
 * `orchestrator import <dir>`: an original data directory becomes the board
 * in one commit. Everything small (state.json, knowledge, locks) is read and
 * validated first; the event log is then streamed into sealed segments
 * written to the store as they fill, so memory stays bounded whatever its
 * size; the commit comes last. When anything fails, the objects the import
 * created are removed again: nothing is written.
 */
import * as fs from 'node:fs';
import { conflict, OrchestratorError } from '../errors.js';
import type { MutationOutcome, Prepare } from '../engine.js';
import type { Engine } from '../engine.js';
import { hasData, type ImportBoardOp, type ImportResult } from '../domain/ops/import-board.js';
import { LogCutter, segmentLimits } from '../store/layout.js';
import { forEachEvent, readSeedDir, type Progress } from './seed-dir.js';
import * as path from 'node:path';

export interface ImportOptions {
  force?: boolean;
  onProgress?: Progress;
  /** The acting agent. */
  by: string;
  /** Where the data came from, for the record (by default the directory's name). */
  source?: string;
}

// Failures that mean the commit was not made (anything else may have reached a remote).
const NOT_COMMITTED = new Set(['INVALID_INPUT', 'CONFLICT', 'NOT_FOUND', 'AMBIGUOUS']);

export async function importSeedDir(
  engine: Engine,
  dir: string,
  opts: ImportOptions,
  mutate: <R>(prepare: Prepare<R>) => Promise<MutationOutcome<R>>,
): Promise<ImportResult & { commit: string | null }> {
  const progress = opts.onProgress;
  const data = readSeedDir(dir, progress);
  // Refuse early what the commit would refuse, before reading a large log.
  const tip = await engine.read();
  if (hasData(tip.world) && !opts.force) {
    throw conflict('the branch already has data; importing would replace it (use --force to replace it)', { version: tip.world.state.version });
  }
  const cutter = new LogCutter(engine.store.objects, segmentLimits(tip.world.state));
  let committing = false;
  try {
    const count = data.eventsFile ? await forEachEvent(data.eventsFile, (line) => cutter.add(line), progress) : 0;
    const log = { ...cutter.finish(), count };
    progress?.('writing one commit');
    committing = true;
    const out = await mutate<ImportResult>((_w, ctx) => ({
      op: 'import',
      at: ctx.at,
      by: opts.by,
      source: opts.source ?? path.basename(path.resolve(dir)),
      force: !!opts.force,
      state: data.state,
      log,
      knowledge: data.knowledge,
      locks: data.locks,
    }) satisfies ImportBoardOp);
    return { ...out.result, commit: out.commit };
  } catch (err) {
    if (!committing || (err instanceof OrchestratorError && NOT_COMMITTED.has(err.code))) {
      for (const oid of cutter.created) fs.rmSync(engine.store.objects.loosePath(oid), { force: true });
    }
    throw err;
  }
}
