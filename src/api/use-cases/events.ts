/** The event log: custom events and filtered reads. */
import { OrchestratorError } from '../../errors.js';
import type { EventFilter } from '../../domain/queries.js';
import { checkEventData, type LogEventOp } from '../../domain/ops/log-event.js';
import type { OrcEvent } from '../../domain/types.js';
import type { Ctx } from '../context.js';
import { byWho, type Planner } from '../declare.js';

/** Appends a custom event `{ts, agent, action, ...data}` (the original's logEvent). */
export const log: Planner<{ agent?: string; action: string; data: Record<string, unknown> }, OrcEvent> = (_w, c, i, who) => {
  const data = i.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new OrchestratorError('INVALID_INPUT', 'event data must be a JSON object', { field: 'data' });
  }
  checkEventData(data);
  const agent = byWho(who, i.agent);
  return { op: 'event.log', at: c.at, by: agent, agent, action: i.action, data: JSON.parse(JSON.stringify(data)) } satisfies LogEventOp;
};

/** Events, oldest first, filtered; `last` 0 means all. */
export async function list(ctx: Ctx, i: EventFilter): Promise<OrcEvent[]> {
  return (await ctx.view()).events({ ...i, last: i.last === 0 ? undefined : i.last });
}
