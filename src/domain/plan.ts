/**
 * The cycle plan: what each idle agent should do next. Pure: it reads a
 * world and the time.
 *
 * - Ready tasks (pending, dependencies done) per workstream, most urgent first.
 * - Idle agents: registered, not stale, nothing in progress.
 * - A suggested assignment: the tasks that run are the most urgent ready ones
 *   (workstream priority, then task priority and age), as many as there are
 *   idle agents; each goes to the idle agent whose capabilities match it best
 *   (the workstream's name, the task's resources or title words), best
 *   matches first; the rest go to the remaining agents in order.
 * - Tasks that need one resource are never planned in parallel: the first
 *   is assigned, the others listed as serial; a resource held by a lock or a
 *   task in progress makes its tasks wait.
 * - Stale agents, with the tasks they hold, to requeue.
 */
import { oneLine } from './text.js';
import { isActive } from './locks.js';
import { listAgents, readyTasks } from './queries.js';
import type { Task, World } from './types.js';

export interface PlannedTask {
  workstream: string;
  id: string;
  title: string;
  priority: number;
  needs: string[];
}

/** A task to run this cycle, one per workstream at most (the original's `recommended_parallel`). */
export interface Recommended {
  workstream: string;
  /** The task as stored. */
  task: Task;
  /** The idle agent the assignment gives it to, or null when none is free. */
  agent: string | null;
}

export interface PlanWorkstream {
  name: string;
  priority: number;
  /** The next ready task (dependencies done), most urgent first, as stored; null when none is ready. */
  next_task: Task | null;
  /** The original's name for `pending`. */
  pending_count: number;
  pending: number;
  in_progress: number;
  ready: PlannedTask[];
}

/**
 * The cycle plan. The original's fields (`generated_at`, `workstreams` with
 * work, `recommended_parallel`, `recommended_serial`) come first; the rest
 * is this project's: who should take what, what waits, who went stale.
 */
export interface Plan<R extends Recommended = Recommended> {
  generated_at: string;
  /** Workstreams with pending work or work in progress, most urgent first. */
  workstreams: PlanWorkstream[];
  /**
   * Per workstream, the first ready task that can run now beside the others
   * (its resources free and not needed by a more urgent task).
   */
  recommended_parallel: R[];
  /** Ready tasks that need the same resource: run one at a time. */
  recommended_serial: Array<{ reason: string; tasks: string[]; resource: string }>;
  commit: string | null;
  idle_agents: string[];
  assignments: Array<PlannedTask & { agent: string; reason: string }>;
  /** Ready tasks left for later because they need a resource another task uses. */
  serial: Array<{ resource: string; tasks: string[]; reason: string }>;
  /** Ready tasks that wait for a resource held now (by a lock or a task in progress). */
  waiting: Array<PlannedTask & { resource: string; held_by: string }>;
  stale_agents: Array<{ agent: string; last_seen: string; tasks: string[] }>;
  unassigned: PlannedTask[];
}

function planned(t: Task & { workstream: string }): PlannedTask {
  return { workstream: t.workstream, id: t.id, title: t.title, priority: t.priority, needs: t.needs ?? [] };
}

function words(s: string): Set<string> {
  return new Set(s.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 2));
}

/** How well an agent fits a task: capabilities naming its workstream, resources or title words. */
export function fit(capabilities: string[], t: PlannedTask): { score: number; reason: string } {
  const caps = capabilities.map((c) => c.toLowerCase());
  const matched: string[] = [];
  let score = 0;
  if (caps.includes(t.workstream.toLowerCase())) {
    score += 4;
    matched.push(t.workstream);
  }
  for (const n of t.needs) if (caps.includes(n.toLowerCase())) (score += 2), matched.push(n);
  const w = words(t.title);
  for (const c of caps) if (w.has(c)) (score += 1), matched.push(c);
  return { score, reason: matched.length ? `capabilities match: ${[...new Set(matched)].join(', ')}` : 'no capability match; next by priority' };
}

export function makePlan(world: World, commit: string | null, nowMs: number, staleMs: number): Plan {
  const state = world.state;
  const agents = listAgents(state, nowMs, staleMs);
  const inProgress = Object.entries(state.workstreams).flatMap(([name, ws]) => ws.tasks.filter((t) => t.status === 'in_progress').map((t) => ({ ...t, workstream: name })));
  const busy = new Set(inProgress.map((t) => t.assigned_to).filter(Boolean));
  const stale = agents.filter((a) => a.stale);
  const idle = agents.filter((a) => !a.stale && !busy.has(a.id)).sort((a, b) => a.registered_at.localeCompare(b.registered_at) || a.id.localeCompare(b.id));

  const wsOrder = Object.entries(state.workstreams).filter(([, ws]) => ws.status !== 'archived').sort(([an, a], [bn, b]) => a.priority - b.priority || an.localeCompare(bn));
  const stored = new Map<string, Task>();
  const workstreams: PlanWorkstream[] = [];
  for (const [name, ws] of wsOrder) {
    const pending = ws.tasks.filter((t) => t.status === 'pending').length;
    const inProgressHere = ws.tasks.filter((t) => t.status === 'in_progress').length;
    // As the original: a workstream with nothing pending or in progress is not part of the cycle.
    if (pending === 0 && inProgressHere === 0) continue;
    const readyHere = readyTasks(state, name);
    for (const t of readyHere) {
      const { workstream: _ws, ...task } = t;
      stored.set(t.id, task);
    }
    const ready = readyHere.map(planned);
    workstreams.push({ name, priority: ws.priority, next_task: ready[0] ? stored.get(ready[0].id)! : null, pending_count: pending, pending, in_progress: inProgressHere, ready });
  }

  // Resources in use now: held locks and the needs of tasks in progress.
  const held = new Map<string, string>();
  for (const l of Object.values(world.locks)) if (isActive(l, nowMs)) held.set(l.resource, `lock held by ${l.agent}`);
  for (const t of inProgress) for (const n of t.needs ?? []) if (!held.has(n)) held.set(n, `task ${t.workstream}/${t.id} in progress`);

  // Which tasks run this cycle is decided by priority (as many as there are
  // idle agents, one task per resource); who runs each by capabilities.
  const waiting: Plan['waiting'] = [];
  const unassigned: PlannedTask[] = [];
  const selected: PlannedTask[] = [];
  const claimedResource = new Map<string, string>();
  const serialGroups = new Map<string, string[]>();
  for (const ws of workstreams) {
    for (const t of ws.ready) {
      const heldNeed = t.needs.find((n) => held.has(n));
      if (heldNeed) {
        waiting.push({ ...t, resource: heldNeed, held_by: held.get(heldNeed)! });
        continue;
      }
      const clash = t.needs.find((n) => claimedResource.has(n));
      if (clash) {
        const group = serialGroups.get(clash) ?? [claimedResource.get(clash)!];
        group.push(`${t.workstream}/${t.id}`);
        serialGroups.set(clash, group);
        continue;
      }
      for (const n of t.needs) claimedResource.set(n, `${t.workstream}/${t.id}`);
      if (selected.length < idle.length) selected.push(t);
      else unassigned.push(t);
    }
  }
  const pairs = selected.flatMap((t, ti) => idle.map((a, ai) => ({ t, ti, a, ai, ...fit(a.capabilities, t) })));
  pairs.sort((x, y) => y.score - x.score || x.ti - y.ti || x.ai - y.ai);
  const taken = new Map<number, { agent: string; reason: string }>();
  const busyAgents = new Set<number>();
  for (const p of pairs) {
    if (p.score === 0 || taken.has(p.ti) || busyAgents.has(p.ai)) continue;
    taken.set(p.ti, { agent: p.a.id, reason: p.reason });
    busyAgents.add(p.ai);
  }
  const rest = idle.filter((_, i) => !busyAgents.has(i));
  selected.forEach((t, ti) => {
    if (!taken.has(ti)) taken.set(ti, { agent: rest.shift()!.id, reason: 'no capability match; next by priority' });
  });
  const assignments: Plan['assignments'] = selected.map((t, ti) => ({ ...t, ...taken.get(ti)! }));
  const serial = [...serialGroups].map(([resource, tasks]) => ({ resource, tasks, reason: `all need ${resource}: run one at a time` }));
  const agentOf = new Map(assignments.map((a) => [a.id, a.agent]));
  const runnable = [...selected, ...unassigned];
  const recommended: Recommended[] = [];
  for (const ws of workstreams) {
    const first = runnable.find((t) => t.workstream === ws.name);
    if (first) recommended.push({ workstream: ws.name, task: stored.get(first.id)!, agent: agentOf.get(first.id) ?? null });
  }
  return {
    generated_at: new Date(nowMs).toISOString(),
    workstreams,
    recommended_parallel: recommended,
    recommended_serial: serial.map(({ reason, tasks, resource }) => ({ reason, tasks, resource })),
    commit,
    idle_agents: idle.map((a) => a.id),
    assignments,
    serial,
    waiting,
    stale_agents: stale.map((a) => ({ agent: a.id, last_seen: a.last_seen, tasks: inProgress.filter((t) => t.assigned_to === a.id).map((t) => `${t.workstream}/${t.id}`) })),
    unassigned,
  };
}

export function planMarkdown(p: Plan): string {
  const out: string[] = [`# Cycle plan`, '', `Generated ${p.generated_at} from commit ${p.commit?.slice(0, 8) ?? '(none)'}.`, ''];
  out.push('## In parallel: the next task of each workstream', '');
  if (!p.recommended_parallel.length) out.push('(no ready task)');
  for (const r of p.recommended_parallel) out.push(`- \`${r.workstream}/${r.task.id}\` ${oneLine(r.task.title)} (P${r.task.priority})${r.agent ? ` -> **${r.agent}**` : ''}`);
  out.push('', '## Assignments', '');
  if (!p.assignments.length) out.push(p.idle_agents.length ? '(no ready task for the idle agents)' : '(no idle agent)');
  for (const a of p.assignments) out.push(`- **${a.agent}** -> \`${a.workstream}/${a.id}\` ${oneLine(a.title)} (P${a.priority}; ${oneLine(a.reason)})`);
  if (p.unassigned.length) {
    out.push('', '## Ready, no agent free', '');
    for (const t of p.unassigned) out.push(`- \`${t.workstream}/${t.id}\` ${oneLine(t.title)} (P${t.priority})`);
  }
  if (p.serial.length) {
    out.push('', '## Run one at a time', '');
    for (const s of p.serial) out.push(`- ${oneLine(s.reason)}: ${s.tasks.map((t) => `\`${t}\``).join(', ')}`);
  }
  if (p.waiting.length) {
    out.push('', '## Waiting for a resource', '');
    for (const w of p.waiting) out.push(`- \`${w.workstream}/${w.id}\` ${oneLine(w.title)}: needs ${oneLine(w.resource)} (${oneLine(w.held_by)})`);
  }
  if (p.stale_agents.length) {
    out.push('', '## Stale agents (requeue their work)', '');
    for (const s of p.stale_agents) out.push(`- ${s.agent}, last seen ${s.last_seen}${s.tasks.length ? `: ${s.tasks.map((t) => `\`${t}\``).join(', ')}` : ''}`);
    out.push('', 'Requeue with `orchestrator t requeue <workstream> --stale`.');
  }
  out.push('', '## Workstreams', '');
  for (const w of p.workstreams) out.push(`- [P${w.priority}] ${w.name}: ${w.ready.length} ready, ${w.pending} pending, ${w.in_progress} in progress`);
  return out.join('\n') + '\n';
}
