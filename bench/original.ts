/**
 * Side by side with the original program, on identical data: a data
 * directory in the original's format is generated here, the original's own
 * library (its orchestrator.js, loaded from its directory, never copied)
 * runs over it in a child process driven step by step, and the same
 * directory is imported into a branch of ours with `import`. Timings of the
 * two are interleaved call by call, so load on the machine hits both alike.
 *
 * Also: CLI start-up and large-board commands against `node -e 0`, the cost
 * of a mutation at the end of a live event segment against its start, and
 * the peak memory of importing 1,000,000 events.
 *
 * The original's location: `--original <dir>` or ORCHESTRATOR_ORIGINAL; by
 * default `../shared/seed/original` next to the repository (or next to its
 * parent directory). Without it, the comparisons with it are skipped.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openOrchestrator, type Orchestrator } from '../src/api.js';
import { engineBehind } from '../src/api/internals.js';
import { segmentLimits } from '../src/store/layout.js';
import { BLOB_MODE } from '../src/store/objects.js';
import type { OrcEvent } from '../src/domain/types.js';
import { BIN, ROOT, initRepo, ms, stats, table, tempDir, timeCommand, type Stats } from './util.js';

export interface OriginalOptions {
  quick: boolean;
  /** The original's directory, when given on the command line. */
  original?: string;
}

/** Where the original program is, or null (with the places looked at). */
export function findOriginal(given?: string): { dir: string | null; looked: string[] } {
  const named = given ?? process.env.ORCHESTRATOR_ORIGINAL;
  const candidates = named ? [path.resolve(named)] : [path.resolve(ROOT, '..', 'shared/seed/original'), path.resolve(ROOT, '..', '..', 'shared/seed/original')];
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'orchestrator.js'))) ?? null;
  return { dir, looked: candidates };
}

// ---------------------------------------------------------------------------
// Data in the original's format

const WORDS = ['api', 'billing', 'dashboard', 'tests', 'deploy', 'docs', 'refactor', 'cache', 'auth', 'search', 'export', 'metrics', 'queue', 'retry', 'schema'];
const word = () => WORDS[Math.floor(Math.random() * WORDS.length)];

function originalTask(i: number, at: string, ids: Set<string>): Record<string, unknown> {
  const done = i % 5 === 0;
  const active = i % 5 === 1;
  // Random ids as the original makes them, without its birthday collisions (likely at 50,000).
  let id: string;
  do id = randomBytes(4).toString('hex');
  while (ids.has(id));
  ids.add(id);
  return {
    id,
    title: `${word()} ${word()}: task ${i} ${randomBytes(3).toString('hex')}`,
    description: `Make the ${word()} ${word()} work with ${word()} (${i}); see ${randomBytes(4).toString('hex')}.`,
    status: done ? 'done' : active ? 'in_progress' : 'pending',
    priority: 1 + (i % 7),
    estimate: i % 3 === 0 ? `${1 + (i % 8)}h` : null,
    assigned_to: done || active ? `agent-${i % 4}` : null,
    created_at: at,
    updated_at: at,
    result: done ? `Done: ${word()} ${word()} ${randomBytes(3).toString('hex')}` : null,
  };
}

/**
 * Writes an original data directory: `tasks` tasks in one workstream
 * "bench", four agents, and `events` events (a task_created per task first,
 * then claims and custom events), streamed to disk.
 */
export function writeOriginalDir(dir: string, tasks: number, events: number): void {
  fs.mkdirSync(path.join(dir, 'knowledge'), { recursive: true });
  const at = new Date(Date.now() - 86_400_000).toISOString();
  const ids = new Set<string>();
  const list = Array.from({ length: tasks }, (_, i) => originalTask(i, at, ids));
  const agents: Record<string, unknown> = {};
  for (let a = 0; a < 4; a++) agents[`agent-${a}`] = { type: 'worker', status: 'active', capabilities: [word()], registered_at: at, last_seen: at };
  const state = { version: tasks + 1, updated_at: at, workstreams: { bench: { description: 'Benchmark work', priority: 1, status: 'active', tasks: list, created_at: at } }, agents, locks: {} };
  fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  const fd = fs.openSync(path.join(dir, 'events.jsonl'), 'w');
  let chunk = '';
  for (let i = 0; i < events; i++) {
    const t = list[i % Math.max(1, tasks)] as { id: string; title: string } | undefined;
    const e: OrcEvent =
      i < tasks
        ? { ts: at, agent: 'system', action: 'task_created', workstream: 'bench', task_id: t!.id, title: t!.title }
        : i % 3 === 0
          ? { ts: at, agent: `agent-${i % 4}`, action: 'deployed', service: word(), version: `${i % 10}.${i % 7}` }
          : { ts: at, agent: `agent-${i % 4}`, action: 'task_claimed', workstream: 'bench', task_id: t ? t.id : randomBytes(4).toString('hex') };
    chunk += JSON.stringify(e) + '\n';
    if (chunk.length > 1 << 20) {
      fs.writeSync(fd, chunk);
      chunk = '';
    }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(dir, 'knowledge', 'notes.md'), '<!-- Updated by agent-1 at 2026-01-01T00:00:00.000Z -->\nBenchmark notes\n');
}

/** A repository whose branch is the import of `dataDir` (through the CLI, as a user would do it). */
export async function importedRepo(dataDir: string): Promise<string> {
  const repo = path.join(tempDir('orc-bench-orig-'), 'repo');
  initRepo(repo);
  await timeCommand(process.execPath, [BIN, 'import', dataDir], repo);
  return repo;
}

// ---------------------------------------------------------------------------
// The original, driven one call at a time

const DRIVER = `
const orc = require(process.argv[1]);
let buf = '';
let i = 0;
process.stdin.on('data', (c) => {
  buf += c;
  let nl;
  while ((nl = buf.indexOf('\\n')) >= 0) {
    const cmd = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    const t = performance.now();
    if (cmd === 'add') orc.addTask('bench', { title: 'added ' + i++ });
    else if (cmd === 'next') orc.getNextTask('bench', 'agent-bench');
    else if (cmd === 'exit') process.exit(0);
    process.stdout.write((performance.now() - t) + '\\n');
  }
});
`;

class OriginalDriver {
  private child: ChildProcessWithoutNullStreams;
  private buf = '';
  private waiting: Array<(ms: number) => void> = [];

  constructor(originalDir: string, dataDir: string) {
    this.child = spawn(process.execPath, ['-e', DRIVER, path.join(originalDir, 'orchestrator.js')], { env: { ...process.env, ORCHESTRATOR_DIR: dataDir }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (c: Buffer) => {
      this.buf += c.toString();
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiting.shift()?.(Number(line));
      }
    });
    let err = '';
    this.child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    this.child.on('exit', (code) => {
      if (code) for (const w of this.waiting.splice(0)) w(Number.NaN);
      if (code) process.stderr.write(`original exited ${code}: ${err}\n`);
    });
  }

  call(cmd: 'add' | 'next'): Promise<number> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write(cmd + '\n');
    });
  }

  close(): void {
    this.child.stdin.write('exit\n');
  }
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

interface SideBySide {
  tasks: number;
  ours: { add: Stats; next: Stats; claim: Stats };
  original: { add: Stats; next: Stats } | null;
}

async function libraryRound(originalDir: string | null, tasks: number, rounds: number): Promise<SideBySide> {
  const data = path.join(tempDir('orc-bench-data-'), '.orchestrator');
  writeOriginalDir(data, tasks, tasks);
  const repo = await importedRepo(data);
  const original = originalDir ? new OriginalDriver(originalDir, data) : null;
  const orc: Orchestrator = openOrchestrator({ repo, remote: null, agent: 'agent-bench' });
  // The first call of each reads and parses its data.
  await orc.registerAgent('agent-bench', { type: 'bench' });
  if (original) {
    await original.call('add');
    await original.call('next');
  }
  const s = { add: [] as number[], next: [] as number[], claim: [] as number[], oAdd: [] as number[], oNext: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    let id = '';
    s.add.push(await timed(async () => (id = (await orc.addTask('bench', { title: `added ${i}` })).id)));
    if (original) s.oAdd.push(await original.call('add'));
    // Alternately the next task (chosen by the board) and a named one.
    if (i % 2) s.claim.push(await timed(() => orc.claimTask('bench', id, 'agent-bench')));
    else s.next.push(await timed(() => orc.getNextTask('bench', 'agent-bench')));
    if (original) s.oNext.push(await original.call('next'));
  }
  orc.close();
  original?.close();
  return { tasks, ours: { add: stats(s.add), next: stats(s.next), claim: stats(s.claim) }, original: original ? { add: stats(s.oAdd), next: stats(s.oNext) } : null };
}

// ---------------------------------------------------------------------------
// CLI against node -e 0

async function cliRound(originalDir: string | null, quick: boolean, results: Record<string, unknown>): Promise<string> {
  const small = path.join(tempDir('orc-bench-data-'), '.orchestrator');
  writeOriginalDir(small, 1000, 1000);
  const big = path.join(tempDir('orc-bench-data-'), '.orchestrator');
  const bigTasks = quick ? 10_000 : 50_000;
  writeOriginalDir(big, bigTasks, bigTasks);
  const smallRepo = await importedRepo(small);
  const bigRepo = await importedRepo(big);
  const node = process.execPath;
  // Warm the code cache, as any second call would find it.
  await timeCommand(node, [BIN, 'status'], smallRepo);
  const rows: Record<string, number[]> = { node: [], version: [], status: [], add: [], oStatus: [], oAdd: [] };
  // Start-up times on a shared machine spread widely (node -e 0 alone by a third): 40 rounds make the medians steadier.
  const rounds = quick ? 8 : 40;
  const oCli = originalDir ? path.join(originalDir, 'cli.js') : null;
  for (let i = 0; i < rounds; i++) {
    rows.node.push(await timeCommand(node, ['-e', '0'], smallRepo));
    rows.version.push(await timeCommand(node, [BIN, '--version'], smallRepo));
    rows.status.push(await timeCommand(node, [BIN, 'status'], smallRepo));
    rows.add.push(await timeCommand(node, [BIN, 't', 'add', 'bench', `cli task ${i}`], bigRepo));
    if (oCli) {
      rows.oStatus.push(await timeCommand(node, [oCli, 'status'], smallRepo, { ORCHESTRATOR_DIR: small }));
      rows.oAdd.push(await timeCommand(node, [oCli, 't', 'add', 'bench', `cli task ${i}`], bigRepo, { ORCHESTRATOR_DIR: big }));
    }
  }
  const st = Object.fromEntries(Object.entries(rows).filter(([, v]) => v.length).map(([k, v]) => [k, stats(v)]));
  results.original_cli = st;
  const base = st.node.median;
  const r = (x: Stats) => (x.median / base).toFixed(2);
  const big1 = bigTasks.toLocaleString('en');
  const t = [
    ['command', 'median ms', 'p90 ms', 'ratio to node -e 0', 'original: median ms (ratio)', 'target'],
    ['node -e 0', ms(base), ms(st.node.p90), '1.00', '', ''],
    ['orchestrator --version', ms(st.version.median), ms(st.version.p90), r(st.version), '', `<= 1.1x: ${verdict(st.version.median / base <= 1.1)}`],
    ['orchestrator status, 1,000 tasks', ms(st.status.median), ms(st.status.p90), r(st.status), st.oStatus ? `${ms(st.oStatus.median)} (${r(st.oStatus)})` : '', `<= 1.25x: ${verdict(st.status.median / base <= 1.25)}`],
    [`orchestrator t add, ${big1} tasks`, ms(st.add.median), ms(st.add.p90), r(st.add), st.oAdd ? `${ms(st.oAdd.median)} (${r(st.oAdd)})` : '', quick ? '(quick: 50,000 in a full run)' : `<= 2.0x: ${verdict(st.add.median / base <= 2)}`],
  ];
  return `CLI calls against node -e 0 (${rounds} interleaved runs each; boards imported from original data directories)\n` + table(t);
}

// ---------------------------------------------------------------------------
// A live event segment: start against end

/** A branch with 1,000 tasks whose live segment holds `fill` (a share of its bound, 0..1) of events. */
async function liveSegmentBranch(fill: number, rounds: number): Promise<string> {
  const data = path.join(tempDir('orc-bench-data-'), '.orchestrator');
  writeOriginalDir(data, 1000, 0);
  const repo = await importedRepo(data);
  const orc = openOrchestrator({ repo, remote: null, agent: 'system' });
  const store = (await engineBehind(orc)).store;
  const snap = await store.snapshot(store.localTip());
  const limits = segmentLimits(snap.world.state);
  // Room for the measured mutations (two events a round, under 200 bytes each) and a margin, whichever bound comes first.
  const roomEvents = 2 * rounds + 20;
  const maxEvents = Math.max(0, Math.floor(fill * (limits.events - roomEvents)));
  const maxBytes = Number.isFinite(limits.bytes) ? Math.max(0, Math.floor(fill * (limits.bytes - roomEvents * 200))) : Infinity;
  let text = '';
  for (let i = 0; i < maxEvents; i++) {
    const line = JSON.stringify({ ts: new Date().toISOString(), agent: `agent-${i % 4}`, action: 'task_claimed', workstream: 'bench', task_id: randomBytes(4).toString('hex'), n: i }) + '\n';
    if (text.length + line.length > maxBytes) break;
    text += line;
  }
  const oid = await store.objects.writeBlob(Buffer.from(text));
  const root = snap.root.map((e) => (e.name === 'events.jsonl' ? { mode: BLOB_MODE, name: e.name, oid } : e));
  const tree = await store.objects.writeTree(root);
  const person = { name: 'system', email: 'system@orchestrator', timestamp: Math.floor(Date.now() / 1000), tzOffset: 0 };
  const commit = await store.objects.writeCommit({ tree, parents: [snap.commit!], author: person, committer: person, message: 'bench: fill the live segment\n' });
  if (!(await store.swapLocal(snap.commit, commit, 'system', 'bench'))) throw new Error('bench seed lost a race');
  orc.close();
  return repo;
}

async function liveSegmentRound(quick: boolean, results: Record<string, unknown>): Promise<string> {
  const rounds = quick ? 30 : 60;
  const start = await liveSegmentBranch(0, rounds);
  const end = await liveSegmentBranch(1, rounds);
  const a = openOrchestrator({ repo: start, remote: null, agent: 'agent-bench' });
  const b = openOrchestrator({ repo: end, remote: null, agent: 'agent-bench' });
  await a.registerAgent('agent-bench');
  await b.registerAgent('agent-bench');
  const sa: number[] = [];
  const sb: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let id = '';
    sa.push(await timed(async () => (id = (await a.addTask('bench', { title: `added ${i}` })).id)));
    sa.push(await timed(() => a.claimTask('bench', id, 'agent-bench')));
    sb.push(await timed(async () => (id = (await b.addTask('bench', { title: `added ${i}` })).id)));
    sb.push(await timed(() => b.claimTask('bench', id, 'agent-bench')));
  }
  const store = (await engineBehind(b)).store;
  const tip = await store.snapshot(store.localTip());
  const limits = segmentLimits(tip.world.state);
  const size = tip.eventsOid ? (await store.objects.readBlob(tip.eventsOid)).length : 0;
  a.close();
  b.close();
  const x = stats(sa);
  const y = stats(sb);
  results.live_segment = { start: x, end: y, end_bytes: size, limits };
  const ratio = y.median / x.median;
  const bound = `${limits.events.toLocaleString('en')} events${Number.isFinite(limits.bytes) ? ` or ${Math.round(limits.bytes / 1024)} KB` : ''}`;
  return (
    `Live event segment (sealed at ${bound}): mutations at its start and at its end (${(size / 1024).toFixed(0)} KB), 1,000 tasks, interleaved\n` +
    table([
      ['live segment', 'median ms', 'p90 ms', 'target'],
      ['just sealed (empty)', ms(x.median), ms(x.p90), ''],
      ['about to be sealed', ms(y.median), ms(y.p90), ''],
      ['ratio of medians', ratio.toFixed(2), '', `<= 1.2x: ${verdict(ratio <= 1.2)}`],
    ])
  );
}

// ---------------------------------------------------------------------------
// Import of a large event log: memory

const MAXRSS = `process.on('exit', () => require('fs').writeFileSync(process.env.BENCH_MAXRSS_FILE, String(process.resourceUsage().maxRSS)));\n`;

async function importRound(quick: boolean, results: Record<string, unknown>): Promise<string> {
  const events = quick ? 200_000 : 1_000_000;
  const tmp = tempDir('orc-bench-import-');
  const data = path.join(tmp, '.orchestrator');
  writeOriginalDir(data, 1000, events);
  const repo = path.join(tmp, 'repo');
  initRepo(repo);
  const preload = path.join(tmp, 'maxrss.cjs');
  fs.writeFileSync(preload, MAXRSS);
  const rssFile = path.join(tmp, 'maxrss');
  const wall = await timeCommand(process.execPath, ['-r', preload, BIN, 'import', data], repo, { BENCH_MAXRSS_FILE: rssFile });
  const peakMb = Number(fs.readFileSync(rssFile, 'utf8')) / 1024;
  const size = fs.statSync(path.join(data, 'events.jsonl')).size;
  results.import = { events, bytes: size, wall_ms: wall, peak_mb: peakMb };
  return (
    `Import of an original data directory with ${events.toLocaleString('en')} events (${(size / 1048576).toFixed(0)} MB) and 1,000 tasks, through the CLI\n` +
    table([
      ['measure', 'value', 'target'],
      ['wall time', `${(wall / 1000).toFixed(1)} s`, ''],
      ['peak memory (max RSS)', `${peakMb.toFixed(0)} MB`, quick ? '(quick: 1,000,000 events in a full run)' : `<= 300 MB: ${verdict(peakMb <= 300)}`],
    ])
  );
}

function verdict(ok: boolean): string {
  return ok ? 'meets target' : 'MISSES target';
}

export async function originalSection(opts: OriginalOptions, results: Record<string, unknown>): Promise<string> {
  const { dir, looked } = findOriginal(opts.original);
  const out: string[] = [];
  if (!dir) {
    out.push(`Side by side with the original: skipped (no orchestrator.js in ${looked.join(' or ')}; give its directory with --original <dir> or ORCHESTRATOR_ORIGINAL)`);
  }
  const sizes = opts.quick ? [100, 1000] : [100, 1000, 10_000];
  const rows = [['tasks', 'ours: add', 'ours: next', 'ours: claim', 'original: add', 'original: next', 'add / original add', 'next / add', 'target']];
  for (const size of sizes) {
    const r = await libraryRound(dir, size, size >= 10_000 ? 40 : 100);
    results[`original_library_${size}`] = r;
    const vsOriginal = r.original ? r.ours.add.median / r.original.add.median : null;
    const nextOverAdd = r.ours.next.median / r.ours.add.median;
    const targets: string[] = [];
    if (size === 1000 && vsOriginal !== null) targets.push(`add <= 1.0x original: ${verdict(vsOriginal <= 1.0)}`);
    if (size === 10_000 && vsOriginal !== null) targets.push(`add <= 0.35x original: ${verdict(vsOriginal <= 0.35)}`);
    targets.push(`next <= 1.2x add: ${verdict(nextOverAdd <= 1.2)}`);
    rows.push([
      size.toLocaleString('en'),
      ms(r.ours.add.median),
      ms(r.ours.next.median),
      ms(r.ours.claim.median),
      r.original ? ms(r.original.add.median) : '-',
      r.original ? ms(r.original.next.median) : '-',
      vsOriginal === null ? '-' : vsOriginal.toFixed(2),
      nextOverAdd.toFixed(2),
      targets.join('; '),
    ]);
  }
  out.push(
    'Library calls side by side with the original on the same data (medians in ms; warm processes; ours: the import of the original data directory, local repo, no remote; calls interleaved)\n' +
      table(rows),
  );
  out.push(await cliRound(dir, opts.quick, results));
  out.push(await liveSegmentRound(opts.quick, results));
  out.push(await importRound(opts.quick, results));
  return out.join('\n\n');
}
