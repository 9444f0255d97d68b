/**
 * What happened in a cycle, read from git history: the commits after the
 * last cycle marker (or after a given commit or time). Pure over the log
 * entries and the current world.
 */
import { taskIndex } from './draft.js';
import type { World } from './types.js';
import type { LogEntry } from './types.js';

export interface Collected {
  collected_at: string;
  /** The commit (or time) the cycle started after, null for the beginning. */
  since: string | null;
  commits: number;
  completed_this_cycle: Array<{ workstream: string; task_id: string; title: string; result: string | null; agent: string; at: string }>;
  failed_this_cycle: Array<{ workstream: string; task_id: string; title: string; reason: string; agent: string; at: string }>;
  still_in_progress: Array<{ workstream: string; task_id: string; title: string; assigned_to: string | null }>;
  /** Topics written in the cycle that exist now, each once (the original's list of strings). */
  knowledge_updates: string[];
  /** Every knowledge write and delete of the cycle, oldest first. */
  knowledge_changes: Array<{ topic: string; agent: string; at: string; deleted?: true }>;
  agents_active: string[];
}

/**
 * `entries` are the cycle's commits, newest first (as the log reads them).
 * `archived`: titles of tasks moved to the archive since (state.json no
 * longer has them), by id.
 */
export function collect(entries: LogEntry[], world: World, since: string | null, nowIso: string, archived: ReadonlyMap<string, string> = new Map()): Collected {
  const byId = taskIndex(world.state);
  const out: Collected = {
    collected_at: nowIso,
    since,
    commits: entries.length,
    completed_this_cycle: [],
    failed_this_cycle: [],
    still_in_progress: [],
    knowledge_updates: [],
    knowledge_changes: [],
    agents_active: [],
  };
  const agents = new Set<string>();
  for (const e of [...entries].reverse()) {
    const op = e.op ?? {};
    if (e.agent !== 'system') agents.add(e.agent);
    const id = String(op.id ?? '');
    const ws = String(op.workstream ?? '');
    const title = byId.get(id)?.title ?? archived.get(id) ?? '';
    if (op.op === 'task.complete') {
      out.completed_this_cycle.push({ workstream: ws, task_id: id, title, result: (op.result as string | null) ?? null, agent: e.agent, at: e.time });
    } else if (op.op === 'task.fail') {
      out.failed_this_cycle.push({ workstream: ws, task_id: id, title, reason: String(op.reason ?? ''), agent: e.agent, at: e.time });
    } else if (op.op === 'knowledge.write' || op.op === 'knowledge.delete') {
      out.knowledge_changes.push({ topic: String(op.topic), agent: e.agent, at: e.time, ...(op.op === 'knowledge.delete' ? { deleted: true as const } : {}) });
    }
  }
  for (const [name, ws] of Object.entries(world.state.workstreams)) {
    for (const t of ws.tasks) if (t.status === 'in_progress') out.still_in_progress.push({ workstream: name, task_id: t.id, title: t.title, assigned_to: t.assigned_to });
  }
  const existing = new Set(world.topics);
  out.knowledge_updates = [...new Set(out.knowledge_changes.filter((k) => !k.deleted && existing.has(k.topic)).map((k) => k.topic))];
  out.agents_active = [...agents].sort();
  return out;
}
