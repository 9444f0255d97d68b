import { z } from '../zod.js';
import { known, notFound } from '../../errors.js';
import { shallowState } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { rules } from '../rules.js';

export interface DeleteKnowledgeOp extends OpBase {
  op: 'knowledge.delete';
  topic: string;
}

/** Deletes a topic; NOT_FOUND when it does not exist. */
export const deleteKnowledge: OpSpec<DeleteKnowledgeOp, { topic: string; deleted: true }> = {
  type: 'knowledge.delete',
  params: () => z.object({ topic: rules.topic }),
  apply(world, op) {
    if (!world.topics.includes(op.topic)) {
      throw notFound(`topic "${op.topic}" not found (known: ${known(world.topics)})`, { topic: op.topic });
    }
    return {
      state: shallowState(world.state),
      events: [{ ts: op.at, agent: op.by, action: 'knowledge_deleted', topic: op.topic }],
      knowledge: { [op.topic]: null },
      result: { topic: op.topic, deleted: true },
    };
  },
  subject: (op) => `knowledge delete ${op.topic} by ${op.by}`,
};
