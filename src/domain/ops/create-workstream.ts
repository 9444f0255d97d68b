import { z } from '../zod.js';
import { conflict } from '../../errors.js';
import { shallowState } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { rules } from '../rules.js';
import type { Workstream } from '../types.js';

export interface CreateWorkstreamOp extends OpBase {
  op: 'workstream.create';
  name: string;
  description: string;
  priority: number;
}

export type WorkstreamResult = Workstream & { name: string };

/** Creates a workstream; refused (CONFLICT) when the name exists. */
export const createWorkstream: OpSpec<CreateWorkstreamOp, WorkstreamResult> = {
  type: 'workstream.create',
  labels: { description: 'description' },
  params: () => z.object({ name: rules.workstream, description: rules.text, priority: rules.priority }),
  apply(world, op) {
    if (Object.prototype.hasOwnProperty.call(world.state.workstreams, op.name)) {
      const archived = world.state.workstreams[op.name].archived_at ? ' (archived)' : '';
      throw conflict(`workstream "${op.name}" already exists${archived}`, { workstream: op.name });
    }
    const ws: Workstream = { description: op.description, priority: op.priority, status: 'active', tasks: [], created_at: op.at };
    const state = shallowState(world.state);
    state.workstreams[op.name] = ws;
    return {
      state,
      events: [{ ts: op.at, agent: op.by, action: 'workstream_created', workstream: op.name }],
      result: { name: op.name, ...ws },
    };
  },
  subject: (op) => `workstream create ${op.name} by ${op.by}`,
};
