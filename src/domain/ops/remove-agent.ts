import { z } from '../zod.js';
import { conflict } from '../../errors.js';
import { getAgent, shallowState } from '../draft.js';
import { isTakeable } from '../locks.js';
import type { OpBase, OpSpec } from '../op.js';
import { newRecord } from '../own.js';
import { rules } from '../rules.js';
import type { Lock, OrcEvent } from '../types.js';

export interface RemoveAgentOp extends OpBase {
  op: 'agent.remove';
  id: string;
  /** Remove it even while it holds tasks in progress or live locks. */
  force?: boolean;
}

export interface RemoveAgentResult {
  id: string;
  removed: true;
  /** Its tasks that went back to pending. */
  requeued: Array<{ workstream: string; id: string }>;
  /** Its locks that were released (live ones only when forced; expired ones always). */
  released: string[];
}

/**
 * Removes a registered agent (NOT_FOUND otherwise). Refused (CONFLICT,
 * naming them) while it has tasks in progress or holds a live lock, unless
 * `force`: then, in the same commit, its tasks go back to pending and
 * unassigned (`task_requeued`, reason "agent_removed") and its locks are
 * released (`lock_released`, forced). Locks of its that expired (past the
 * clock-skew margin, so anyone could take them) are removed without force
 * (`lock_expired`). Its done and failed tasks keep its name: they are the
 * record of what it did. It may register again later.
 *
 * Event: `agent_removed` with `agent_id`, its type and what was requeued and released.
 */
export const removeAgent: OpSpec<RemoveAgentOp, RemoveAgentResult> = {
  type: 'agent.remove',
  labels: { id: 'agent id' },
  params: () => z.object({ id: rules.agent, force: z.optional(z.boolean()) }),
  apply(world, op) {
    const agent = getAgent(world.state, op.id);
    const at = Date.parse(op.at);
    const tasks: Array<{ workstream: string; id: string }> = [];
    for (const [name, ws] of Object.entries(world.state.workstreams)) {
      for (const t of ws.tasks) if (t.status === 'in_progress' && t.assigned_to === op.id) tasks.push({ workstream: name, id: t.id });
    }
    const own = Object.values(world.locks).filter((l) => l.agent === op.id).sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));
    const live = own.filter((l) => !isTakeable(l, at));
    if ((tasks.length || live.length) && !op.force) {
      const held = [...tasks.map((t) => `task ${t.workstream}/${t.id} (in progress)`), ...live.map((l) => `lock ${JSON.stringify(l.resource)} (until ${l.expires_at})`)];
      throw conflict(`agent "${op.id}" holds ${held.join(', ')}; finish or release them first, or remove it with force (its tasks go back to pending, its locks are released)`, {
        agent: op.id,
        tasks: tasks.map((t) => t.id),
        locks: live.map((l) => l.resource),
      });
    }
    const state = shallowState(world.state);
    delete state.agents[op.id];
    const events: OrcEvent[] = [];
    for (const { workstream, id } of tasks) {
      const ws = { ...state.workstreams[workstream] };
      ws.tasks = ws.tasks.map((t) => (t.id === id ? { ...t, status: 'pending' as const, assigned_to: null, updated_at: op.at } : t));
      state.workstreams[workstream] = ws;
      events.push({ ts: op.at, agent: op.by, action: 'task_requeued', workstream, task_id: id, previous_agent: op.id, reason: 'agent_removed' });
    }
    const locks = newRecord<Lock | null>();
    for (const l of own) {
      locks[l.resource] = null;
      events.push(
        isTakeable(l, at)
          ? { ts: op.at, agent: 'system', action: 'lock_expired', resource: l.resource, holder: op.id, expired_at: l.expires_at }
          : { ts: op.at, agent: op.by, action: 'lock_released', resource: l.resource, forced: true, holder: op.id },
      );
    }
    const released = own.map((l) => l.resource);
    events.push({ ts: op.at, agent: op.by, action: 'agent_removed', agent_id: op.id, type: agent.type, requeued: tasks.map((t) => t.id), released });
    return { state, events, ...(own.length ? { locks } : {}), result: { id: op.id, removed: true, requeued: tasks, released } };
  },
  subject: (op) => `agent remove ${op.id} by ${op.by}${op.force ? ' (forced)' : ''}`,
};
