import { z } from '../zod.js';
import { shallowState } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { LIMITS, rules } from '../rules.js';
import type { Agent } from '../types.js';

export interface RegisterAgentOp extends OpBase {
  op: 'agent.register';
  id: string;
  type: string;
  capabilities: string[];
}

export type AgentResult = Agent & { id: string };

/** Registers an agent, or updates its type and capabilities when it exists. */
export const registerAgent: OpSpec<RegisterAgentOp, AgentResult> = {
  type: 'agent.register',
  labels: { id: 'agent id', type: 'agent type' },
  params: () =>
    z.object({
      id: rules.agent,
      type: rules.agentType,
      capabilities: z.array(rules.capability).check(z.maxLength(LIMITS.capabilities, `at most ${LIMITS.capabilities} capabilities`)),
    }),
  apply(world, op) {
    const previous = Object.prototype.hasOwnProperty.call(world.state.agents, op.id) ? world.state.agents[op.id] : undefined;
    const agent: Agent = {
      type: op.type,
      status: 'active',
      capabilities: [...new Set(op.capabilities)],
      registered_at: previous?.registered_at ?? op.at,
      last_seen: op.at,
    };
    const state = shallowState(world.state);
    state.agents[op.id] = agent;
    return {
      state,
      events: [{ ts: op.at, agent: op.id, action: 'agent_registered', type: op.type }],
      result: { id: op.id, ...agent },
    };
  },
  subject: (op) => `agent register ${op.id} as ${op.type}`,
};
