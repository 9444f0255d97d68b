/**
 * Reads over one snapshot. A View is the branch at one commit: every read
 * of one call (a CLI command, a REST request, an MCP tool call) answers from
 * the same view, so its parts never come from different commits. The
 * Reader is the only place above the engine that reads the store.
 */
import type { Engine } from '../engine.js';
import { OrchestratorError } from '../errors.js';
import { check } from '../domain/rules.js';
import { parseSince, type EventFilter } from '../domain/queries.js';
import type { LogEntry, OrcEvent, State, Task, World } from '../domain/types.js';
import type { Snapshot } from '../store/layout.js';
import { toEntry, walkHistory } from '../store/history.js';

export class Reader {
  constructor(private readonly engine: Engine) {}

  get branch(): string {
    return this.engine.store.branch;
  }

  async view(commit: string | null, now: number, staleMs: number): Promise<View> {
    return new View(this, await this.engine.store.snapshot(commit), now, staleMs);
  }

  knowledge(snap: Snapshot, topic: string): Promise<string | null> {
    return this.engine.store.knowledgeText(snap, topic);
  }

  events(snap: Snapshot, filter: EventFilter): Promise<OrcEvent[]> {
    return this.engine.store.events(snap, filter);
  }

  async blobText(oid: string): Promise<string> {
    return (await this.engine.store.objects.readBlob(oid)).toString('utf8');
  }

  commits(tip: string | null) {
    return walkHistory(this.engine.store.objects, tip);
  }
}

export interface HistoryFilter {
  /** Only commits by this agent. */
  agent?: string;
  /** Only this operation type (`task.claim`) or an operation type prefix (`task`). */
  action?: string;
  /** Only commits at or after this time (ISO). */
  since?: string;
  /** Only the newest N matches. */
  last?: number;
  /** Only commits whose operation names this task id. */
  task?: string;
}

function wholeNumber(last: number | undefined): void {
  if (last !== undefined && (!Number.isInteger(last) || last < 0)) {
    throw new OrchestratorError('INVALID_INPUT', `last ${JSON.stringify(last)} is invalid: must be a whole number`, { field: 'last' });
  }
}

export class View {
  constructor(
    private readonly reader: Reader,
    readonly snap: Snapshot,
    /** The time the view is judged at (stale agents, expired locks). */
    readonly now: number,
    readonly staleMs: number,
  ) {}

  get commit(): string | null {
    return this.snap.commit;
  }
  get world(): World {
    return this.snap.world;
  }
  get state(): State {
    return this.snap.world.state;
  }
  get branch(): string {
    return this.reader.branch;
  }

  /** A topic's content, or null. */
  knowledge(topic: string): Promise<string | null> {
    check('topic', topic);
    return this.reader.knowledge(this.snap, topic);
  }

  /** Events, oldest first, filtered. */
  events(filter: EventFilter): Promise<OrcEvent[]> {
    wholeNumber(filter.last);
    return this.reader.events(this.snap, filter);
  }

  /** Archived tasks, newest file first, filtered by workstream and id (or ids: it stops once all are found). */
  async archived(filter: { workstream?: string; id?: string; ids?: ReadonlySet<string>; last?: number } = {}): Promise<Array<Task & { workstream: string }>> {
    const out: Array<Task & { workstream: string }> = [];
    if (filter.ids && !filter.ids.size) return out;
    for (const file of [...this.snap.archiveTree].reverse()) {
      const lines = (await this.reader.blobText(file.oid)).split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        if (!lines[i]) continue;
        const t = JSON.parse(lines[i]) as Task & { workstream: string };
        if ((filter.workstream && t.workstream !== filter.workstream) || (filter.id && t.id !== filter.id) || (filter.ids && !filter.ids.has(t.id))) continue;
        out.push(t);
        if (filter.id || (filter.ids && out.length >= filter.ids.size) || (filter.last !== undefined && out.length >= filter.last)) return out;
      }
    }
    return out;
  }

  /**
   * The history walk: the branch's commits from this view's commit back,
   * newest first, as log entries, filtered; `until` ends the walk at the
   * first entry it accepts (that entry is not returned). Every reader of
   * history (the audit trail, a task's history, collect) walks here.
   */
  async history(filter: HistoryFilter = {}, until?: (e: LogEntry) => boolean): Promise<LogEntry[]> {
    wholeNumber(filter.last);
    const sinceMs = filter.since !== undefined ? parseSince(filter.since) : null;
    const out: LogEntry[] = [];
    for await (const c of this.reader.commits(this.snap.commit)) {
      const e = toEntry(c);
      if (until?.(e)) break;
      if (sinceMs !== null && Date.parse(e.time) < sinceMs) break;
      if (filter.agent && e.agent !== filter.agent) continue;
      const type = typeof e.op?.op === 'string' ? e.op.op : '';
      if (filter.action && type !== filter.action && !type.startsWith(filter.action + '.')) continue;
      if (filter.task && e.op?.id !== filter.task && !(Array.isArray(e.op?.ids) && (e.op.ids as unknown[]).includes(filter.task))) continue;
      out.push(e);
      if (filter.last !== undefined && out.length >= filter.last) break;
    }
    return out;
  }
}
