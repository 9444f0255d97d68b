/**
 * An agent's brief: one task in markdown with what the agent needs to do it
 * and the exact commands to report back. Pure: the caller gathers the
 * knowledge and events.
 */
import { oneLine, safeLines } from './text.js';
import { taskIndex } from './draft.js';
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

export function makeBrief(b: BriefInput): string {
  const { task, workstream } = b;
  const agent = b.agent ?? '<agent>';
  const byId = taskIndex(b.world.state);
  const ref = `${workstream}/${task.id}`;
  const out: string[] = [];
  out.push(`## Agent brief: ${oneLine(task.title)}`, '');
  out.push(`- **Workstream**: ${workstream}`);
  out.push(`- **Task**: ${task.id} (${task.status}${task.assigned_to ? `, assigned to ${task.assigned_to}` : ''})`);
  out.push(`- **Priority**: ${task.priority}${task.estimate ? ` | **Estimate**: ${oneLine(task.estimate)}` : ''}`);
  if (task.needs?.length) out.push(`- **Needs**: ${task.needs.map(oneLine).join(', ')} (take the locks below first)`);
  out.push('', '### Task', '', safeLines(task.description || task.title), '');
  if (task.depends_on?.length) {
    out.push('### Results of its dependencies', '');
    for (const id of task.depends_on) {
      const d = byId.get(id);
      out.push(`- **${id}** ${d ? `${oneLine(d.title)} (${d.status})` : '(missing)'}${d?.result ? `: ${oneLine(d.result)}` : ''}`);
    }
    out.push('');
  }
  if (b.knowledge.length) {
    out.push('### Relevant knowledge', '');
    for (const k of b.knowledge) out.push(`#### ${k.topic}`, '', safeLines(k.content.trimEnd()), '');
  }
  if (b.events.length) {
    out.push('### Recent events', '');
    for (const e of b.events) {
      const extra = Object.entries(e)
        .filter(([k]) => k !== 'ts' && k !== 'agent' && k !== 'action')
        .map(([k, v]) => `${oneLine(k)}=${oneLine(typeof v === 'string' ? v : JSON.stringify(v))}`)
        .join(', ');
      out.push(`- ${oneLine(e.ts)} ${oneLine(e.agent)} ${oneLine(e.action)}${extra ? ` (${extra})` : ''}`);
    }
    out.push('');
  }
  const c = b.command;
  out.push('### Report back', '');
  out.push('```bash');
  if (task.status === 'pending') out.push(`${c} t claim ${sh(workstream)} ${task.id} ${sh(agent)}          # take the task (exit 4: someone else has it)`);
  for (const n of task.needs ?? []) out.push(`${c} lock acquire ${sh(n)} ${sh(agent)} --ttl 600000 --wait 60000`);
  out.push(`${c} a heartbeat ${sh(agent)}                       # every few minutes while working`);
  out.push(`${c} kb write <topic> - < findings.md                # share what you learned`);
  out.push(`${c} t complete ${sh(workstream)} ${task.id} "<result>"     # when done`);
  out.push(`${c} t fail ${sh(workstream)} ${task.id} "<reason>"         # if it cannot be done`);
  for (const n of task.needs ?? []) out.push(`${c} lock release ${sh(n)} ${sh(agent)}`);
  out.push('```', '');
  out.push(`(${ref} on the coordination branch; every command above records a commit.)`);
  return out.join('\n') + '\n';
}
