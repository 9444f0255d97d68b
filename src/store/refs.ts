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
export class Mutex {
  private fd: number | null = null;
  constructor(private file: string) {}

  /** Waits up to `waitMs`; returns false when it could not be taken (proceed without it). */
  async acquire(waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    let delay = 1;
    for (;;) {
      try {
        const fd = fs.openSync(this.file, 'wx');
        fs.writeSync(fd, `pid ${process.pid} host ${HOST}\n`);
        this.fd = fd;
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          fs.mkdirSync(path.dirname(this.file), { recursive: true });
          continue;
        }
        if (code !== 'EEXIST') return false;
      }
      if (isStale(this.file, 60_000)) {
        breakStale(this.file, 60_000);
        continue;
      }
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 8);
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
