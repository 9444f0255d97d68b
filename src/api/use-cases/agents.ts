/** Agents: register, heartbeat, list. */
import { listAgents, type AgentView } from '../../domain/queries.js';
import type { AgentResult, RegisterAgentOp } from '../../domain/ops/register-agent.js';
import type { HeartbeatOp } from '../../domain/ops/heartbeat.js';
import type { Ctx } from '../context.js';
import type { Planner } from '../declare.js';

export const register: Planner<{ id: string; type: string; capabilities: string[] }, AgentResult> = (_w, c, i) =>
  ({ op: 'agent.register', at: c.at, by: i.id, id: i.id, type: i.type, capabilities: i.capabilities }) satisfies RegisterAgentOp;

/**
 * Records that an agent is alive. Commits only when last_seen is older than
 * half the stale window, so heartbeat loops do not flood history.
 */
export const heartbeat: Planner<{ id: string }, AgentResult & { recorded: boolean }> = (_w, c, i, who) =>
  ({ op: 'agent.heartbeat', at: c.at, by: i.id, id: i.id, min_interval_ms: Math.floor(who.staleMs / 2) }) satisfies HeartbeatOp;

export async function list(ctx: Ctx): Promise<AgentView[]> {
  const view = await ctx.view();
  return listAgents(view.state, view.now, view.staleMs);
}
