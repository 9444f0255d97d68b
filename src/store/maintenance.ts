/**
 * Keeps a repository under sustained writes within a few times its packed
 * size, without stopping writers. Every write leaves a handful of loose
 * objects (a new state.json among them), writers that lose a race leave
 * theirs unreachable, and nothing of ours would ever pack them.
 *
 * After a write, the loose objects are counted the way git estimates them
 * (a few of the 256 object directories); past a few hundred, one background
 * run of git's own tools packs them all (unreachable ones too, so nothing
 * piles up loose), deletes the loose copies, and rolls small packs into
 * bigger ones geometrically (cost stays proportional to what is new). Now
 * and then it lets `gc --auto` expire old garbage into a cruft pack. One run
 * at a time per repository; a writer never waits for it.
 *
 * A repository whose own config sets gc.auto = 0 is left alone.
 * ORCHESTRATOR_MAINTENANCE=off never starts it; =always starts it after
 * every write, whatever the counts and the repository's config say.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gitEnv } from './git-env.js';
import type { RepoPaths } from './repo.js';
import { createExclusive, judge, ownerLine } from './lock-file.js';

/** Loose objects (estimated) that start a run. */
export const LOOSE_LIMIT = 128;
/** Packs beyond which small ones are rolled together. */
export const PACK_LIMIT = 8;
const SAMPLE_DIRS = ['00', '55', 'aa', 'ff'];

/** git's kind of estimate: the loose objects of a few object directories, scaled to all 256. */
export function looseEstimate(commondir: string): number {
  let n = 0;
  for (const d of SAMPLE_DIRS) {
    try {
      n += fs.readdirSync(path.join(commondir, 'objects', d)).length;
    } catch {
      /* none there */
    }
  }
  return n * (256 / SAMPLE_DIRS.length);
}

/** The repository turned automatic gc off itself (`gc.auto = 0` in its own config): leave it alone. */
function gcOff(repo: RepoPaths): boolean {
  try {
    const text = fs.readFileSync(path.join(repo.commondir, 'config'), 'utf8');
    const gc = /^\s*\[gc\]([^[]*)/im.exec(text);
    return !!gc && /^\s*auto\s*=\s*0\s*$/im.test(gc[1]);
  } catch {
    return false;
  }
}

/** The background run: pack every loose object, drop the loose copies, roll small packs together, sometimes expire garbage. */
function script(lock: string, expire: boolean): string {
  return [
    `trap 'rm -f "${lock}"' EXIT`,
    'git maintenance run --task=loose-objects --quiet',
    'git prune-packed --quiet',
    `[ "$(ls objects/pack/ 2>/dev/null | grep -c '\\.pack$')" -gt ${PACK_LIMIT} ] && git repack --geometric=2 -d -q`,
    expire ? 'git -c gc.cruftPacks=true -c gc.logExpiry=1.hour -c gc.autoDetach=false gc --auto --quiet' : 'true',
  ].join('\n');
}

export function maintainRepository(repo: RepoPaths): void {
  const mode = process.env.ORCHESTRATOR_MAINTENANCE;
  if (mode === 'off') return;
  if (mode !== 'always' && (looseEstimate(repo.commondir) < LOOSE_LIMIT || gcOff(repo))) return;
  // One run at a time: the lock is removed by the run itself when it ends (or judged left behind).
  const lock = path.join(repo.commondir, 'orchestrator', 'maintenance.lock');
  try {
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    if (!createExclusive(lock)) {
      if (!judge(lock, 600_000)?.stale) return;
      fs.rmSync(lock, { force: true });
      if (!createExclusive(lock)) return;
    }
  } catch {
    return;
  }
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  try {
    // Detached: the writer goes on, and a CLI process may exit while it runs.
    const child = spawn('sh', ['-c', script(lock, Math.random() < 0.05)], { cwd: repo.commondir, detached: true, stdio: 'ignore', env: gitEnv() });
    child.unref();
    // The run holds the lock, not the writer that started it (a CLI process exits at once).
    if (child.pid) fs.writeFileSync(lock, ownerLine().replace(/^pid \d+/, `pid ${child.pid}`));
  } catch {
    fs.rmSync(lock, { force: true });
  }
}

/** Waits (up to `ms`) until no maintenance or gc runs in the repository (benchmarks measure after it). */
export async function settled(commondir: string, ms = 60_000): Promise<void> {
  const locks = [path.join(commondir, 'orchestrator', 'maintenance.lock'), path.join(commondir, 'gc.pid'), path.join(commondir, 'objects', 'maintenance.lock')];
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && locks.some((f) => fs.existsSync(f))) await new Promise((r) => setTimeout(r, 100));
}
