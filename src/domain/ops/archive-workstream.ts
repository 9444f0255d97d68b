import { z } from '../zod.js';
import { conflict } from '../../errors.js';
import { getWorkstream, shallowState } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { rules } from '../rules.js';
import type { Workstream } from '../types.js';
import type { WorkstreamResult } from './create-workstream.js';

export interface ArchiveWorkstreamOp extends OpBase {
  op: 'workstream.archive';
  name: string;
}

export const ARCHIVED = 'archived';

/**
 * Archives a finished (or abandoned) workstream. What a user can expect:
 *
 * - It is refused (CONFLICT, naming them) while the workstream has tasks
 *   pending or in progress: finish, fail or delete them first, so no work
 *   is ever stranded where `next` and the plan no longer look.
 * - It is refused (CONFLICT) while a task of another workstream that is not
 *   done depends on one of its tasks that is not done (that task would wait
 *   forever).
 * - The workstream stays in state.json, tasks and all, with status
 *   "archived" and `archived_at`; its done tasks can still be moved to the
 *   archive files. Default lists (workstream list, status, plan) hide it.
 * - It takes no new tasks, and its tasks can no longer be edited or
 *   released (CONFLICT); its name stays taken. Archiving it again is a
 *   CONFLICT.
 *
 * Event: `workstream_archived` with the number of tasks it keeps.
 */
export const archiveWorkstream: OpSpec<ArchiveWorkstreamOp, WorkstreamResult> = {
  type: 'workstream.archive',
  params: () => z.object({ name: rules.workstream }),
  apply(world, op) {
    const ws = getWorkstream(world.state, op.name);
    if (ws.status === ARCHIVED) throw conflict(`workstream "${op.name}" is already archived`, { workstream: op.name });
    const open = ws.tasks.filter((t) => t.status === 'pending' || t.status === 'in_progress');
    if (open.length) {
      const list = open.slice(0, 10).map((t) => `"${t.id}" (${t.status}${t.assigned_to ? `, ${t.assigned_to}` : ''})`);
      throw conflict(
        `workstream "${op.name}" has ${open.length} task${open.length === 1 ? '' : 's'} pending or in progress: ${list.join(', ')}${open.length > 10 ? ', ...' : ''}; complete, fail or delete them first`,
        { workstream: op.name, tasks: open.map((t) => t.id) },
      );
    }
    const unfinished = new Set(ws.tasks.filter((t) => t.status !== 'done').map((t) => t.id));
    const waiting: string[] = [];
    for (const [name, other] of Object.entries(world.state.workstreams)) {
      if (name === op.name) continue;
      for (const t of other.tasks) if (t.status !== 'done' && t.depends_on?.some((d) => unfinished.has(d))) waiting.push(`"${t.id}" (${name})`);
    }
    if (waiting.length) {
      throw conflict(`tasks of other workstreams wait for unfinished tasks of "${op.name}": ${waiting.join(', ')}; edit their dependencies first`, { workstream: op.name });
    }
    const archived: Workstream = { ...ws, status: ARCHIVED, archived_at: op.at };
    const state = shallowState(world.state);
    state.workstreams[op.name] = archived;
    return {
      state,
      events: [{ ts: op.at, agent: op.by, action: 'workstream_archived', workstream: op.name, tasks: ws.tasks.length }],
      result: { name: op.name, ...archived },
    };
  },
  subject: (op) => `workstream archive ${op.name} by ${op.by}`,
};

/** Refuses changing the tasks of an archived workstream (CONFLICT), naming what was tried. */
export function refuseIfArchived(ws: Workstream, name: string, doing: string): void {
  if (ws.status === ARCHIVED) {
    throw conflict(`workstream "${name}" is archived (since ${ws.archived_at ?? 'an earlier change'}); cannot ${doing}`, { workstream: name, archived_at: ws.archived_at ?? null });
  }
}
