/** The knowledge base: one markdown file per topic. */
import { known, OrchestratorError } from '../../errors.js';
import type { DeleteKnowledgeOp } from '../../domain/ops/delete-knowledge.js';
import type { WriteKnowledgeOp } from '../../domain/ops/write-knowledge.js';
import { by, type Ctx } from '../context.js';

export function write(ctx: Ctx, i: { topic: string; content: string; agent?: string }): Promise<{ topic: string; bytes: number; created: boolean }> {
  return ctx.session.run((_w, c) => ({ op: 'knowledge.write', at: c.at, by: by(ctx, i.agent), topic: i.topic, content: i.content }) satisfies WriteKnowledgeOp);
}

/** A topic with its content; NOT_FOUND names the topics there are. */
export async function read(ctx: Ctx, i: { topic: string }): Promise<{ topic: string; content: string }> {
  const view = await ctx.view();
  const content = await view.knowledge(i.topic);
  if (content === null) throw new OrchestratorError('NOT_FOUND', `no knowledge on "${i.topic}" (known: ${known(view.world.topics)})`, { topic: i.topic });
  return { topic: i.topic, content };
}

export async function remove(ctx: Ctx, i: { topic: string; agent?: string }): Promise<{ topic: string; deleted: true }> {
  await ctx.session.run((_w, c) => ({ op: 'knowledge.delete', at: c.at, by: by(ctx, i.agent), topic: i.topic }) satisfies DeleteKnowledgeOp);
  return { topic: i.topic, deleted: true };
}

export async function list(ctx: Ctx): Promise<string[]> {
  return [...(await ctx.view()).world.topics];
}
