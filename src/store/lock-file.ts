/**
 * Lock files shared with git and with other orchestrator processes: created
 * exclusively, recording who holds them, and judged left behind only when
 * that is provable (the owner's process is gone) or, for a file whose owner
 * cannot be told (git's own locks, another machine's, an empty file), when it
 * has not changed for longer than any live holder leaves it unchanged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

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
 * Who we are: a process id means something only on the same machine, since
 * the same boot, in the same pid namespace (containers that share a host
 * name do not share pids).
 */
let me: { host: string; boot: string; pidns: string } | null = null;
export function identity(): { host: string; boot: string; pidns: string } {
  // Asked for when a lock is taken or judged (a read-only command never does).
  me ??= {
    host: (require('node:os') as typeof import('node:os')).hostname().replace(/\s/g, '_') || 'localhost',
    boot: readOr('/proc/sys/kernel/random/boot_id', '-'),
    pidns: linkOr('/proc/self/ns/pid', '-').replace(/\s/g, '_'),
  };
  return me;
}

/** The first line of every lock and ticket file we create. */
export function ownerLine(): string {
  const { host, boot, pidns } = identity();
  return `pid ${process.pid} host ${host} boot ${boot} pidns ${pidns}\n`;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type Owner = { pid: number; local: boolean; alive: boolean | null };

/** The owner a lock file names: `alive` is null when it is not on this machine (or names nobody). */
export function ownerOf(text: string): Owner | null {
  const m = /^pid (\d+) host (\S+) boot (\S+) pidns (\S+)/.exec(text);
  if (!m) return null;
  const me = identity();
  const local = m[2] === me.host && m[3] === me.boot && m[4] === me.pidns;
  const pid = Number(m[1]);
  return { pid, local, alive: local ? pidAlive(pid) : null };
}

export interface Judgement {
  stale: boolean;
  /** Why, in words, for messages. */
  why: string;
}

/**
 * Is this lock file left behind? Provably when its owner's process is gone;
 * a live local owner never; otherwise (no owner we can check) when it is
 * older than `unknownAfterMs` (holders that can be checked from elsewhere
 * refresh their file's time while they hold it).
 */
export function judge(file: string, unknownAfterMs: number, emptyAfterMs = unknownAfterMs): Judgement | null {
  let st: fs.Stats;
  let text: string;
  try {
    st = fs.statSync(file);
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const owner = ownerOf(text);
  if (owner?.local) {
    return owner.alive ? { stale: false, why: `held by process ${owner.pid} on this machine, which is running` } : { stale: true, why: `left by process ${owner.pid}, which is gone` };
  }
  const age = Date.now() - st.mtimeMs;
  if (!text.trim()) unknownAfterMs = emptyAfterMs;
  const whose = owner ? `held by process ${owner.pid} on another machine` : text.trim() ? 'of unknown origin (a git process?)' : 'empty';
  return age > unknownAfterMs ? { stale: true, why: `${whose}, unchanged for ${(age / 1000).toFixed(1)} s` } : { stale: false, why: `${whose}, changed ${(age / 1000).toFixed(1)} s ago` };
}

/**
 * Removes a stale lock file. One breaker at a time (a `.break` file of its
 * own), and only the very file judged stale: it is moved aside and put back
 * if another took its place in between.
 */
export function breakStale(file: string, unknownAfterMs: number, emptyAfterMs = unknownAfterMs): void {
  const breaker = `${file}.break`;
  let fd: number;
  try {
    fd = fs.openSync(breaker, 'wx');
  } catch {
    // Another process is breaking it; a breaker that died leaves its file, which we judge the same way.
    if (judge(breaker, 5000)?.stale) unlinkQuietly(breaker);
    return;
  }
  try {
    fs.writeSync(fd, ownerLine());
    let judged: fs.Stats;
    try {
      judged = fs.statSync(file);
    } catch {
      return;
    }
    if (!judge(file, unknownAfterMs, emptyAfterMs)?.stale) return;
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
    unlinkQuietly(aside);
  } finally {
    fs.closeSync(fd);
    unlinkQuietly(breaker);
  }
}

/**
 * Creates `file` holding our owner line, atomically and exclusively (written
 * aside, then hard-linked into place), so that it is never seen empty.
 * Returns false when it exists.
 */
export function createExclusive(file: string, content: string = ownerLine()): boolean {
  const tmp = `${file}.${process.pid}-${Math.random().toString(36).slice(2, 10)}.tmp`;
  for (let i = 0; ; i++) {
    try {
      fs.writeFileSync(tmp, content, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || i > 0) throw err;
      fs.mkdirSync(path.dirname(file), { recursive: true });
    }
  }
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
  } finally {
    unlinkQuietly(tmp);
  }
  // A file system without hard links: exclusive create, then write (empty for an instant).
  try {
    const fd = fs.openSync(file, 'wx');
    fs.writeSync(fd, content);
    fs.closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** unlink without the directory probing of fs.rmSync (it is on every write's path). */
export function unlinkQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    /* already gone */
  }
}

/** Sets a file's modification time to now (a holder's sign of life). */
export function touch(file: string): boolean {
  try {
    const now = new Date();
    fs.utimesSync(file, now, now);
    return true;
  } catch {
    return false;
  }
}
