/**
 * The data model stored on the coordination branch. Field names and order
 * follow the original orchestrator's state.json so that its readers keep
 * working; fields added by this project are optional and only present when
 * set.
 */

/**
 * The rules a branch's operations are replayed by. A branch keeps the format
 * it was created with, so that `verify` replays its history as it was
 * written, until `init` upgrades it (an operation of its own). Format 2 adds:
 * completing, failing or releasing another agent's task is refused unless
 * forced, and archived tasks keep counting as done in their workstream.
 */
export const FORMAT_VERSION = 2;

/** The format a state was written under (states before formats were numbered are 1). */
export function formatOf(state: { format?: number }): number {
  return typeof state.format === 'number' ? state.format : 1;
}

export type TaskStatus = 'pending' | 'in_progress' | 'done' | 'failed';
export const TASK_STATUSES: readonly TaskStatus[] = ['pending', 'in_progress', 'done', 'failed'];

export interface Task {
  id: string;
  title: string;
  description: string;
  status: TaskStatus;
  priority: number;
  estimate: string | null;
  assigned_to: string | null;
  created_at: string;
  updated_at: string;
  result: string | null;
  /** Ids (in any workstream) that must be done before this task is ready. */
  depends_on?: string[];
  /** Resources this task needs; tasks sharing one never run in parallel. */
  needs?: string[];
}

export interface Workstream {
  description: string;
  priority: number;
  status: string;
  tasks: Task[];
  created_at: string;
  /** When it was archived (status "archived"): it takes no new tasks and default lists hide it. */
  archived_at?: string;
  /** Done tasks moved out to archive/ (`archive`): they still count as done. */
  archived_tasks?: number;
}

export interface Agent {
  type: string;
  status: string;
  capabilities: string[];
  registered_at: string;
  last_seen: string;
}

export interface State {
  format: number;
  version: number;
  updated_at: string;
  workstreams: Record<string, Workstream>;
  agents: Record<string, Agent>;
  /** Branch settings; absent means the defaults. */
  settings?: Settings;
}

export interface Settings {
  /** Events per sealed segment of the event log (default 10,000). */
  events_per_segment?: number;
  /** Bytes at which the live segment is sealed too (set on branches created since it exists). */
  segment_bytes?: number;
}

export const DEFAULT_EVENTS_PER_SEGMENT = 10_000;

/** Content of `locks/<resource>.json`. */
export interface Lock {
  resource: string;
  agent: string;
  acquired_at: string;
  ttl_ms: number;
  expires_at: string;
}

/** One line of `events.jsonl`: the original's shape, `{ts, agent, action, ...fields}`. */
export interface OrcEvent {
  ts: string;
  agent: string;
  action: string;
  [field: string]: unknown;
}

/**
 * What an operation may read: the parsed state, the lock files and the names
 * of the knowledge topics. Events are append-only and never read by an
 * operation, so they stay out of the world (a mutation never parses them).
 */
export interface World {
  state: State;
  locks: Readonly<Record<string, Lock>>;
  topics: readonly string[];
}

/** Everything an operation changes, applied by the store as one commit. */
export interface Effect<R = unknown> {
  /** The new state; the store bumps version and updated_at. */
  state: State;
  /** Lines appended to the event log. */
  events: OrcEvent[];
  /** The events replace the log instead of extending it (import). */
  replaceEvents?: boolean;
  /**
   * With replaceEvents: a log already cut into sealed segments (their blob
   * ids, oldest first) and a live remainder, which `events` follow (an
   * import streams a large log to the store before its commit).
   */
  log?: { sealed: string[]; live: string };
  /** Lock files to write (a Lock) or delete (null), by resource. */
  locks?: Record<string, Lock | null>;
  /** Knowledge files to write (content) or delete (null), by topic. */
  knowledge?: Record<string, string | null>;
  /** Lines to append to archive files, by file name (`2026-11.jsonl`). */
  archive?: Record<string, string>;
  /** What the api function returns to its caller. */
  result: R;
}

export function emptyState(now: string): State {
  return { format: FORMAT_VERSION, version: 0, updated_at: now, workstreams: {}, agents: {} };
}

/** One commit of the branch's history, as the audit trail shows it. */
export interface LogEntry {
  /** Commit id. */
  id: string;
  /** The operation's time (ISO, milliseconds), or the commit's when it recorded none. */
  time: string;
  /** The commit's author: the acting agent. */
  agent: string;
  subject: string;
  /** The recorded operation, or null for commits not made by the orchestrator. */
  op: Record<string, unknown> | null;
}
