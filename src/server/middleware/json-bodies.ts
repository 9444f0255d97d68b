/** Writes with a body must send JSON (a form post from another page cannot). */
import type { NextFunction, Request, Response } from 'express';
import { OrchestratorError } from '../../errors.js';

export function jsonBodies(writes: Set<string>) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (writes.has(req.method)) {
      const length = Number(req.headers['content-length'] ?? 0);
      if ((length > 0 || req.headers['transfer-encoding']) && !req.is('application/json')) {
        throw new OrchestratorError('UNSUPPORTED_MEDIA_TYPE', 'request bodies must be JSON (Content-Type: application/json)');
      }
    }
    next();
  };
}
