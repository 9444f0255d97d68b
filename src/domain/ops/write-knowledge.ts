import { z } from '../zod.js';
import { shallowState } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { rules } from '../rules.js';

export interface WriteKnowledgeOp extends OpBase {
  op: 'knowledge.write';
  topic: string;
  content: string;
}

/** Writes `knowledge/<topic>.md` with exactly the content given. */
export const writeKnowledge: OpSpec<WriteKnowledgeOp, { topic: string; bytes: number; created: boolean }> = {
  type: 'knowledge.write',
  params: () => z.object({ topic: rules.topic, content: rules.knowledge }),
  apply(world, op) {
    const created = !world.topics.includes(op.topic);
    return {
      state: shallowState(world.state),
      events: [{ ts: op.at, agent: op.by, action: 'knowledge_written', topic: op.topic }],
      knowledge: { [op.topic]: op.content },
      result: { topic: op.topic, bytes: Buffer.byteLength(op.content), created },
    };
  },
  subject: (op) => `knowledge write ${op.topic} by ${op.by}`,
};
