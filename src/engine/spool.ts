/**
 * The request spool of a clone: writers waiting for the clone's turn leave
 * their operation here, as data (an intent: a planner's name and its input),
 * so the writer whose turn it is can carry it in its commit chain (group
 * commit). A request is one file, written aside and renamed into place.
 *
 * The spool never decides an outcome: a request lands when a commit that
 * records its operation id is on the branch, whoever wrote it; its
 * originator watches for that. A request that changes nothing (a claim that
 * finds no task) or is refused (the task is taken) lands nowhere: the writer
 * that judged it on the remote's tip leaves its answer beside it (an answer
 * file, written before the request is removed), and the originator reads
 * that instead of taking a turn and a fetch of its own to learn the same.
 * A request whose originator is gone is removed, never applied: nobody
 * would hear its result.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ownerOf, ownerLine, unlinkQuietly } from '../store/lock-file.js';
import { REFUSALS } from './types.js';

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

/** What a writer that judged a request on the remote's tip answers: its result, or its refusal. */
export type SpoolAnswer = { ok: { result: unknown; commit: string | null } } | { err: { code: string; message: string; data: Record<string, unknown> } };

/** The answer file of a request file. */
export function answerFile(requestFile: string): string {
  return requestFile.replace(/\.json$/, '.answer');
}

export class Spool {
  constructor(readonly dir: string) {}

  /** Leaves a request; returns its file. */
  publish(opId: string, intent: Intent, base: string | null): string {
    const created = Date.now();
    const name = `${String(created).padStart(15, '0')}-${opId}.json`;
    const file = path.join(this.dir, name);
    this.writeAside(file, JSON.stringify({ op_id: opId, intent, base, created, owner: ownerLine().trim() }));
    return file;
  }

  /**
   * Writes `file` whole: aside first (a name that starts like its own, so that the sweep finds it
   * if we die), then renamed into place.
   */
  private writeAside(file: string, body: string): void {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      try {
        fs.writeFileSync(tmp, body);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        fs.mkdirSync(this.dir, { recursive: true });
        fs.writeFileSync(tmp, body);
      }
      fs.renameSync(tmp, file);
    } catch (err) {
      unlinkQuietly(tmp);
      throw err;
    }
  }

  /** The requests' file names (none when the spool was never made). */
  private names(): string[] {
    try {
      return fs.readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
  }

  /**
   * Answers nobody took (their originator died after asking, or took its turn as the answer was
   * written) and files a writer left half-written when it died, once their request would have
   * expired: removed. (Every name starts with its request's time.)
   */
  private lastSweep = 0;
  private sweepAnswers(now: number): void {
    if (now - this.lastSweep < SPOOL_TTL_MS) return;
    this.lastSweep = now;
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((n) => n.endsWith('.answer') || n.endsWith('.tmp'));
    } catch {
      return;
    }
    for (const n of names) if (now - Number(n.slice(0, 15)) > SPOOL_TTL_MS) unlinkQuietly(path.join(this.dir, n));
  }

  /** How many requests lie in the spool (cheap: names only, nothing is read). */
  count(): number {
    return this.names().length;
  }

  withdraw(file: string): void {
    unlinkQuietly(file);
  }

  /**
   * Answers another process's request that landed nowhere (see the module
   * comment): the answer is in place before the request is removed, so the
   * originator finds one or the other. Not when the request is gone
   * already (its originator took it back); one taken back while the answer
   * is written leaves an answer nobody reads, swept later.
   */
  answer(entry: SpoolEntry, answer: SpoolAnswer): void {
    if (!fs.existsSync(entry.file)) return;
    try {
      this.writeAside(answerFile(entry.file), JSON.stringify(answer));
    } catch {
      // Not answered: the originator takes its own turn.
      return;
    }
    unlinkQuietly(entry.file);
  }

  /** The answer left for our request file, taken (read and removed); undefined while there is none. */
  takeAnswer(requestFile: string): SpoolAnswer | undefined {
    const file = answerFile(requestFile);
    let raw: string;
    try {
      raw = fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    unlinkQuietly(file);
    try {
      const a = JSON.parse(raw) as SpoolAnswer;
      if (!a || typeof a !== 'object') return undefined;
      if ('ok' in a) return a.ok && typeof a.ok === 'object' && 'result' in a.ok ? a : undefined;
      // Only the refusals a writer may give (another version of the tool may share the clone).
      if ('err' in a) return a.err && REFUSALS.has(a.err.code) && typeof a.err.message === 'string' ? a : undefined;
      return undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Requests of other processes, oldest first. Those whose originator is
   * provably gone, or that are older than SPOOL_TTL_MS, are removed.
   */
  list(exclude: ReadonlySet<string> = new Set()): SpoolEntry[] {
    const names = this.names();
    const out: SpoolEntry[] = [];
    const now = Date.now();
    this.sweepAnswers(now);
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
