/**
 * Results as an agent's context should hold them: text where the result is
 * text (a brief, a topic), otherwise JSON without empty fields, timestamps
 * of tasks or the task lists inside workstream summaries.
 */
import type { StatusView } from '../domain/queries.js';
import type { OrcEvent } from '../domain/types.js';
import { oneLine } from '../domain/text.js';

const DROP = new Set(['created_at', 'updated_at', 'registered_at', 'acquired_at']);

/** Drops null, empty and bookkeeping fields, recursively. */
export function compactJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(compactJson);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null || x === undefined || x === '' || DROP.has(k)) continue;
    if (Array.isArray(x) && !x.length) continue;
    out[k] = compactJson(x);
  }
  return out;
}

function eventLine(e: OrcEvent): string {
  const extra = Object.entries(e)
    .filter(([k]) => k !== 'ts' && k !== 'agent' && k !== 'action')
    .map(([k, v]) => `${oneLine(k)}=${oneLine(typeof v === 'string' ? v : JSON.stringify(v))}`)
    .join(' ');
  return `${oneLine(e.ts)} ${oneLine(e.agent)} ${oneLine(e.action)}${extra ? ' ' + extra : ''}`;
}

function status(s: StatusView): unknown {
  return compactJson({
    commit: s.commit?.slice(0, 8),
    workstreams: s.workstreams.map((w) => ({ name: w.name, priority: w.priority, pending: w.pending, in_progress: w.in_progress, done: w.done, failed: w.failed || undefined })),
    agents: s.agents.map((a) => `${a.id}${a.stale ? ' (stale)' : ''}`),
    locks: s.active_locks.map((l) => `${l.resource}: ${l.agent} until ${l.expires_at}`),
    recent_events: s.recent_events.map(eventLine),
    topics: s.knowledge_topics,
  });
}

/** The text a tool answers with, by the declaration that ran. */
export function compactResult(name: string, result: unknown): string {
  switch (name) {
    case 'status':
      return JSON.stringify(status(result as StatusView));
    case 'brief':
      return (result as { markdown: string }).markdown;
    case 'knowledge.read':
      return (result as { content: string }).content;
    case 'event.list':
      return (result as OrcEvent[]).map(eventLine).join('\n') || '(no events)';
    case 'task.next':
      return result === null ? 'No ready task in this workstream.' : JSON.stringify(compactJson(result));
    default:
      return JSON.stringify(compactJson(result));
  }
}
