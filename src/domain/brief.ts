/**
 * An agent's brief: one task in markdown with what the agent needs to do it
 * and the exact commands to report back. Pure: the caller gathers the
 * knowledge and events.
 */
import { oneLine, safeLines } from './text.js';
import { findTaskAnywhere, taskIndex } from './draft.js';
import type { OrcEvent, Task, World } from './types.js';

export interface BriefInput {
  workstream: string;
  task: Task;
  world: World;
  /** Knowledge topics judged relevant, with their content. */
  knowledge: Array<{ topic: string; content: string }>;
  /** Recent events about the task or its workstream, oldest first. */
  events: OrcEvent[];
  /** How to invoke this CLI against the same branch, e.g. `orchestrator --branch team-a`. */
  command: string;
  /** The agent the brief is for (placeholder when unknown). */
  agent?: string;
}

/** Shell-quotes an argument when it needs it. */
export function sh(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

const titleWords = (s: string) => s.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 3);

/**
 * Topics worth reading for a task: named after, or mentioning, its
 * workstream, resources or title words, or those of the tasks it depends
 * on; and topics its description or its dependencies' results name.
 */
export function relevantTopics(topics: Array<{ topic: string; content: string }>, workstream: string, task: Task, dependencies: Task[] = []): Array<{ topic: string; content: string }> {
  const keys = new Set(
    [workstream, ...(task.needs ?? []), ...titleWords(task.title), ...dependencies.flatMap((d) => titleWords(d.title))].map((k) => k.toLowerCase()),
  );
  const mentions = [task.description, ...dependencies.map((d) => d.result ?? '')].join('\n').toLowerCase();
  return topics.filter(({ topic, content }) => {
    const t = topic.toLowerCase();
    if (mentions.includes(t)) return true;
    const c = content.toLowerCase();
    for (const k of keys) if (t.includes(k) || c.includes(k)) return true;
    return false;
  });
}

/** What a pending task waits for: its dependencies that are not done yet (missing ones too). */
export function waitingFor(world: World, task: Task): Array<{ id: string; workstream: string | null; title: string | null; status: string }> {
  if (task.status !== 'pending' || !task.depends_on?.length) return [];
  const out: Array<{ id: string; workstream: string | null; title: string | null; status: string }> = [];
  for (const id of task.depends_on) {
    const found = findTaskAnywhere(world.state, id);
    if (!found) out.push({ id, workstream: null, title: null, status: 'missing' });
    else if (found.task.status !== 'done') out.push({ id, workstream: found.workstream, title: found.task.title, status: found.task.status });
  }
  return out;
}

/**
 * The brief, in the original runner's layout (`## Agent Brief: <title>`,
 * the task's fields in bold, Relevant Knowledge, Recent System Events,
 * numbered Instructions), with what this project adds: the task's state,
 * its dependencies' results, its resources, and the commands of this CLI
 * (no paths). A blocked task says what it waits for instead of telling the
 * agent to claim it.
 */
export function makeBrief(b: BriefInput): string {
  const { task, workstream } = b;
  // A placeholder the agent fills in, unquoted; a known agent, quoted when it must be.
  const agent = b.agent ? sh(b.agent) : '<agent>';
  const byId = taskIndex(b.world.state);
  const waits = waitingFor(b.world, task);
  const out: string[] = [];
  out.push(`## Agent Brief: ${oneLine(task.title)}`, '');
  out.push(`**Workstream**: ${workstream}`);
  out.push(`**Task ID**: ${task.id}`);
  out.push(`**Priority**: ${task.priority}`);
  out.push(`**Description**: ${safeLines(task.description || task.title)}`);
  const state = waits.length ? 'pending, blocked' : task.status === 'pending' ? 'pending, ready' : task.status;
  out.push(`**Status**: ${oneLine(state)}${task.assigned_to ? ` (assigned to ${oneLine(task.assigned_to)})` : ''}`);
  if (task.estimate) out.push(`**Estimate**: ${oneLine(task.estimate)}`);
  if (task.needs?.length) out.push(`**Needs**: ${task.needs.map(oneLine).join(', ')} (take their locks first)`);
  out.push('');
  if (waits.length) {
    out.push('### Waiting For', '');
    for (const w of waits) {
      out.push(w.workstream === null ? `- **${oneLine(w.id)}** (missing: no such task)` : `- **${oneLine(w.workstream)}/${oneLine(w.id)}** ${oneLine(w.title)} (${oneLine(w.status)})`);
    }
    out.push('');
  }
  const done = (task.depends_on ?? []).map((id) => byId.get(id)).filter((d): d is Task => !!d && d.status === 'done');
  if (done.length) {
    out.push('### Results of Its Dependencies', '');
    for (const d of done) out.push(`- **${d.id}** ${oneLine(d.title)} (done)${d.result ? `: ${oneLine(d.result)}` : ''}`);
    out.push('');
  }
  if (b.knowledge.length) {
    out.push('### Relevant Knowledge');
    for (const k of b.knowledge) out.push('', `#### ${oneLine(k.topic)}`, safeLines(k.content.trimEnd()));
    out.push('');
  }
  if (b.events.length) {
    out.push('### Recent System Events');
    for (const e of b.events) {
      const extra = Object.entries(e)
        .filter(([k]) => k !== 'ts' && k !== 'agent' && k !== 'action')
        .map(([k, v]) => `${oneLine(k)}=${oneLine(typeof v === 'string' ? v : JSON.stringify(v))}`)
        .join(', ');
      out.push(`- ${oneLine(e.ts)}: ${oneLine(e.agent)} ${oneLine(e.action)}${extra ? ` (${extra})` : ''}`);
    }
    out.push('');
  }
  const c = b.command;
  const ws = sh(workstream);
  const steps: string[][] = [];
  if (waits.length) {
    steps.push([
      `Do not claim it yet: it waits for ${waits.map((w) => (w.workstream === null ? `${oneLine(w.id)} (missing)` : `${oneLine(w.workstream)}/${oneLine(w.id)} (${oneLine(w.status)})`)).join(', ')}. See what it waits for with:`,
      `${c} t show ${ws} ${task.id}`,
      'and claim it once its dependencies are done:',
      `${c} t claim ${ws} ${task.id} ${agent}`,
    ]);
  } else if (task.status === 'pending') {
    steps.push(['Claim the task (exit 4: another agent has it):', `${c} t claim ${ws} ${task.id} ${agent}`]);
  }
  if (task.needs?.length) steps.push(['Take the locks of the resources it needs:', ...task.needs.map((n) => `${c} lock acquire ${sh(n)} ${agent} --ttl 600000 --wait 60000`)]);
  steps.push(['Complete the task described above, sending a heartbeat every few minutes while you work:', `${c} a heartbeat ${agent}`]);
  steps.push(['Write any findings to the knowledge base using:', `${c} kb write <topic> "<content>"`]);
  steps.push(['Mark the task complete when done:', `${c} t complete ${ws} ${task.id} "<result>"`, 'or failed if it cannot be done:', `${c} t fail ${ws} ${task.id} "<reason>"`]);
  if (task.needs?.length) steps.push(['Release the locks:', ...task.needs.map((n) => `${c} lock release ${sh(n)} ${agent}`)]);
  out.push('### Instructions');
  steps.forEach((step, i) => {
    out.push(`${i + 1}. ${step[0]}`);
    for (const line of step.slice(1)) out.push(`   ${line}`);
  });
  return out.join('\n') + '\n';
}
