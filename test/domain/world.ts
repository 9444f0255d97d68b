/** A fixed clock and an in-memory world for domain tests: operations applied in order, as the store would. */
import { applyOp } from '../../src/domain/apply.js';
import { isNoChange, type OpBase } from '../../src/domain/op.js';
import { emptyState, type Effect, type World } from '../../src/domain/types.js';
import { OrchestratorError } from '../../src/errors.js';

export const T0 = Date.parse('2026-01-01T00:00:00.000Z');
export const at = (ms = 0) => new Date(T0 + ms).toISOString();

export function world(): World {
  return { state: emptyState(at()), locks: {}, topics: [] };
}

export type OpInput = Partial<OpBase> & Record<string, unknown>;

/** Applies ops in order, carrying the world forward like the store does. */
export function run(w: World, ...ops: OpInput[]): { world: World; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const o of ops) {
    const op = { at: at(), by: 'system', ...o } as OpBase;
    const out = applyOp(w, op);
    if (isNoChange(out)) continue;
    effects.push(out);
    const locks = { ...w.locks };
    for (const [r, l] of Object.entries(out.locks ?? {})) {
      if (l) locks[r] = l;
      else delete locks[r];
    }
    let topics = [...w.topics];
    for (const [t, c] of Object.entries(out.knowledge ?? {})) {
      topics = topics.filter((x) => x !== t);
      if (c !== null) topics.push(t);
    }
    w = { state: out.state, locks, topics };
  }
  return { world: w, effects };
}

export function refused(f: () => unknown): OrchestratorError {
  try {
    f();
  } catch (err) {
    if (err instanceof OrchestratorError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

export const ws = (name = 'revenue') => ({ op: 'workstream.create', name, description: name, priority: 1 });
export const task = (id: string, extra: Record<string, unknown> = {}) => ({
  op: 'task.add',
  workstream: 'revenue',
  id,
  title: `Task ${id}`,
  description: '',
  priority: 5,
  estimate: null,
  ...extra,
});
