/**
 * On loopback, only loopback host names are answered: a page under another
 * name that resolves here is DNS rebinding.
 */
import type { NextFunction, Request, Response } from 'express';
import { OrchestratorError } from '../../errors.js';

export const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `bound`: the address the server listens on. */
export function hostCheck(bound: string) {
  const check = isLoopback(bound);
  return (req: Request, _res: Response, next: NextFunction) => {
    const hostname = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (check && !LOOPBACK.has(hostname) && hostname !== bound && hostname !== `[${bound}]`) {
      throw new OrchestratorError('FORBIDDEN', `this server does not answer for host "${hostname}"`);
    }
    next();
  };
}
