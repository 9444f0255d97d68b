/**
 * What an operation runs with: the session (for writes), the read view of
 * this call (one snapshot) and the acting agent.
 */
import type { Session } from './session.js';
import type { View } from './view.js';
import type { Surface } from './declare.js';

export interface Ctx {
  readonly session: Session;
  readonly surface: Surface;
  /** The acting agent, or undefined when none is set (asked only by writes and calls with an agent field). */
  readonly actor: string | undefined;
  /** The view this call reads (the same one however often it is asked for). */
  view(): Promise<View>;
}

/** Who a change is recorded as: the agent named, else the acting agent, else "system". */
export function by(ctx: Ctx, agent?: string | null): string {
  return agent ?? ctx.actor ?? 'system';
}
