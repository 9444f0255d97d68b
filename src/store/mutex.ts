/**
 * The writer turn of a clone: an advisory cross-process mutex. It saves
 * wasted attempts (writers on one clone take turns, and the one whose turn
 * it is carries the others' waiting operations in its commit chain); it is
 * never what makes a change correct, since every ref update is still a
 * compare-and-swap.
 *
 * Waiters queue in arrival order, a ticket file each. A holder or waiter
 * that died is passed over at once when that is provable (same machine,
 * its process is gone); one on another machine sharing the directory
 * refreshes its file while it lives and is passed over when it stops.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { breakStale, createExclusive, identity, judge, ownerLine, touch, unlinkQuietly } from './lock-file.js';

/** A newcomer may take a free turn while the oldest waiter has waited less than this. */
const FAIR_AFTER_MS = 100;
/** Holders and waiters refresh their file this often... */
const REFRESH_MS = 2000;
/** ...so one whose owner cannot be checked is left behind after this long unchanged. */
const UNKNOWN_AFTER_MS = 10_000;
/** We never leave an empty turn file (it is written aside and linked): an empty one is foreign. */
const EMPTY_AFTER_MS = 2000;

export type AcquireResult = 'taken' | 'timeout' | 'aborted' | 'failed';

export class Mutex {
  private held = false;
  private ino = -1;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(readonly file: string) {}

  get isHeld(): boolean {
    return this.held;
  }

  private tryTake(): 'taken' | 'busy' | 'failed' {
    for (let i = 0; i < 2; i++) {
      try {
        // Look before creating: a taken turn costs one stat, and no file event that would wake the waiters.
        if (!fs.existsSync(this.file) && createExclusive(this.file)) {
          this.held = true;
          this.ino = fs.statSync(this.file).ino;
          this.heartbeat = setInterval(() => touch(this.file), REFRESH_MS);
          this.heartbeat.unref();
          return 'taken';
        }
      } catch {
        return 'failed';
      }
      if (!judge(this.file, UNKNOWN_AFTER_MS, EMPTY_AFTER_MS)?.stale) return 'busy';
      breakStale(this.file, UNKNOWN_AFTER_MS, EMPTY_AFTER_MS);
    }
    return 'busy';
  }

  /** Is the turn free (or left behind by a writer that is gone)? */
  isFree(): boolean {
    const j = judge(this.file, UNKNOWN_AFTER_MS, EMPTY_AFTER_MS);
    return j === null || j.stale;
  }

  private mayBarge(queue: string[]): boolean {
    if (queue.length === 0) return true;
    const m = /\.wait-(\d+)-/.exec(queue[0]);
    const since = m ? (performance.timeOrigin + performance.now()) * 1000 - Number(m[1]) : Infinity;
    return since < FAIR_AFTER_MS * 1000;
  }

  /** Waiting writers, oldest first; tickets of waiters that are gone are removed. */
  private waiters(): string[] {
    const dir = path.dirname(this.file);
    const prefix = path.basename(this.file) + '.wait-';
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => n.startsWith(prefix) && !n.endsWith('.tmp'));
    } catch {
      return [];
    }
    const live: string[] = [];
    for (const n of names.sort()) {
      const j = judge(path.join(dir, n), UNKNOWN_AFTER_MS, EMPTY_AFTER_MS);
      if (j === null) continue;
      if (j.stale) unlinkQuietly(path.join(dir, n));
      else live.push(n);
    }
    return live;
  }

  /**
   * Waits up to `waitMs` for the turn. A writer arriving at a free turn may
   * take it while the oldest waiter has waited less than FAIR_AFTER_MS
   * (handing over to a sleeping process costs a wake-up); after that it
   * queues. Only the oldest waiter tries and watches the directory (a
   * release wakes it at once); the others look now and then. `signal`
   * stops the wait (the caller's work was done by the holder).
   */
  async acquire(waitMs: number, signal?: AbortSignal): Promise<AcquireResult> {
    if (this.held) return 'taken';
    if (signal?.aborted) return 'aborted';
    if (this.mayBarge(this.waiters())) {
      const first = this.tryTake();
      if (first !== 'busy') return first;
    }
    const dir = path.dirname(this.file);
    const stamp = String(Math.floor((performance.timeOrigin + performance.now()) * 1000)).padStart(17, '0');
    const ticket = `${path.basename(this.file)}.wait-${stamp}-${process.pid}-${identity().host}`;
    const ticketPath = path.join(dir, ticket);
    try {
      if (!createExclusive(ticketPath)) return this.tryTake() === 'taken' ? 'taken' : 'failed';
    } catch {
      return this.tryTake() === 'taken' ? 'taken' : 'failed';
    }
    let refreshed = Date.now();
    const deadline = Date.now() + waitMs;
    let wake: (() => void) | null = null;
    let watcher: fs.FSWatcher | null = null;
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (signal?.aborted) return 'aborted';
        const queue = this.waiters();
        const oldest = queue[0] === ticket || !queue.includes(ticket);
        if (oldest) {
          const r = this.tryTake();
          if (r !== 'busy') return r;
          if (!watcher) {
            try {
              // Woken by a change of the turn or of the queue; our own temporary files are not news.
              watcher = fs.watch(dir, { persistent: false }, (_e, name) => {
                if (!name || !String(name).endsWith('.tmp')) wake?.();
              });
              watcher.on('error', () => undefined);
            } catch {
              watcher = null;
            }
          }
        }
        if (Date.now() >= deadline) return 'timeout';
        if (Date.now() - refreshed > REFRESH_MS) {
          refreshed = Date.now();
          if (!touch(ticketPath)) createExclusive(ticketPath);
        }
        await new Promise<void>((resolve) => {
          // The oldest sleeps until woken (a release) or 50 ms; the others poll. A ticket
          // of a waiter that died is removed by whoever looks next, at once.
          const timer = setTimeout(done, oldest && watcher ? 50 : 10 + Math.random() * 10);
          function done() {
            clearTimeout(timer);
            wake = null;
            resolve();
          }
          wake = done;
        });
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      (watcher as fs.FSWatcher | null)?.close();
      unlinkQuietly(ticketPath);
    }
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    // Only our own file: had it been judged left behind and taken over, it is not ours to remove.
    try {
      if (fs.statSync(this.file).ino === this.ino) unlinkQuietly(this.file);
    } catch {
      /* already gone */
    }
  }
}

export { ownerLine };
