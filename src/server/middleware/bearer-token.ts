/**
 * `Authorization: Bearer <token>` on the requests it guards (the writes;
 * `guards` decides which), compared in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { OrchestratorError } from '../../errors.js';

function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function bearerToken(token: string | undefined, guards: (req: Request) => boolean) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (token && guards(req)) {
      const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
      if (!m || !same(m[1].trim(), token)) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        throw new OrchestratorError('UNAUTHORIZED', 'this server needs "Authorization: Bearer <token>" for writes');
      }
    }
    next();
  };
}
