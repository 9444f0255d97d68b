/**
 * What an agent session needs to know at its start, in markdown and in at
 * most about 1,000 tokens: who it acts as, where the board is, its own work,
 * the ready tasks now and the commands of its loop. Pure: the caller
 * gathers the facts and the command lines.
 */
import { oneLine } from './text.js';
import type { Lock, Task } from './types.js';

export interface PrimeInput {
  agent: string | undefined;
  branch: string;
  remote: string | null;
  commit: string | null;
  mine: Array<Task & { workstream: string }>;
  locks: Lock[];
  ready: Array<Task & { workstream: string }>;
  /** `[usage, summary]` of each command (or tool) of the agent's loop. */
  commands: Array<[string, string]>;
  /** How the commands are given: a shell, or MCP tools. */
  via: 'cli' | 'mcp';
}

/** At most this many ready tasks (and of the agent's own tasks and locks) are listed; the rest are counted. */
export const PRIME_READY = 10;

/** A stored value on one line, at most `n` characters. */
const clip = (s: string, n: number) => {
  const line = oneLine(s);
  return line.length > n ? line.slice(0, n - 1) + '…' : line;
};

export function primeText(p: PrimeInput): string {
  const out: string[] = ['# Orchestrator: the shared task board of this repository', ''];
  out.push(
    p.agent
      ? `You act as **${oneLine(p.agent)}**: commits and claims are recorded under this name.`
      : p.via === 'mcp'
        ? 'No acting agent is set: restart the MCP server with --as <agent> (or ORCHESTRATOR_AGENT, or git config orchestrator.agent) before claiming work.'
        : 'No acting agent is set: pass --as <agent>, set ORCHESTRATOR_AGENT or run `git config orchestrator.agent <agent>` before claiming work.',
  );
  out.push(`Board: branch \`${p.branch}\`${p.remote ? ` shared through remote \`${p.remote}\`` : ' (local only)'}${p.commit ? `, at ${p.commit.slice(0, 8)}` : ', empty so far'}.`, '');
  if (p.mine.length || p.locks.length) {
    out.push('## Your work', '');
    for (const t of p.mine.slice(0, PRIME_READY)) out.push(`- in progress: ${clip(t.workstream, 40)}/${clip(t.id, 20)} ${clip(t.title, 80)}`);
    if (p.mine.length > PRIME_READY) out.push(`- ... ${p.mine.length - PRIME_READY} more in progress`);
    for (const l of p.locks.slice(0, PRIME_READY)) out.push(`- lock held: ${clip(l.resource, 60)} until ${l.expires_at}`);
    if (p.locks.length > PRIME_READY) out.push(`- ... ${p.locks.length - PRIME_READY} more locks`);
    out.push('');
  }
  out.push(`## Ready now (${p.ready.length})`, '');
  for (const t of p.ready.slice(0, PRIME_READY)) out.push(`- [P${t.priority}] ${clip(t.workstream, 40)}/${clip(t.id, 20)} ${clip(t.title, 80)}${t.needs?.length ? ` (needs ${clip(t.needs.join(', '), 40)})` : ''}`);
  if (p.ready.length > PRIME_READY) out.push(`- ... ${p.ready.length - PRIME_READY} more (list them with ${p.via === 'mcp' ? 'the ready tool' : 'task ready'})`);
  if (!p.ready.length) out.push('- none: every pending task waits for another, or there is no work');
  out.push('', p.via === 'mcp' ? '## Tools' : '## Commands', '');
  if (p.via === 'cli') out.push('```');
  for (const [usage, summary] of p.commands) out.push(p.via === 'cli' ? `${usage}  # ${clip(summary, 70)}` : `- \`${usage}\`: ${clip(summary, 110)}`);
  if (p.via === 'cli') out.push('```');
  out.push(
    '',
    p.via === 'cli'
      ? 'Add --json for one JSON value. Exit 4: refused (another agent has the task or lock; pick another), 3: not found, 2: bad input.'
      : 'A refused call is an error with a code: CONFLICT or LOCK_HELD (another agent has it; pick another), NOT_FOUND, INVALID_INPUT.',
    'Claim before working, complete or fail when done, release what you cannot finish, and write what others should know to the knowledge base.',
  );
  return out.join('\n') + '\n';
}
