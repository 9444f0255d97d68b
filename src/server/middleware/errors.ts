/** The one place that picks an HTTP status: the error table's (src/errors.ts). */
import type { NextFunction, Request, Response } from 'express';
import { OrchestratorError, toOrchestratorError } from '../../errors.js';

/**
 * Errors of express and of the body parser that say the request was wrong
 * (a 4xx status they mark as safe to show, or a path that is not valid
 * percent-encoding), as ours: a malformed request is the client's error,
 * never a 500.
 */
function requestError(err: unknown): OrchestratorError | null {
  const e = err as { type?: string; status?: unknown; expose?: boolean; message?: string };
  if (!e || typeof e !== 'object' || err instanceof OrchestratorError) return null;
  const status = typeof e.status === 'number' ? e.status : 0;
  if (status < 400 || status >= 500) return null;
  const message = e.message ?? 'bad request';
  // The router's decoding of a path parameter: a URIError it gives status 400.
  if (err instanceof URIError) return new OrchestratorError('INVALID_INPUT', `the path is not valid percent-encoding (${message.replace(/^Failed to decode param /, '')})`);
  if (e.expose !== true) return null;
  if (e.type === 'entity.too.large' || status === 413) return new OrchestratorError('TOO_LARGE', 'request body is over the 1 MiB limit');
  if (e.type === 'entity.parse.failed') return new OrchestratorError('INVALID_INPUT', `malformed JSON body: ${message}`);
  if (status === 415) return new OrchestratorError('UNSUPPORTED_MEDIA_TYPE', `${message} (send JSON, as is or with Content-Encoding gzip, deflate or br)`);
  // Anything else the parser met while reading: a body that does not decode (fake gzip), an aborted upload.
  return new OrchestratorError('INVALID_INPUT', `the request body could not be read: ${message}`);
}

export function errorHandler(log?: (line: string) => void) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = requestError(err) ?? toOrchestratorError(err);
    if (e.code === 'INTERNAL') log?.(`error: ${err instanceof Error ? err.stack : String(err)}`);
    if (res.headersSent) {
      res.end();
      return;
    }
    // A refusal may carry fields its route adds to the body (the lock's holder).
    const extra = (err as { body?: unknown }).body;
    const fields = err instanceof OrchestratorError && extra && typeof extra === 'object' ? (extra as Record<string, unknown>) : {};
    res.status(e.httpStatus).json({ ...fields, ...e.toJSON(), ...fields });
  };
}
