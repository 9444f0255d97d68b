/**
 * Refs, read and swapped with git's own lock-file protocol so that we and the
 * git binary exclude each other: create `<ref>.lock` exclusively, check the
 * current value, write the new one into the lock, rename it over the ref.
 * A swap succeeds only when the ref still holds the expected value
 * (compare-and-swap); isomorphic-git's writeRef has no such check.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OrchestratorError } from '../errors.js';
import type { RepoPaths } from './repo.js';
import { breakStale, createExclusive, judge } from './lock-file.js';

const ZERO = '0000000000000000000000000000000000000000';

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

/** Git holds ref locks for the milliseconds of a ref transaction: one unchanged for longer than this was left by a process that died. */
const REF_LOCK_STALE_MS = 2000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Creates `file` exclusively, waiting out live holders and breaking ones left behind. */
async function takeLockFile(file: string, waitMs: number): Promise<number> {
  const deadline = Date.now() + waitMs;
  let delay = 1;
  for (;;) {
    if (createExclusive(file)) return fs.openSync(file, 'r+');
    const j = judge(file, REF_LOCK_STALE_MS);
    if (j?.stale) {
      breakStale(file, REF_LOCK_STALE_MS);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new OrchestratorError('CONTENTION', `cannot lock ${file}: it is ${j?.why ?? 'held'}; if no git or orchestrator process is using the repository, remove it`, { lock: file });
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
  const fd = await takeLockFile(lock, u.lockWaitMs ?? 5000);
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

/** The refs under `prefix` (loose and packed), by full name. */
export function listRefs(repo: RepoPaths, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  try {
    for (const line of fs.readFileSync(path.join(repo.commondir, 'packed-refs'), 'utf8').split('\n')) {
      if (line.length > 41 && line[40] === ' ' && line.startsWith(prefix, 41) && isOid(line.slice(0, 40))) out.set(line.slice(41), line.slice(0, 40));
    }
  } catch {
    /* no packed refs */
  }
  const walk = (dir: string, name: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.endsWith('.lock')) continue;
      const full = `${name}${e.name}`;
      if (e.isDirectory()) walk(path.join(dir, e.name), full + '/');
      else {
        try {
          const v = fs.readFileSync(path.join(dir, e.name), 'utf8').trim();
          if (isOid(v)) out.set(full, v);
        } catch {
          /* removed meanwhile */
        }
      }
    }
  };
  walk(path.join(repo.commondir, prefix), prefix);
  return out;
}

/** Deletes a loose ref of ours if it still holds `expected` (packed ones are left to git). */
export function dropLooseRef(repo: RepoPaths, ref: string, expected: string): void {
  const file = path.join(repo.commondir, ref);
  try {
    if (fs.readFileSync(file, 'utf8').trim() === expected) fs.unlinkSync(file);
  } catch {
    /* already gone */
  }
}
