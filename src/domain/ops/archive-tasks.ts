import { z } from '../zod.js';
import { conflict, invalid } from '../../errors.js';
import { shallowState } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import { formatOf } from '../types.js';
import { rules } from '../rules.js';
import type { Task } from '../types.js';

export interface ArchiveTasksOp extends OpBase {
  op: 'task.archive';
  /** Done tasks to move out of state.json, by id. */
  ids: string[];
}

/** The archive file a task goes to: one per month of its last update. */
export function archiveFile(task: Task): string {
  return `${task.updated_at.slice(0, 7)}.jsonl`;
}

/**
 * Moves done tasks out of state.json into archive/<YYYY-MM>.jsonl (one JSON
 * line per task, with its workstream); each workstream counts the tasks it
 * archived (`archived_tasks`), so its done count stays. A task that an
 * unfinished task depends on stays. CONFLICT for tasks that are not done.
 */
export const archiveTasks: OpSpec<ArchiveTasksOp, { archived: number; files: string[] }> = {
  type: 'task.archive',
  labels: { ids: 'task id' },
  params: () => z.object({ ids: z.array(rules.taskId).check(z.minLength(1, 'name at least one task'), z.maxLength(1_000_000, 'too many tasks')) }),
  apply(world, op) {
    const wanted = new Set(op.ids);
    if (wanted.size !== op.ids.length) throw invalid('a task is listed twice');
    const needed = new Set<string>();
    for (const ws of Object.values(world.state.workstreams)) for (const t of ws.tasks) if (t.status !== 'done') for (const d of t.depends_on ?? []) needed.add(d);
    const state = shallowState(world.state);
    const lines: Record<string, string> = {};
    let found = 0;
    for (const [name, ws] of Object.entries(world.state.workstreams)) {
      if (!ws.tasks.some((t) => wanted.has(t.id))) continue;
      const keep: Task[] = [];
      let moved = 0;
      for (const t of ws.tasks) {
        if (!wanted.has(t.id)) {
          keep.push(t);
          continue;
        }
        found++;
        moved++;
        if (t.status !== 'done') throw conflict(`task "${t.id}" is ${t.status}; only done tasks are archived`, { task_id: t.id, status: t.status });
        if (needed.has(t.id)) throw conflict(`task "${t.id}" is a dependency of an unfinished task; it stays until that is done`, { task_id: t.id });
        const file = archiveFile(t);
        lines[file] = (lines[file] ?? '') + JSON.stringify({ workstream: name, ...t }) + '\n';
      }
      // The workstream keeps counting them as done (format 2; a branch written before replays as it was).
      state.workstreams[name] = formatOf(world.state) >= 2 ? { ...ws, tasks: keep, archived_tasks: (ws.archived_tasks ?? 0) + moved } : { ...ws, tasks: keep };
    }
    if (found !== wanted.size) throw invalid(`${wanted.size - found} of the tasks to archive do not exist`);
    const files = Object.keys(lines).sort();
    return {
      state,
      events: [{ ts: op.at, agent: op.by, action: 'tasks_archived', count: found, files }],
      archive: lines,
      result: { archived: found, files },
    };
  },
  subject: (op) => `archive ${op.ids.length} done task${op.ids.length === 1 ? '' : 's'} by ${op.by}`,
};
