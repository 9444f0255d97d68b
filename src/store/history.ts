/**
 * The branch's history read back: each commit with the operation recorded in
 * its trailer. The audit trail (`log`, `/api/log`, a task's history) and
 * replay all read it from here.
 */
import { TRAILER } from './layout.js';
import type { CommitInfo, ObjectStore } from './objects.js';
import type { LogEntry } from '../domain/types.js';

export type { LogEntry };


/** The operation recorded in a commit message, or null. */
export function recordedOp(message: string): Record<string, unknown> | null {
  const prefix = `\n${TRAILER}: `;
  const at = message.lastIndexOf(prefix);
  if (at < 0) return null;
  const end = message.indexOf('\n', at + prefix.length);
  try {
    const op = JSON.parse(message.slice(at + prefix.length, end < 0 ? undefined : end)) as unknown;
    return op && typeof op === 'object' && !Array.isArray(op) ? (op as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function toEntry(c: CommitInfo): LogEntry {
  const op = recordedOp(c.message);
  const time = typeof op?.at === 'string' ? op.at : new Date(c.author.timestamp * 1000).toISOString();
  return { id: c.oid, time, agent: c.author.name, subject: c.message.split('\n', 1)[0], op };
}

/** Commits from `tip` back to the root (first parents: the branch is linear), newest first. */
export async function* walkHistory(objects: ObjectStore, tip: string | null, stopAt: string | null = null): AsyncGenerator<CommitInfo> {
  for (let c: string | undefined = tip ?? undefined; c && c !== stopAt; ) {
    const info = await objects.readCommit(c);
    yield info;
    c = info.parents[0];
  }
}
