import * as z from 'zod/mini';
import { invalid } from '../../errors.js';
import { shallowState } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { LIMITS, rules } from '../rules.js';
import type { OrcEvent } from '../types.js';

export interface LogEventOp extends OpBase {
  op: 'event.log';
  agent: string;
  action: string;
  data: Record<string, unknown>;
}

const RESERVED = ['ts', 'agent', 'action'];

/** Appends a custom event `{ts, agent, action, ...data}` (the original's logEvent). */
export const logEvent: OpSpec<LogEventOp, OrcEvent> = {
  type: 'event.log',
  params: () =>
    z.object({
      agent: z.union([z.literal('system'), rules.agent]),
      action: rules.action,
      data: z.record(z.string(), z.unknown()),
    }),
  apply(world, op) {
    for (const key of RESERVED) {
      if (Object.prototype.hasOwnProperty.call(op.data, key)) throw invalid(`event data must not set "${key}" (it is set by the log)`, { field: key });
    }
    const size = Buffer.byteLength(JSON.stringify(op.data));
    if (size > LIMITS.eventData) throw invalid(`event data is ${size} bytes; at most ${LIMITS.eventData} are allowed`, { bytes: size });
    const event: OrcEvent = { ts: op.at, agent: op.agent, action: op.action, ...op.data };
    return { state: shallowState(world.state), events: [event], result: event };
  },
  subject: (op) => `event ${op.action} by ${op.agent}`,
};
