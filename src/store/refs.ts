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

/** The commit a ref points to, or null when it does not exist; CORRUPT when it holds anything else. */
export function readRef(repo: RepoPaths, ref: string): string | null {
  let value: string;
  try {
    value = fs.readFileSync(path.join(repo.commondir, ref), 'utf8').trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw err;
    return readPackedRef(repo.commondir, ref);
  }
  if (isOid(value)) return value;
  if (value.startsWith('ref: ')) throw new OrchestratorError('CORRUPT', `${ref} is a symbolic ref; the coordination branch must be a plain branch`, { ref });
  // Never read as "absent": the next write would start a new history over the old one.
  throw new OrchestratorError('CORRUPT', `${ref} is broken (it holds ${JSON.stringify(value.slice(0, 40))}, not a commit id); restore it from its reflog (git reflog ${ref.replace(/^refs\/heads\//, '')}) or with git update-ref`, { ref });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim() || fallback;
  } catch {
    return fallback;
  }
}

function linkOr(file: string, fallback: string): string {
  try {
    return fs.readlinkSync(file);
  } catch {
    return fallback;
  }
}

/**
 * Who holds a lock file: a process id means something only on the same
 * machine, since the same boot, in the same pid namespace (containers that
 * share a host name do not share pids).
 */
const IDENTITY = {
  host: HOST.replace(/\s/g, '_'),
  boot: readOr('/proc/sys/kernel/random/boot_id', '-'),
  pidns: linkOr('/proc/self/ns/pid', '-').replace(/\s/g, '_'),
};
const OWNER_LINE = `pid ${process.pid} host ${IDENTITY.host} boot ${IDENTITY.boot} pidns ${IDENTITY.pidns}\n`;

/** True when the lock's owner is provably gone, false when provably alive, null when we cannot tell. */
function ownerGone(text: string): boolean | null {
  const m = /^pid (\d+) host (\S+) boot (\S+) pidns (\S+)/.exec(text);
  if (!m || m[2] !== IDENTITY.host || m[3] !== IDENTITY.boot || m[4] !== IDENTITY.pidns) return null;
  return !pidAlive(Number(m[1]));
}

/** Is this lock file left behind? Provably, by its owner's pid; otherwise only when it is old. */
function isStale(file: string, staleAfterMs: number): boolean {
  let st: fs.Stats;
  let text = '';
  try {
    st = fs.statSync(file);
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  const gone = ownerGone(text);
  if (gone !== null) return gone;
  return Date.now() - st.mtimeMs > staleAfterMs;
}

/**
 * Removes a stale lock file. One breaker at a time (a `.break` file of its
 * own), and only the very file judged stale: it is moved aside and put back
 * if another took its place in between.
 */
function breakStale(file: string, staleAfterMs: number): void {
  const breaker = `${file}.break`;
  let fd: number;
  try {
    fd = fs.openSync(breaker, 'wx');
  } catch {
    // Another process is breaking it; a breaker that died leaves its file, which ages out.
    if (isStale(breaker, 30_000)) fs.rmSync(breaker, { force: true });
    return;
  }
  try {
    fs.writeSync(fd, OWNER_LINE);
    let judged: fs.Stats;
    try {
      judged = fs.statSync(file);
    } catch {
      return;
    }
    if (!isStale(file, staleAfterMs)) return;
    const aside = `${file}.stale-${process.pid}-${Date.now()}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      return;
    }
    const moved = fs.statSync(aside);
    if (moved.ino !== judged.ino || moved.dev !== judged.dev) {
      try {
        fs.linkSync(aside, file);
      } catch {
        /* a newer lock stands */
      }
    }
    fs.rmSync(aside, { force: true });
  } finally {
    fs.closeSync(fd);
    fs.rmSync(breaker, { force: true });
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Creates `file` exclusively, waiting out live holders and breaking dead ones. */
async function takeLockFile(file: string, waitMs: number, staleAfterMs: number): Promise<number> {
  const deadline = Date.now() + waitMs;
  let delay = 1;
  for (;;) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, OWNER_LINE);
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
    await sleep(delay);
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
export async function casRef(repo: RepoPaths, u: RefUpdate): Promise<boolean> {
  const file = path.join(repo.commondir, u.ref);
  const lock = file + '.lock';
  // Git holds ref locks for microseconds: one 10 s old belongs to a process that died.
  const fd = await takeLockFile(lock, u.lockWaitMs ?? 5000, 10_000);
  const mine = fs.fstatSync(fd);
  let renamed = false;
  try {
    const current = readRef(repo, u.ref);
    if (current !== u.expected) return false;
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, u.next + '\n', 0);
    // The lock must still be ours: had it been broken and retaken, renaming
    // would put another process's lock file in place of the ref.
    const now = fs.statSync(lock);
    if (now.ino !== mine.ino || now.dev !== mine.dev) {
      throw new OrchestratorError('CONTENTION', `the lock on ${u.ref} was taken over while held; nothing was changed`, { ref: u.ref });
    }
    fs.closeSync(fd);
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
      // Remove only our own lock file.
      try {
        const st = fs.statSync(lock);
        if (st.ino === mine.ino && st.dev === mine.dev) fs.rmSync(lock, { force: true });
      } catch {
        /* already gone */
      }
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
/** A waiter refreshes its ticket this often; a ticket not refreshed for TICKET_TTL_MS is abandoned. */
const TICKET_REFRESH_MS = 2000;
const TICKET_TTL_MS = 10_000;

export class Mutex {
  private fd: number | null = null;
  constructor(private file: string) {}

  private tryTake(): 'taken' | 'busy' | 'failed' {
    for (let i = 0; i < 2; i++) {
      try {
        const fd = fs.openSync(this.file, 'wx');
        fs.writeSync(fd, OWNER_LINE);
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
   * A writer arriving at a free lock may take it while the oldest waiter has
   * waited less than FAIR_AFTER_MS (handing over to a sleeping process costs
   * a wake-up, and a writer that just released is the fastest to go again);
   * after that it queues. Throughput first, and no writer starves.
   */
  private mayBarge(queue: string[]): boolean {
    if (queue.length === 0) return true;
    const m = /\.wait-(\d+)-/.exec(queue[0]);
    const since = m ? (performance.timeOrigin + performance.now()) * 1000 - Number(m[1]) : Infinity;
    return since < FAIR_AFTER_MS * 1000;
  }

  /**
   * Waiting writers, oldest first. A ticket its waiter stopped refreshing
   * (it died, on this machine or another sharing the directory) is removed.
   */
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
    const now = Date.now();
    for (const n of names.sort()) {
      let abandoned = false;
      try {
        abandoned = now - fs.statSync(path.join(dir, n)).mtimeMs > TICKET_TTL_MS;
      } catch {
        continue;
      }
      if (abandoned) fs.rmSync(path.join(dir, n), { force: true });
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
    if (this.mayBarge(this.waiters())) {
      const first = this.tryTake();
      if (first !== 'busy') return first === 'taken';
    }
    const dir = path.dirname(this.file);
    const stamp = String(Math.floor((performance.timeOrigin + performance.now()) * 1000)).padStart(17, '0');
    const ticket = `${path.basename(this.file)}.wait-${stamp}-${process.pid}-${IDENTITY.host}`;
    const ticketPath = path.join(dir, ticket);
    try {
      fs.writeFileSync(ticketPath, '');
    } catch {
      return this.tryTake() === 'taken';
    }
    let refreshed = Date.now();
    const deadline = Date.now() + waitMs;
    let wake: (() => void) | null = null;
    let watcher: fs.FSWatcher | null = null;
    try {
      for (;;) {
        // Only the oldest waiter tries (and watches, to be woken by the release at
        // once); the others check now and then whether their turn has come, so a
        // release does not wake every waiting process.
        const queue = this.waiters();
        const oldest = queue[0] === ticket || !queue.includes(ticket);
        if (oldest) {
          const r = this.tryTake();
          if (r !== 'busy') return r === 'taken';
          if (!watcher) {
            try {
              watcher = fs.watch(dir, { persistent: false }, () => wake?.());
              watcher.on('error', () => undefined);
            } catch {
              watcher = null;
            }
          }
        }
        if (Date.now() >= deadline) return false;
        if (Date.now() - refreshed > TICKET_REFRESH_MS) {
          refreshed = Date.now();
          try {
            fs.utimesSync(ticketPath, new Date(), new Date());
          } catch {
            fs.writeFileSync(ticketPath, '');
          }
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, oldest && watcher ? 50 : 10 + Math.random() * 10);
          function done() {
            clearTimeout(timer);
            wake = null;
            resolve();
          }
          if (oldest) wake = done;
        });
      }
    } finally {
      (watcher as fs.FSWatcher | null)?.close();
      unlinkQuietly(ticketPath);
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
    unlinkQuietly(this.file);
  }
}

/** unlink without the directory probing of fs.rmSync (it is on every write's path). */
function unlinkQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    /* already gone */
  }
}
