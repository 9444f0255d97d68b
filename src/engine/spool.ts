/**
 * The request spool of a clone: writers waiting for the clone's turn leave
 * their operation here, as data (an intent: a planner's name and its input),
 * so the writer whose turn it is can carry it in its commit chain (group
 * commit). A request is one file, written aside and renamed into place.
 *
 * The spool never decides an outcome: a request lands when a commit that
 * records its operation id is on the branch, whoever wrote it; its
 * originator watches for that. A request whose originator is gone is
 * removed, never applied: nobody would hear its result.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ownerOf, ownerLine, unlinkQuietly } from '../store/lock-file.js';

export interface Intent {
  /** A planner the engine knows by name (a declared operation). */
  name: string;
  /** Its input: plain JSON. */
  input: unknown;
}

export interface SpoolEntry {
  file: string;
  op_id: string;
  intent: Intent;
  /** The branch tip when it was written: its operation can only land after it. */
  base: string | null;
  /** Milliseconds since the epoch. */
  created: number;
}

/** Requests older than this are never applied by others (their originator has given up or is stuck). */
export const SPOOL_TTL_MS = 60_000;

export class Spool {
  constructor(readonly dir: string) {}

  /** Leaves a request; returns its file. */
  publish(opId: string, intent: Intent, base: string | null): string {
    const created = Date.now();
    const name = `${String(created).padStart(15, '0')}-${opId}.json`;
    const file = path.join(this.dir, name);
    const tmp = `${file}.${process.pid}.tmp`;
    const body = JSON.stringify({ op_id: opId, intent, base, created, owner: ownerLine().trim() });
    try {
      fs.writeFileSync(tmp, body);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      fs.mkdirSync(this.dir, { recursive: true });
      fs.writeFileSync(tmp, body);
    }
    fs.renameSync(tmp, file);
    return file;
  }

  /** The requests' file names (none when the spool was never made). */
  private names(): string[] {
    try {
      return fs.readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
  }

  /** How many requests lie in the spool (cheap: names only, nothing is read). */
  count(): number {
    return this.names().length;
  }

  withdraw(file: string): void {
    unlinkQuietly(file);
  }

  /**
   * Requests of other processes, oldest first. Those whose originator is
   * provably gone, or that are older than SPOOL_TTL_MS, are removed.
   */
  list(exclude: ReadonlySet<string> = new Set()): SpoolEntry[] {
    const names = this.names();
    const out: SpoolEntry[] = [];
    const now = Date.now();
    for (const name of names.sort()) {
      const file = path.join(this.dir, name);
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      } catch {
        continue;
      }
      const opId = typeof raw.op_id === 'string' ? raw.op_id : '';
      if (exclude.has(opId)) continue;
      const owner = ownerOf(String(raw.owner ?? ''));
      const created = Number(raw.created);
      const intent = raw.intent as Intent | undefined;
      if ((owner?.local && !owner.alive) || !Number.isFinite(created) || now - created > SPOOL_TTL_MS || !intent || typeof intent.name !== 'string' || !opId) {
        unlinkQuietly(file);
        continue;
      }
      out.push({ file, op_id: opId, intent, base: typeof raw.base === 'string' ? raw.base : null, created });
    }
    return out;
  }
}
