/**
 * Applies one recorded operation to a world: the operation's own change, then
 * what every mutation does (state version +1, updated_at, and the acting
 * agent's last_seen, all in the same commit). Pure and deterministic.
 */
import { OrchestratorError } from '../errors.js';
import { isNoChange, validateOp, type NoChange, type OpBase } from './op.js';
import { specOf } from './ops/index.js';
import type { Effect, World } from './types.js';

export function applyOp<R = unknown>(world: World, op: OpBase): Effect<R> | NoChange<R> {
  const spec = specOf(op);
  if (!spec) throw new OrchestratorError('INVALID_INPUT', `unknown operation "${op.op}"`, { op: op.op });
  const valid = validateOp(spec, op);
  // Each operation carries its writer's own clock: a clock that runs ahead
  // decides only for its own operations (verify and the receive hook flag
  // it), never for the writers after it. Time along the branch may therefore
  // step back by as much as clocks disagree.
  const out = spec.apply(world, valid) as Effect<R> | NoChange<R>;
  if (isNoChange(out)) return out;
  const state = out.state === world.state ? { ...world.state } : out.state;
  // An import keeps the imported version when it is ahead.
  state.version = Math.max(world.state.version, op.op === 'import' ? state.version : 0) + 1;
  state.updated_at = op.at;
  // An import keeps the imported agents' last_seen, the importer's too.
  if (op.by !== 'system' && op.op !== 'import' && Object.prototype.hasOwnProperty.call(state.agents, op.by)) {
    const agent = state.agents[op.by];
    if (agent.last_seen !== op.at || agent.status !== 'active') {
      if (state.agents === world.state.agents) state.agents = { ...state.agents };
      state.agents[op.by] = { ...agent, status: 'active', last_seen: op.at };
    }
  }
  return { ...out, state };
}

export function subjectOf(op: OpBase): string {
  const spec = specOf(op);
  return spec ? spec.subject(op) : op.op;
}
