import { z } from '../zod.js';
import { getAgent, shallowState } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { rules } from '../rules.js';
import type { AgentResult } from './register-agent.js';

export interface HeartbeatOp extends OpBase {
  op: 'agent.heartbeat';
  id: string;
  /** No commit when last_seen is younger than this (heartbeat loops stay out of history). */
  min_interval_ms: number;
}

/** Refreshes an agent's last_seen; NOT_FOUND for an unregistered agent. */
export const heartbeat: OpSpec<HeartbeatOp, AgentResult & { recorded: boolean }> = {
  type: 'agent.heartbeat',
  labels: { id: 'agent id', min_interval_ms: 'interval' },
  params: () => z.object({ id: rules.agent, min_interval_ms: z.int().check(z.gte(0)) }),
  apply(world, op) {
    const agent = getAgent(world.state, op.id);
    const age = Date.parse(op.at) - Date.parse(agent.last_seen);
    if (age >= 0 && age < op.min_interval_ms && agent.status === 'active') {
      return { noop: true, result: { id: op.id, ...agent, recorded: false } };
    }
    const state = shallowState(world.state);
    const next = { ...agent, status: 'active', last_seen: op.at };
    state.agents[op.id] = next;
    return { state, events: [], result: { id: op.id, ...next, recorded: true } };
  },
  subject: (op) => `agent heartbeat ${op.id}`,
};
