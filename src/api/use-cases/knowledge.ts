/** The knowledge base: one markdown file per topic. */
import { known, OrchestratorError } from '../../errors.js';
import type { DeleteKnowledgeOp } from '../../domain/ops/delete-knowledge.js';
import type { WriteKnowledgeOp } from '../../domain/ops/write-knowledge.js';
import type { Ctx } from '../context.js';
import { byWho, type Planner } from '../declare.js';

export const write: Planner<{ topic: string; content: string; agent?: string }, { topic: string; bytes: number; created: boolean }> = (_w, c, i, who) =>
  ({ op: 'knowledge.write', at: c.at, by: byWho(who, i.agent), topic: i.topic, content: i.content }) satisfies WriteKnowledgeOp;

/** A topic with its content; NOT_FOUND names the topics there are. */
export async function read(ctx: Ctx, i: { topic: string }): Promise<{ topic: string; content: string }> {
  const view = await ctx.view();
  const content = await view.knowledge(i.topic);
  if (content === null) throw new OrchestratorError('NOT_FOUND', `no knowledge on "${i.topic}" (known: ${known(view.world.topics)})`, { topic: i.topic });
  return { topic: i.topic, content };
}

export const remove: Planner<{ topic: string; agent?: string }, { topic: string; deleted: true }> = (_w, c, i, who) =>
  ({ op: 'knowledge.delete', at: c.at, by: byWho(who, i.agent), topic: i.topic }) satisfies DeleteKnowledgeOp;

export async function list(ctx: Ctx): Promise<string[]> {
  return [...(await ctx.view()).world.topics];
}
