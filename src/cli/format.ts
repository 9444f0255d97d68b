/**
 * Text output in the original CLI's words. Every function here is pure:
 * it gets a result and returns the lines to print. Values from the branch
 * go through oneLine: a stored name or title cannot break or reorder a line.
 */
import type { WorkstreamSummary, AgentView } from '../domain/queries.js';
import type { LogEntry, Lock, OrcEvent, Task } from '../domain/types.js';
import type { TaskDetail } from '../domain/task-detail.js';
import { oneLine, safeLines } from '../domain/text.js';

function clock(ts: string): string {
  return ts.split('T')[1]?.split('.')[0] ?? ts;
}

export function workstreamList(list: WorkstreamSummary[]): string {
  if (!list.length) return 'No workstreams.';
  return list
    .map((ws) => {
      const failed = ws.failed ? `, ${ws.failed} failed` : '';
      const archived = ws.archived ? ` (${ws.archived} archived)` : '';
      return `[P${ws.priority}] ${oneLine(ws.name)} - ${ws.description ? oneLine(ws.description) : '(no desc)'}\n  Tasks: ${ws.pending} pending, ${ws.in_progress} active, ${ws.done} done${archived}${failed}`;
    })
    .join('\n');
}

export function taskLine(t: Task & { workstream?: string }): string {
  const assignee = t.assigned_to ? ` -> ${oneLine(t.assigned_to)}` : '';
  const where = t.workstream ? `${oneLine(t.workstream)}/` : '';
  const deps = t.depends_on?.length ? ` (after ${t.depends_on.map(oneLine).join(', ')})` : '';
  return `[${oneLine(t.status)}] ${where}${oneLine(t.id)}: ${oneLine(t.title)}${assignee}${deps}`;
}

export function taskList(tasks: Array<Task & { workstream?: string }>, empty = 'No tasks.'): string {
  return tasks.length ? tasks.map(taskLine).join('\n') : empty;
}

/**
 * How long ago a time was, for people: `12s ago`, `5m ago`, `3h ago`,
 * `4d ago`; past 30 days the date itself (`on 2026-01-02`), and `in the
 * future` for a clock ahead. An unreadable time is shown as it is.
 */
export function ago(iso: string, now: number): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return `at ${oneLine(iso)}`;
  const s = Math.round((now - at) / 1000);
  if (s < -2) return 'in the future';
  if (s < 90) return `${Math.max(0, s)}s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m ago`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)}h ago`;
  if (s < 30 * 86400) return `${Math.round(s / 86400)}d ago`;
  return `on ${new Date(at).toISOString().slice(0, 10)}`;
}

export function agentList(agents: AgentView[], now: number): string {
  if (!agents.length) return '(none registered)';
  return agents
    .map((a) => {
      const caps = a.capabilities.length ? ` [${a.capabilities.map(oneLine).join(', ')}]` : '';
      return `${oneLine(a.id)} (${oneLine(a.type)}): ${oneLine(a.status)}${a.stale ? ' [STALE]' : ''}, seen ${ago(a.last_seen, now)}${caps}`;
    })
    .join('\n');
}

export function lockList(locks: Lock[], now: number): string {
  if (!locks.length) return '(none)';
  return locks
    .map((l) => `${oneLine(l.resource)}: held by ${oneLine(l.agent)} until ${oneLine(l.expires_at)} (${Math.max(0, Math.ceil((Date.parse(l.expires_at) - now) / 1000))}s left)`)
    .join('\n');
}

export function eventLine(e: OrcEvent): string {
  const extra = Object.keys(e).filter((k) => k !== 'ts' && k !== 'agent' && k !== 'action');
  const fmt = (v: unknown) => oneLine(typeof v === 'string' ? v : JSON.stringify(v));
  const extraStr = extra.length ? ` {${extra.map((k) => `${oneLine(k)}=${fmt(e[k])}`).join(', ')}}` : '';
  return `[${oneLine(clock(String(e.ts)))}] ${oneLine(e.agent)}: ${oneLine(e.action)}${extraStr}`;
}

export function eventList(events: OrcEvent[]): string {
  return events.length ? events.map(eventLine).join('\n') : 'No events.';
}

/** `t show`: the task, what it waits for, what waits for it, its history. */
export function taskDetail(t: TaskDetail): string {
  const lines = [taskLine(t)];
  if (t.description) lines.push(`  ${safeLines(t.description).replace(/\n/g, '\n  ')}`);
  lines.push(
    `  priority ${t.priority}${t.estimate ? `, estimate ${oneLine(t.estimate)}` : ''}${t.needs?.length ? `, needs ${t.needs.map(oneLine).join(', ')}` : ''}${t.status === 'pending' ? (t.ready ? ', ready' : ', blocked') : ''}`,
  );
  if (t.result) lines.push(`  result: ${oneLine(t.result)}`);
  if (t.dependencies.length) {
    lines.push('Depends on:');
    for (const d of t.dependencies) lines.push(`  [${d.status}] ${oneLine(d.workstream ?? '?')}/${oneLine(d.id)}: ${d.title === null ? '(missing)' : oneLine(d.title)}${d.result ? ` -> ${oneLine(d.result)}` : ''}`);
  }
  if (t.dependents.length) {
    lines.push('Needed by:');
    for (const d of t.dependents) lines.push(`  [${d.status}] ${oneLine(d.workstream)}/${oneLine(d.id)}: ${oneLine(d.title)}`);
  }
  lines.push('History:');
  for (const h of t.history) lines.push(`  ${h.id.slice(0, 8)} ${h.time} ${oneLine(h.agent)}: ${oneLine(h.subject)}`);
  return lines.join('\n');
}

/** `log`: one line per commit. */
export function logList(entries: LogEntry[]): string {
  return entries.length ? entries.map((e) => `${e.id.slice(0, 8)} ${e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} ${oneLine(e.agent)}: ${oneLine(e.subject)}`).join('\n') : 'No commits.';
}
