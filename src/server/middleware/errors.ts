/** The one place that picks an HTTP status: the error table's (src/errors.ts). */
import type { NextFunction, Request, Response } from 'express';
import { OrchestratorError, toOrchestratorError } from '../../errors.js';

/** Translates body-parser's errors (too large, malformed) into ours. */
function bodyError(err: unknown): OrchestratorError | null {
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large') return new OrchestratorError('TOO_LARGE', 'request body is over the 1 MiB limit');
  if (e?.type === 'entity.parse.failed') return new OrchestratorError('INVALID_INPUT', `malformed JSON body: ${e.message}`);
  if (e?.type && e.status && e.status < 500) return new OrchestratorError('INVALID_INPUT', e.message ?? 'bad request body');
  return null;
}

export function errorHandler(log?: (line: string) => void) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = bodyError(err) ?? toOrchestratorError(err);
    if (e.code === 'INTERNAL') log?.(`error: ${err instanceof Error ? err.stack : String(err)}`);
    if (res.headersSent) {
      res.end();
      return;
    }
    // A refusal may carry fields its route adds to the body (the lock's holder).
    const extra = (err as { body?: Record<string, unknown> }).body ?? {};
    res.status(e.httpStatus).json({ ...extra, ...e.toJSON(), ...extra });
  };
}
