/**
 * A path that exists but does not take the method: 405 with `Allow` (what
 * it takes); OPTIONS: 204 with `Allow`. Runs after the routes, so it sees
 * only requests none of them answered; a path no route has goes on (404).
 */
import type { NextFunction, Request, Response } from 'express';
import { OrchestratorError } from '../../errors.js';

/** `allow`: the methods the request's path takes, or null when it has none. */
export function methodNotAllowed(allow: (req: Request) => string[] | null) {
  return (req: Request, res: Response, next: NextFunction) => {
    const methods = allow(req);
    if (!methods) {
      next();
      return;
    }
    res.setHeader('Allow', methods.join(', '));
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    throw new OrchestratorError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here: this path takes ${methods.join(', ')}`, { allow: methods });
  };
}
