/**
 * Text output in the original CLI's words. Every function here is pure:
 * it gets a result and returns the lines to print.
 */
import type { WorkstreamSummary, AgentView } from '../domain/queries.js';
import type { Lock, OrcEvent, Task } from '../domain/types.js';

function clock(ts: string): string {
  return ts.split('T')[1]?.split('.')[0] ?? ts;
}

export function workstreamList(list: WorkstreamSummary[]): string {
  if (!list.length) return 'No workstreams.';
  return list
    .map((ws) => {
      const failed = ws.failed ? `, ${ws.failed} failed` : '';
      return `[P${ws.priority}] ${ws.name} - ${ws.description || '(no desc)'}\n  Tasks: ${ws.pending} pending, ${ws.in_progress} active, ${ws.done} done${failed}`;
    })
    .join('\n');
}

export function taskLine(t: Task & { workstream?: string }): string {
  const assignee = t.assigned_to ? ` -> ${t.assigned_to}` : '';
  const where = t.workstream ? `${t.workstream}/` : '';
  const deps = t.depends_on?.length ? ` (after ${t.depends_on.join(', ')})` : '';
  return `[${t.status}] ${where}${t.id}: ${t.title}${assignee}${deps}`;
}

export function taskList(tasks: Array<Task & { workstream?: string }>, empty = 'No tasks.'): string {
  return tasks.length ? tasks.map(taskLine).join('\n') : empty;
}

export function agentList(agents: AgentView[], now: number): string {
  if (!agents.length) return '(none registered)';
  return agents
    .map((a) => {
      const age = Math.max(0, Math.round((now - Date.parse(a.last_seen)) / 1000));
      const caps = a.capabilities.length ? ` [${a.capabilities.join(', ')}]` : '';
      return `${a.id} (${a.type}): ${a.status}${a.stale ? ' [STALE]' : ''}, seen ${age}s ago${caps}`;
    })
    .join('\n');
}

export function lockList(locks: Lock[], now: number): string {
  if (!locks.length) return '(none)';
  return locks
    .map((l) => `${l.resource}: held by ${l.agent} until ${l.expires_at} (${Math.max(0, Math.ceil((Date.parse(l.expires_at) - now) / 1000))}s left)`)
    .join('\n');
}

export function eventLine(e: OrcEvent): string {
  const extra = Object.keys(e).filter((k) => k !== 'ts' && k !== 'agent' && k !== 'action');
  const fmt = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  const extraStr = extra.length ? ` {${extra.map((k) => `${k}=${fmt(e[k])}`).join(', ')}}` : '';
  return `[${clock(e.ts)}] ${e.agent}: ${e.action}${extraStr}`;
}

export function eventList(events: OrcEvent[]): string {
  return events.length ? events.map(eventLine).join('\n') : 'No events.';
}
