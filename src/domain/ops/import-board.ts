import { z } from '../zod.js';
import { conflict } from '../../errors.js';
import type { OpBase, OpSpec } from '../op.js';
import { newRecord } from '../own.js';
import { rules } from '../rules.js';
import type { Lock, State, World } from '../types.js';

export interface ImportBoardOp extends OpBase {
  op: 'import';
  /** Where the data came from (a directory name), for the record. */
  source: string;
  /** Replace a branch that already has data. */
  force: boolean;
  state: State;
  /**
   * The imported event log, already written to the store: sealed segments
   * (blob ids, oldest first), the live remainder and how many events in all.
   */
  log: { sealed: string[]; live: string; count: number };
  knowledge: Record<string, string>;
  locks: Record<string, Lock>;
}

export interface ImportResult {
  workstreams: number;
  tasks: number;
  agents: number;
  events: number;
  topics: number;
  locks: number;
}

/**
 * Whether a board holds anything an import would lose: workstreams, agents,
 * knowledge or locks. A branch just made by `init` (or with settings only)
 * holds nothing, so an import needs no force there.
 */
export function hasData(world: World): boolean {
  const { state } = world;
  return Object.keys(state.workstreams).length > 0 || Object.keys(state.agents).length > 0 || world.topics.length > 0 || Object.keys(world.locks).length > 0;
}

/**
 * Replaces the whole board with imported data (an original orchestrator's
 * data directory, validated by the importer). Refused (CONFLICT) when the
 * branch has data (see hasData), unless forced. The data is recorded by
 * blob id, not inline (see the store's recordOp).
 */
export const importBoard: OpSpec<ImportBoardOp, ImportResult> = {
  type: 'import',
  params: () =>
    z.object({
      source: z.string().check(z.maxLength(200)),
      force: z.boolean(),
      state: z.looseObject({ workstreams: z.record(rules.workstream, z.looseObject({ tasks: z.array(z.looseObject({ id: rules.taskId })) })), agents: z.record(rules.agent, z.unknown()) }),
      log: z.object({ sealed: z.array(z.string().check(z.regex(/^[0-9a-f]{40}$/))), live: z.string(), count: z.int().check(z.gte(0)) }),
      knowledge: z.record(rules.topic, rules.knowledge),
      locks: z.record(rules.resource, z.looseObject({ agent: rules.agent, acquired_at: z.string(), ttl_ms: z.number(), expires_at: z.string() })),
    }),
  apply(world, op) {
    if (hasData(world) && !op.force) {
      throw conflict('the branch already has data; importing would replace it (use --force to replace it)', { version: world.state.version });
    }
    // The branch's settings (how its log is cut) stay the branch's.
    const state: State = { ...op.state, version: Math.max(op.state.version, world.state.version) };
    if (world.state.settings) state.settings = world.state.settings;
    const counts: ImportResult = {
      workstreams: Object.keys(state.workstreams).length,
      tasks: Object.values(state.workstreams).reduce((n, ws) => n + ws.tasks.length, 0),
      agents: Object.keys(state.agents).length,
      events: op.log.count,
      topics: Object.keys(op.knowledge).length,
      locks: Object.keys(op.locks).length,
    };
    const knowledge = newRecord<string | null>(op.knowledge);
    for (const t of world.topics) if (!Object.hasOwn(knowledge, t)) knowledge[t] = null;
    const locks = newRecord<Lock | null>(op.locks);
    for (const r of Object.keys(world.locks)) if (!Object.hasOwn(locks, r)) locks[r] = null;
    return {
      state,
      replaceEvents: true,
      log: { sealed: op.log.sealed, live: op.log.live },
      events: [{ ts: op.at, agent: op.by, action: 'imported', source: op.source, ...counts }],
      knowledge,
      locks,
      result: counts,
    };
  },
  subject: (op) => `import ${op.source}${op.force ? ' (replacing the branch)' : ''}`,
};
