/**
 * Integrity and history figures: mutation cost with a long history
 * (1,000,000 events, 100,000 archived tasks) against a fresh branch with the
 * same active tasks; replay verification speed; what the pre-receive hook
 * adds to a push; repository size after 10,000 mutations.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openOrchestrator } from '../src/api.js';
import { settled } from '../src/store/maintenance.js';
import { engineBehind } from '../src/api/internals.js';
import { emptySnapshot } from '../src/store/layout.js';
import { BLOB_MODE, TREE_MODE } from '../src/store/objects.js';
import type { OrcEvent, State, Task } from '../src/domain/types.js';
import { BIN, git, initRepo, ms, stats, table, tempDir, timeCommand, timeMutations, type Stats } from './util.js';

function task(i: number, status: Task['status'], at: string): Task {
  return {
    id: randomBytes(4).toString('hex'),
    title: `Task ${i}: do something useful`,
    description: `Description of task ${i}, long enough to look like a real one.`,
    status,
    priority: i % 7,
    estimate: null,
    assigned_to: status === 'pending' ? null : 'agent-1',
    created_at: at,
    updated_at: at,
    result: status === 'done' ? `Result of task ${i}` : null,
  };
}

/** A branch whose tip has `active` tasks, `archived` archived ones and `events` events in sealed segments plus a half-full live one. */
async function heavyBranch(repo: string, active: number, archived: number, events: number): Promise<void> {
  const orc = openOrchestrator({ repo, remote: null });
  const store = (await engineBehind(orc)).store;
  const now = new Date().toISOString();
  const state: State = { format: 1, version: 1, updated_at: now, workstreams: { bench: { description: '', priority: 1, status: 'active', tasks: [], created_at: now } }, agents: {} };
  for (let i = 0; i < active; i++) state.workstreams.bench.tasks.push(task(i, 'pending', now));
  const perSegment = 10_000;
  const line = (n: number) => JSON.stringify({ ts: now, agent: 'agent-1', action: 'task_claimed', workstream: 'bench', task_id: randomBytes(4).toString('hex'), n } satisfies OrcEvent) + '\n';
  const segments = [];
  const sealed = Math.floor(events / perSegment);
  for (let s = 0; s < sealed; s++) {
    let text = '';
    for (let i = 0; i < perSegment; i++) text += line(s * perSegment + i);
    segments.push({ mode: BLOB_MODE, name: `${String(s + 1).padStart(6, '0')}.jsonl`, oid: await store.objects.writeBlob(Buffer.from(text)) });
  }
  let live = '';
  for (let i = 0; i < perSegment / 2; i++) live += line(i);
  const archive = [];
  const perFile = Math.ceil(archived / 12);
  for (let f = 0; f < 12 && f * perFile < archived; f++) {
    let text = '';
    for (let i = f * perFile; i < Math.min(archived, (f + 1) * perFile); i++) text += JSON.stringify({ workstream: 'bench', ...task(i, 'done', now) }) + '\n';
    archive.push({ mode: BLOB_MODE, name: `2025-${String(f + 1).padStart(2, '0')}.jsonl`, oid: await store.objects.writeBlob(Buffer.from(text)) });
  }
  const snap = await store.commit(emptySnapshot(), { state, events: [], result: null }, { op: 'bench.seed', at: now, by: 'system' }, 'bench seed');
  const root = [
    ...snap.root.filter((e) => e.name !== 'events.jsonl'),
    { mode: BLOB_MODE, name: 'events.jsonl', oid: await store.objects.writeBlob(Buffer.from(live)) },
    ...(segments.length ? [{ mode: TREE_MODE, name: 'events', oid: await store.objects.writeTree(segments) }] : []),
    ...(archive.length ? [{ mode: TREE_MODE, name: 'archive', oid: await store.objects.writeTree(archive) }] : []),
  ];
  const tree = await store.objects.writeTree(root);
  const person = { name: 'system', email: 'system@orchestrator', timestamp: Math.floor(Date.now() / 1000), tzOffset: 0 };
  const commit = await store.objects.writeCommit({ tree, parents: [], author: person, committer: person, message: 'bench seed\n' });
  if (!(await store.swapLocal(store.localTip(), commit, 'system', 'bench seed'))) throw new Error('seed lost a race');
  orc.close();
}

async function mutationCost(repo: string, n: number): Promise<Stats> {
  const orc = openOrchestrator({ repo, remote: null, agent: 'bench' });
  const s = await timeMutations(orc, 'bench', n);
  orc.close();
  return s;
}

/** Bytes used under `dir`, counted while background maintenance may be deleting files. */
function du(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        try {
          total += fs.statSync(p).size;
        } catch {
          /* removed meanwhile */
        }
      }
    }
  };
  walk(dir);
  return total;
}

export async function integritySection(quick: boolean, results: Record<string, unknown>): Promise<string> {
  const rows: string[][] = [['measure', 'value', 'target']];

  // 1. Mutation cost does not grow with history.
  const fresh = path.join(tempDir('orc-bench-fresh-'), 'repo');
  const heavy = path.join(tempDir('orc-bench-heavy-'), 'repo');
  initRepo(fresh);
  initRepo(heavy);
  await heavyBranch(fresh, 1000, 0, 0);
  const events = quick ? 200_000 : 1_000_000;
  const archived = quick ? 20_000 : 100_000;
  await heavyBranch(heavy, 1000, archived, events);
  const n = quick ? 60 : 150;
  const f = await mutationCost(fresh, n);
  const h = await mutationCost(heavy, n);
  results.history_fresh = f;
  results.history_heavy = h;
  const ratio = h.median / f.median;
  rows.push(['mutation, 1,000 active tasks, fresh branch: median / p90 ms', `${ms(f.median)} / ${ms(f.p90)}`, '']);
  rows.push([`  with ${events.toLocaleString('en')} events and ${archived.toLocaleString('en')} archived tasks`, `${ms(h.median)} / ${ms(h.p90)}`, '']);
  rows.push(['  ratio of medians', ratio.toFixed(2), `<= 1.5: ${ratio <= 1.5 ? 'meets target' : 'MISSES target'}`]);

  // 2. Verification speed, on a history of ordinary mutations.
  const vrepo = path.join(tempDir('orc-bench-verify-'), 'repo');
  initRepo(vrepo);
  const orc = openOrchestrator({ repo: vrepo, remote: null, agent: 'bench' });
  // Real operations only: every commit must replay.
  await orc.createWorkstream('bench');
  for (let i = 0; i < 100; i++) await orc.addTask('bench', { title: `task ${i}`, priority: i % 5 });
  const commits = quick ? 600 : 2000;
  for (let i = 0; i < commits / 2; i++) {
    const t = await orc.getNextTask('bench', `agent-${i % 5}`);
    if (t) await orc.completeTask('bench', t.id, `done ${i}`, `agent-${i % 5}`);
    else await orc.addTask('bench', { title: `more ${i}` });
  }
  orc.close();
  const verifier = openOrchestrator({ repo: vrepo, remote: null });
  const started = performance.now();
  const v = await verifier.verify();
  const seconds = (performance.now() - started) / 1000;
  verifier.close();
  const rate = v.checked / seconds;
  results.verify = { commits: v.checked, seconds, per_second: rate, ok: v.ok };
  rows.push([`verify (${v.checked} commits, ${v.ok ? 'all valid' : 'FAILED'})`, `${rate.toFixed(0)} commits/s`, `>= 500: ${rate >= 500 ? 'meets target' : 'MISSES target'}`]);

  // 3. What the pre-receive hook adds to a push of one commit.
  const root = tempDir('orc-bench-hook-');
  const guarded = path.join(root, 'guarded.git');
  const plain = path.join(root, 'plain.git');
  initRepo(guarded, true);
  initRepo(plain, true);
  const clone = path.join(root, 'clone');
  initRepo(clone);
  await timeCommand(process.execPath, [BIN, 'ws', 'create', 'w'], clone);
  git(clone, 'push', '-q', guarded, 'orchestrator');
  git(clone, 'push', '-q', plain, 'orchestrator');
  await timeCommand(process.execPath, [BIN, 'hooks', 'install', guarded], clone);
  const withHook: number[] = [];
  const without: number[] = [];
  const rounds = quick ? 8 : 20;
  for (let i = 0; i < rounds; i++) {
    await timeCommand(process.execPath, [BIN, 't', 'add', 'w', `pushed ${i}`], clone);
    withHook.push(await timeCommand('git', ['push', '-q', guarded, 'orchestrator'], clone));
    without.push(await timeCommand('git', ['push', '-q', plain, 'orchestrator'], clone));
  }
  const wh = stats(withHook);
  const wo = stats(without);
  results.hook = { with: wh, without: wo };
  rows.push(['push of one commit without / with the hook: median ms', `${ms(wo.median)} / ${ms(wh.median)}`, '']);
  rows.push(['  added by the hook (medians)', `${ms(wh.median - wo.median)} ms`, `<= 50: ${wh.median - wo.median <= 50 ? 'meets target' : 'MISSES target'}`]);

  // 4. Repository size after many mutations, packed.
  const srepo = path.join(tempDir('orc-bench-size-'), 'repo');
  initRepo(srepo);
  // As in normal use: git's automatic maintenance on (the other benchmarks turn it off).
  git(srepo, 'config', '--unset', 'gc.auto');
  git(srepo, 'config', '--unset', 'maintenance.loose-objects.auto');
  const sorc = openOrchestrator({ repo: srepo, remote: null, agent: 'bench' });
  await sorc.createWorkstream('w');
  const mutations = quick ? 2000 : 10_000;
  let done = 1;
  let maxUsed = 0;
  while (done < mutations) {
    const t = await sorc.addTask('w', { title: `task ${done}` });
    await sorc.claimTask('w', t.id, `agent-${done % 4}`);
    await sorc.completeTask('w', t.id, `result ${done}`, `agent-${done % 4}`);
    done += 3;
    if (done % 600 < 3) await sorc.archive({ olderThanMs: 0 });
    if (done % 300 < 3) maxUsed = Math.max(maxUsed, du(path.join(srepo, '.git')));
  }
  sorc.close();
  // Sampled while writers were at it (the figure that matters), then after git gc once
  // background maintenance has finished (two gcs at once refuse each other).
  const asUsed = du(path.join(srepo, '.git'));
  await settled(path.join(srepo, '.git'));
  execFileSync('git', ['gc', '-q'], { cwd: srepo });
  const packed = du(path.join(srepo, '.git'));
  maxUsed = Math.max(maxUsed, asUsed);
  results.size = { mutations: done, background_maintained_bytes: asUsed, max_while_writing_bytes: maxUsed, packed_bytes: packed, bytes_per_mutation: packed / done };
  rows.push([`repository after ${done.toLocaleString('en')} mutations: as used (background maintenance) / after git gc`, `${(asUsed / 1048576).toFixed(1)} MiB / ${(packed / 1048576).toFixed(1)} MiB`, '']);
  rows.push(['  largest while writing, against packed', `${(maxUsed / 1048576).toFixed(1)} MiB = ${(maxUsed / packed).toFixed(1)}x`, `<= 3x: ${maxUsed / packed <= 3 ? 'meets target' : 'MISSES target'}`]);
  rows.push(['  packed bytes per mutation', `${(packed / done).toFixed(0)} B`, 'printed']);
  fs.rmSync(srepo, { recursive: true, force: true });
  return 'History and integrity\n' + table(rows);
}
