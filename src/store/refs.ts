/**
 * Refs, read and swapped with git's own lock-file protocol so that we and the
 * git binary exclude each other: create `<ref>.lock` exclusively, check the
 * current value, write the new one into the lock, rename it over the ref.
 * A swap succeeds only when the ref still holds the expected value
 * (compare-and-swap); isomorphic-git's writeRef has no such check.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OrchestratorError } from '../errors.js';
import type { RepoPaths } from './repo.js';

const ZERO = '0000000000000000000000000000000000000000';
const HOST = os.hostname();

export function isOid(s: string): boolean {
  return /^[0-9a-f]{40}$/.test(s);
}

function readPackedRef(commondir: string, ref: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(commondir, 'packed-refs'), 'utf8');
  } catch {
    return null;
  }
  const suffix = ' ' + ref;
  for (const line of text.split('\n')) {
    if (line.length === 41 + ref.length && line.endsWith(suffix)) return line.slice(0, 40);
  }
  return null;
}

/** The commit a ref points to, or null when it does not exist. */
export function readRef(repo: RepoPaths, ref: string): string | null {
  try {
    const value = fs.readFileSync(path.join(repo.commondir, ref), 'utf8').trim();
    if (value.startsWith('ref: ')) throw new OrchestratorError('CORRUPT', `${ref} is a symbolic ref; the coordination branch must be a plain branch`);
    if (!isOid(value)) return null;
    return value;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw err;
  }
  return readPackedRef(repo.commondir, ref);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is this lock file left behind by a process that died? */
function isStale(file: string, staleAfterMs: number): boolean {
  let st: fs.Stats;
  let text = '';
  try {
    st = fs.statSync(file);
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  const m = /^pid (\d+) host (\S+)/.exec(text);
  if (m && m[2] === HOST) return !pidAlive(Number(m[1]));
  return Date.now() - st.mtimeMs > staleAfterMs;
}

/**
 * Removes a stale lock file without racing another remover: it is renamed
 * aside first, and put back if what was moved turns out to be a live lock.
 */
function breakStale(file: string, staleAfterMs: number): void {
  const aside = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return;
  }
  if (isStale(aside, staleAfterMs)) {
    fs.rmSync(aside, { force: true });
    return;
  }
  try {
    fs.linkSync(aside, file);
  } catch {
    /* someone created a new lock meanwhile; theirs stands */
  }
  fs.rmSync(aside, { force: true });
}

const sleepBuf = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepBuf, 0, 0, ms);
}

/** Creates `file` exclusively, waiting out short holders and breaking dead ones. */
function takeLockFile(file: string, waitMs: number, staleAfterMs: number): number {
  const deadline = Date.now() + waitMs;
  let delay = 1;
  for (;;) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, `pid ${process.pid} host ${HOST}\n`);
      return fd;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        continue;
      }
      if (code !== 'EEXIST') throw err;
    }
    if (isStale(file, staleAfterMs)) {
      breakStale(file, staleAfterMs);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new OrchestratorError('CONTENTION', `cannot lock ${file}: it exists and is held by a running process; if no git or orchestrator process is running, remove it`, { lock: file });
    }
    sleepSync(delay);
    delay = Math.min(delay * 2, 10);
  }
}

export interface RefUpdate {
  ref: string;
  /** The value the ref must hold now; null means it must not exist. */
  expected: string | null;
  next: string;
  /** Reflog identity and message. */
  who?: { name: string; email: string };
  message?: string;
  /** How long to wait for a live holder of the ref lock (default 5 s; git holds it for microseconds). */
  lockWaitMs?: number;
}

/**
 * Compare-and-swap of one ref. Returns false (and changes nothing) when the
 * ref no longer holds `expected`.
 */
export function casRef(repo: RepoPaths, u: RefUpdate): boolean {
  const file = path.join(repo.commondir, u.ref);
  const lock = file + '.lock';
  const fd = takeLockFile(lock, u.lockWaitMs ?? 5000, 10_000);
  let renamed = false;
  try {
    const current = readRef(repo, u.ref);
    if (current !== u.expected) return false;
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, u.next + '\n', 0);
    fs.closeSync(fd);
    // Our lock must still be the one in place (a stale-lock breaker could have moved it).
    fs.renameSync(lock, file);
    renamed = true;
    appendReflog(repo, u, current);
    return true;
  } finally {
    if (!renamed) {
      try {
        fs.closeSync(fd);
      } catch {
        /* closed above */
      }
      fs.rmSync(lock, { force: true });
    }
  }
}

function appendReflog(repo: RepoPaths, u: RefUpdate, old: string | null): void {
  // Like git, keep a reflog for branches of repositories that have logs/ (not bare ones by default).
  const logsDir = path.join(repo.commondir, 'logs');
  if (!fs.existsSync(logsDir)) return;
  const who = u.who ?? { name: 'orchestrator', email: 'orchestrator' };
  const line = `${old ?? ZERO} ${u.next} ${who.name} <${who.email}> ${Math.floor(Date.now() / 1000)} +0000\t${(u.message ?? '').split('\n')[0]}\n`;
  try {
    const file = path.join(logsDir, u.ref);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, line);
  } catch {
    /* the reflog is a convenience; the ref itself is updated */
  }
}

/**
 * An advisory cross-process mutex for writers on one clone. It only saves
 * wasted attempts (processes queue instead of racing); correctness never
 * depends on it, because every ref update is still a compare-and-swap.
 */
const FAIR_AFTER_MS = 100;

export class Mutex {
  private fd: number | null = null;
  constructor(private file: string) {}

  private tryTake(): 'taken' | 'busy' | 'failed' {
    for (let i = 0; i < 2; i++) {
      try {
        const fd = fs.openSync(this.file, 'wx');
        fs.writeSync(fd, `pid ${process.pid} host ${HOST}\n`);
        this.fd = fd;
        return 'taken';
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          fs.mkdirSync(path.dirname(this.file), { recursive: true });
          continue;
        }
        if (code !== 'EEXIST') return 'failed';
      }
      if (!isStale(this.file, 60_000)) return 'busy';
      breakStale(this.file, 60_000);
    }
    return 'busy';
  }

  /**
   * Anyone may take a free lock while the oldest waiter has waited less than
   * FAIR_AFTER_MS (handing over to a sleeping process costs a wake-up, and a
   * writer that just released is the fastest to go again); after that only
   * the oldest waiter may. Throughput first, and no writer starves.
   */
  private mayBarge(queue: string[], ticket: string | null): boolean {
    if (queue.length === 0 || queue[0] === ticket) return true;
    const m = /\.wait-(\d+)-/.exec(queue[0]);
    const since = m ? (performance.timeOrigin + performance.now()) * 1000 - Number(m[1]) : Infinity;
    return since < FAIR_AFTER_MS * 1000;
  }

  /** Waiting writers, oldest first (dead ones are removed on the way). */
  private waiters(): string[] {
    const dir = path.dirname(this.file);
    const prefix = path.basename(this.file) + '.wait-';
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => n.startsWith(prefix));
    } catch {
      return [];
    }
    const live: string[] = [];
    for (const n of names.sort()) {
      const m = /-(\d+)-([^-]+)$/.exec(n);
      const mine = m && m[2] === HOST;
      if (mine && !pidAlive(Number(m![1]))) fs.rmSync(path.join(dir, n), { force: true });
      else live.push(n);
    }
    return live;
  }

  /**
   * Waits up to `waitMs`; returns false when it could not be taken (the
   * caller proceeds without it). Waiters queue in arrival order (a file
   * each, named by arrival time) and sleep on a file-system watch of the
   * lock's directory, so a release wakes the next one at once; a slow poll
   * covers file systems without watching. The writer that just released
   * queues behind those already waiting.
   */
  async acquire(waitMs: number): Promise<boolean> {
    if (this.mayBarge(this.waiters(), null)) {
      const first = this.tryTake();
      if (first !== 'busy') return first === 'taken';
    }
    const dir = path.dirname(this.file);
    const stamp = String(Math.floor((performance.timeOrigin + performance.now()) * 1000)).padStart(17, '0');
    const ticket = `${path.basename(this.file)}.wait-${stamp}-${process.pid}-${HOST}`;
    try {
      fs.writeFileSync(path.join(dir, ticket), '');
    } catch {
      return this.tryTake() === 'taken';
    }
    const deadline = Date.now() + waitMs;
    let wake: (() => void) | null = null;
    let watcher: fs.FSWatcher | null = null;
    try {
      watcher = fs.watch(dir, { persistent: false }, () => wake?.());
      watcher.on('error', () => undefined);
    } catch {
      watcher = null;
    }
    try {
      let delay = 2;
      for (;;) {
        // Only the oldest waiter tries; the others would only take its turn.
        if (this.mayBarge(this.waiters(), ticket)) {
          const r = this.tryTake();
          if (r !== 'busy') return r === 'taken';
        }
        if (Date.now() >= deadline) return false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, watcher ? 50 : delay + Math.random() * delay);
          function done() {
            clearTimeout(timer);
            wake = null;
            resolve();
          }
          wake = done;
        });
        delay = Math.min(delay * 2, 20);
      }
    } finally {
      watcher?.close();
      fs.rmSync(path.join(dir, ticket), { force: true });
    }
  }

  release(): void {
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      /* ignore */
    }
    this.fd = null;
    fs.rmSync(this.file, { force: true });
  }
}
