/**
 * `prime`: what an agent session needs at its start (see domain/prime.ts),
 * with the commands of its loop taken from the declarations: the operations
 * offered as MCP tools are the agent's loop, shown as CLI commands or tools.
 */
import { primeText } from '../../domain/prime.js';
import { activeLocks, readyTasks } from '../../domain/queries.js';
import type { Task } from '../../domain/types.js';
import type { AnyDeclaration } from '../declare.js';
import { cliUsage } from '../declare.js';
import type { Ctx } from '../context.js';

export async function prime(ctx: Ctx, i: { via: 'cli' | 'mcp'; command?: string; agent?: string }, loop: readonly AnyDeclaration[]): Promise<{ agent: string | null; markdown: string }> {
  const view = await ctx.view();
  const where = await ctx.session.where();
  const agent = i.agent;
  const mine: Array<Task & { workstream: string }> = [];
  for (const [name, ws] of Object.entries(view.state.workstreams)) for (const t of ws.tasks) if (agent && t.status === 'in_progress' && t.assigned_to === agent) mine.push({ ...t, workstream: name });
  const commands: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const d of loop) {
    if (i.via === 'mcp') {
      if (!d.mcp || seen.has(d.mcp.tool)) continue;
      seen.add(d.mcp.tool);
      commands.push([d.mcp.tool, d.summary]);
    } else if (d.cli) commands.push([`${i.command ?? 'orchestrator'} ${cliUsage(d, agent)}`, d.summary]);
  }
  const markdown = primeText({
    agent,
    branch: where.branch,
    remote: where.remote,
    commit: view.commit,
    mine,
    locks: activeLocks(view.world.locks, view.now).filter((l) => agent && l.agent === agent),
    ready: readyTasks(view.state),
    commands,
    via: i.via,
  });
  return { agent: agent ?? null, markdown };
}
