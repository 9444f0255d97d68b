import { z } from '../zod.js';
import { invalid } from '../../errors.js';
import { shallowState } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { protoKeyPath } from '../own.js';
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
      // Not z.record: it drops a "__proto__" key silently; such a key is refused below instead.
      data: z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be a JSON object'),
    }),
  apply(world, op) {
    checkEventData(op.data);
    const size = Buffer.byteLength(JSON.stringify(op.data));
    if (size > LIMITS.eventData) throw invalid(`event data is ${size} bytes; at most ${LIMITS.eventData} are allowed`, { bytes: size });
    const proto = protoKeyPath(op.data);
    if (proto !== null) {
      throw invalid(`event data must not use the key "__proto__" (at ${proto}): JavaScript readers of the log would take it for the object's prototype`, { field: proto });
    }
    for (const key of RESERVED) {
      if (Object.prototype.hasOwnProperty.call(op.data, key)) throw invalid(`event data must not set "${key}" (it is set by the log)`, { field: key });
    }
    const event: OrcEvent = { ts: op.at, agent: op.agent, action: op.action, ...op.data };
    return { state: shallowState(world.state), events: [event], result: event };
  },
  subject: (op) => `event ${op.action} by ${op.agent}`,
};

/**
 * Refuses event data nested deeper than LIMITS.eventDepth (INVALID_INPUT),
 * before anything recursive (JSON.stringify) reads it. Iterative.
 */
export function checkEventData(data: unknown): void {
  const stack: Array<[unknown, number]> = [[data, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > LIMITS.eventDepth) throw invalid(`event data nests deeper than ${LIMITS.eventDepth} levels`, { field: 'data' });
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, depth + 1]);
  }
}
