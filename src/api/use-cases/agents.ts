/** Agents: register, heartbeat, list. */
import { listAgents, type AgentView } from '../../domain/queries.js';
import type { AgentResult, RegisterAgentOp } from '../../domain/ops/register-agent.js';
import type { HeartbeatOp } from '../../domain/ops/heartbeat.js';
import type { Ctx } from '../context.js';

export function register(ctx: Ctx, i: { id: string; type: string; capabilities: string[] }): Promise<AgentResult> {
  return ctx.session.run((_w, c) => ({ op: 'agent.register', at: c.at, by: i.id, id: i.id, type: i.type, capabilities: i.capabilities }) satisfies RegisterAgentOp);
}

/**
 * Records that an agent is alive. Commits only when last_seen is older than
 * half the stale window, so heartbeat loops do not flood history.
 */
export function heartbeat(ctx: Ctx, i: { id: string }): Promise<AgentResult & { recorded: boolean }> {
  const min = Math.floor(ctx.session.staleMs / 2);
  return ctx.session.run((_w, c) => ({ op: 'agent.heartbeat', at: c.at, by: i.id, id: i.id, min_interval_ms: min }) satisfies HeartbeatOp);
}

export async function list(ctx: Ctx): Promise<AgentView[]> {
  const view = await ctx.view();
  return listAgents(view.state, view.now, view.staleMs);
}
