/**
 * `Authorization: Bearer <token>`, compared in constant time. A request
 * that carries the token is marked (`res.locals.authorized`), whether or
 * not it is guarded, so an open route can say more to one that proved it
 * (/api/health); a guarded request without it gets 401. `guards` decides
 * which requests are guarded.
 *
 * The token travels in that header only, never in a URL (URLs end up in
 * logs, history and Referer) nor in a cookie (a cookie is sent by the
 * browser on its own, which is what cross-site requests exploit): the
 * dashboard reads the event stream with fetch, which can send the header.
 */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { OrchestratorError } from '../../errors.js';

function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Does the request carry the token? */
export function carriesToken(req: Request, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return !!m && same(m[1].trim(), token);
}

/** `what`: what the guarded requests are, for the message ("requests", "writes"). */
export function bearerToken(token: string | undefined, guards: (req: Request) => boolean, what = 'requests') {
  return (req: Request, res: Response, next: NextFunction) => {
    if (token) {
      const authorized = carriesToken(req, token);
      res.locals.authorized = authorized;
      if (!authorized && guards(req)) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        throw new OrchestratorError('UNAUTHORIZED', `this server needs "Authorization: Bearer <token>" for ${what}`);
      }
    }
    next();
  };
}
