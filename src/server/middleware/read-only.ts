/** A read-only server answers every write with 405. */
import type { NextFunction, Request, Response } from 'express';
import { OrchestratorError } from '../../errors.js';

export function readOnly(on: boolean, writes: Set<string>) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (on && writes.has(req.method)) throw new OrchestratorError('READ_ONLY', 'this server is read-only (started with --read-only)');
    next();
  };
}
