/**
 * One error type for the whole project. Every failure a caller can act on is
 * an OrchestratorError with a stable `code`; the table below maps each code to
 * the CLI's exit status and the server's HTTP status. Codes never change once
 * shipped: scripts and agents branch on them.
 */

export const ERROR_CODES = {
  /** Bad argument or body: empty or over-long name, bad priority, bad TTL... */
  INVALID_INPUT: { exit: 2, http: 400 },
  /** More than one thing matched where exactly one was needed. */
  AMBIGUOUS: { exit: 2, http: 400 },
  /** Workstream, task, agent, topic, lock or repository does not exist. */
  NOT_FOUND: { exit: 3, http: 404 },
  /** Refused by the current state: task not pending, name already exists... */
  CONFLICT: { exit: 4, http: 409 },
  /** A lock is held by another agent (data: holder, expires_at). */
  LOCK_HELD: { exit: 4, http: 409 },
  /** Local operations are waiting to be synced before going online. */
  NEEDS_SYNC: { exit: 4, http: 409 },
  /** The remote failed for a reason other than a race (unreachable, denied). */
  REMOTE: { exit: 5, http: 502 },
  /** Gave up after the bounded number of attempts under contention. */
  CONTENTION: { exit: 6, http: 503 },
  /** The coordination branch holds data this version cannot read. */
  CORRUPT: { exit: 1, http: 500 },
  /** Server only: writes need a token. */
  UNAUTHORIZED: { exit: 2, http: 401 },
  /** Server only: a request from a host name or origin the server does not serve. */
  FORBIDDEN: { exit: 2, http: 403 },
  /** Server only: a body that is not JSON. */
  UNSUPPORTED_MEDIA_TYPE: { exit: 2, http: 415 },
  /** Server only: the server was started read-only. */
  READ_ONLY: { exit: 4, http: 405 },
  /** Server only: the path does not take this method (data.allow, and the Allow header, list those it takes). */
  METHOD_NOT_ALLOWED: { exit: 2, http: 405 },
  /** Server only: request body over the limit. */
  TOO_LARGE: { exit: 2, http: 413 },
  /** A bug or an environment failure nobody planned for. */
  INTERNAL: { exit: 1, http: 500 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class OrchestratorError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = 'OrchestratorError';
    this.code = code;
    this.data = data;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  toJSON(): Record<string, unknown> {
    return { error: this.message, code: this.code, ...(Object.keys(this.data).length ? { data: this.data } : {}) };
  }
}

/** Ends the message of a failure to reach the remote (not of its refusal: working offline would not change that). */
export const OFFLINE_HINT = ' (use --offline to work without the remote)';

/** A message without OFFLINE_HINT, for a caller that says what to do itself. */
export function withoutOfflineHint(message: string): string {
  return message.endsWith(OFFLINE_HINT) ? message.slice(0, -OFFLINE_HINT.length) : message;
}

export const invalid = (message: string, data?: Record<string, unknown>) =>
  new OrchestratorError('INVALID_INPUT', message, data);
export const notFound = (message: string, data?: Record<string, unknown>) =>
  new OrchestratorError('NOT_FOUND', message, data);
export const conflict = (message: string, data?: Record<string, unknown>) =>
  new OrchestratorError('CONFLICT', message, data);

/** Wraps anything thrown into an OrchestratorError (unknown errors become INTERNAL). */
export function toOrchestratorError(err: unknown): OrchestratorError {
  if (err instanceof OrchestratorError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new OrchestratorError('INTERNAL', message);
}

/** `"revenue", "product"` for error messages that list what exists. */
export function known(names: Iterable<string>, max = 10): string {
  const list = [...names].sort();
  if (list.length === 0) return 'none';
  const shown = list.slice(0, max).join(', ');
  return list.length > max ? `${shown}, ... ${list.length - max} more` : shown;
}
