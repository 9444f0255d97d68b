/**
 * A read-only server answers every write with 405, and its `Allow` header
 * says what the path still takes (`allow`: the path's methods; null for a
 * path no route has).
 */
import type { NextFunction, Request, Response } from 'express';
import { OrchestratorError } from '../../errors.js';

export function readOnly(on: boolean, writes: Set<string>, allow: (req: Request) => string[] | null = () => null) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (on && writes.has(req.method)) {
      res.setHeader('Allow', (allow(req) ?? ['GET', 'HEAD', 'OPTIONS']).filter((m) => !writes.has(m)).join(', '));
      throw new OrchestratorError('READ_ONLY', 'this server is read-only (started with --read-only)');
    }
    next();
  };
}
