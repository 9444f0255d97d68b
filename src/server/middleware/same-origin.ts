/** A browser sends Origin: only this server's own pages (and the CORS origin) may write. */
import type { NextFunction, Request, Response } from 'express';
import { OrchestratorError } from '../../errors.js';

export function sameOrigin(allowed: string | undefined, writes: Set<string>) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (writes.has(req.method) && origin && origin !== allowed) {
      let originHost = '';
      try {
        originHost = new URL(origin).host;
      } catch {
        originHost = '';
      }
      if (originHost !== req.headers.host) throw new OrchestratorError('FORBIDDEN', `writes from origin ${origin} are not allowed (see --cors)`);
    }
    next();
  };
}
