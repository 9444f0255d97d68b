/**
 * npm run bench: prints the figures the issues set targets for, measured on
 * this machine in this run (medians and p90; ratios against a baseline
 * measured in the same run). `npm run bench -- --only cli,contention`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openOrchestrator } from '../src/api.js';
import { contention, type ContentionResult } from './contention.js';
import { seedTasks } from './seed.js';
import { serverSection } from './server.js';
import { integritySection } from './integrity.js';
import { httpSection, remoteSection } from './remote.js';
import { originalSection } from './original.js';
import { BIN, cleanupAll, initRepo, ms, stats, table, tempDir, timeCommand, timeMutations } from './util.js';

interface Section {
  name: string;
  run: () => Promise<string>;
}

const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice(7) ?? (args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined);
const quick = args.includes('--quick');
// The original program, for the side-by-side section: --original <dir> (or ORCHESTRATOR_ORIGINAL).
const original = args.find((a) => a.startsWith('--original='))?.slice(11) ?? (args.includes('--original') ? args[args.indexOf('--original') + 1] : undefined);
const results: Record<string, unknown> = {};

function verdict(ok: boolean): string {
  return ok ? 'meets target' : 'MISSES target';
}

async function libraryMutation(): Promise<string> {
  const rows = [['tasks on the branch', 'mutations', 'median ms', 'p90 ms', 'target']];
  const sizes = quick ? [100, 1000] : [100, 1000, 10000];
  for (const size of sizes) {
    const repo = path.join(tempDir('orc-bench-lib-'), 'repo');
    initRepo(repo);
    await seedTasks(repo, { bench: size });
    const orc = openOrchestrator({ repo, remote: null, agent: 'bench' });
    const s = await timeMutations(orc, 'bench', size >= 10000 ? 60 : 200);
    orc.close();
    results[`library_mutation_${size}`] = s;
    rows.push([String(size), String(s.n), ms(s.median), ms(s.p90), size === 1000 ? `median <= 10: ${verdict(s.median <= 10)}` : '']);
  }
  return 'Library mutation (addTask and claimTask, each timed; warm process, local repo, no remote)\n' + table(rows);
}

async function cliLatency(): Promise<string> {
  const repo = path.join(tempDir('orc-bench-cli-'), 'repo');
  initRepo(repo);
  await seedTasks(repo, { bench: 100 });
  const node = process.execPath;
  // Warm the CLI's code cache, as any second call would find it.
  await timeCommand(node, [BIN, 'status'], repo);
  const base: number[] = [];
  const status: number[] = [];
  const add: number[] = [];
  const rounds = quick ? 10 : 30;
  // Interleaved, so that load on the machine affects all three alike.
  for (let i = 0; i < rounds; i++) {
    base.push(await timeCommand(node, ['-e', '0'], repo));
    status.push(await timeCommand(node, [BIN, 'status'], repo));
    add.push(await timeCommand(node, [BIN, 't', 'add', 'bench', `cli task ${i}`], repo));
  }
  const b = stats(base);
  const s = stats(status);
  const a = stats(add);
  results.cli = { node: b, status: s, add: a };
  const rows = [
    ['command', 'median ms', 'p90 ms', 'ratio to node -e 0', 'target'],
    ['node -e 0', ms(b.median), ms(b.p90), '1.00', ''],
    ['orchestrator status', ms(s.median), ms(s.p90), (s.median / b.median).toFixed(2), `<= 2.0x: ${verdict(s.median / b.median <= 2)}`],
    ['orchestrator t add', ms(a.median), ms(a.p90), (a.median / b.median).toFixed(2), `<= 2.5x: ${verdict(a.median / b.median <= 2.5)}`],
  ];
  return `CLI call latency (${rounds} interleaved runs each, local repo with 100 tasks, no remote)\n` + table(rows);
}

function contentionRow(label: string, r: ContentionResult, target: string): string[] {
  return [
    label,
    `${r.processes} x ${r.tasks}`,
    r.claimsPerSecond.toFixed(1),
    String(r.doubleClaims),
    r.attemptsPerClaim.toFixed(2),
    String(r.worstAttempts),
    ms(r.latency.median),
    ms(r.latency.p90),
    r.errors.length ? `${r.errors.length} errors` : r.stateAgrees ? 'yes' : 'NO',
    target,
  ];
}

async function contentionSection(): Promise<string> {
  const rows = [['setup', 'procs x tasks', 'claims/s', 'double claims', 'attempts/claim', 'worst attempts', 'median ms', 'p90 ms', 'state agrees', 'target']];
  const tasks = quick ? 120 : 400;
  const clones = await contention('clones', 8, tasks);
  results.contention_clones = clones;
  rows.push(
    contentionRow('8 clones of one bare remote', clones, `>= 20/s, 0 double, worst <= 15: ${verdict(clones.claimsPerSecond >= 20 && clones.doubleClaims === 0 && clones.worstAttempts <= 15 && clones.errors.length === 0)}`),
  );
  const shared = await contention('shared', 8, tasks);
  results.contention_shared = shared;
  rows.push(contentionRow('one shared clone', shared, `>= 40/s, 0 double: ${verdict(shared.claimsPerSecond >= 40 && shared.doubleClaims === 0 && shared.errors.length === 0)}`));
  const viaGit = await contention('clones', 4, quick ? 24 : 60, { ...process.env, ORCHESTRATOR_TRANSPORT: 'git' });
  results.contention_git = viaGit;
  rows.push(contentionRow('4 clones, git push/fetch (as over ssh)', viaGit, 'informational'));
  return (
    'Contention: OS processes claiming every task through the library (the remote is a local bare repository: written in process; ' +
    'the last row forces the git binary, as for a network remote)\n' +
    table(rows)
  );
}

const SECTIONS: Section[] = [
  { name: 'library', run: libraryMutation },
  { name: 'cli', run: cliLatency },
  { name: 'contention', run: contentionSection },
  { name: 'server', run: () => serverSection(quick, results) },
  { name: 'integrity', run: () => integritySection(quick, results) },
  { name: 'remote', run: () => remoteSection(quick, results) },
  { name: 'http', run: () => httpSection(quick, results) },
  { name: 'original', run: () => originalSection({ quick, original }, results) },
];

/** Share of CPU time busy over `ms` (Linux /proc/stat; 0 elsewhere). */
async function busyShare(ms: number): Promise<number> {
  const sample = () => {
    try {
      const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      return { idle: f[3] + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
    } catch {
      return null;
    }
  };
  const a = sample();
  await new Promise((r) => setTimeout(r, ms));
  const b = sample();
  if (!a || !b || b.total === a.total) return 0;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Waits (up to 30 s) until the machine is nearly idle: a section should not
 * pay for what the one before left running (git's background packing,
 * servers shutting down). Returns the seconds waited.
 */
async function settle(): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 30_000 && (await busyShare(500)) > 0.1) {
    /* wait */
  }
  return (Date.now() - started) / 1000;
}

async function main(): Promise<void> {
  const wanted = only ? only.split(',') : SECTIONS.map((s) => s.name);
  const started = Date.now();
  console.log(`git-orchestrator bench: node ${process.version}, ${require('node:os').cpus().length} cores, ${new Date().toISOString()}\n`);
  let settling = 0;
  for (const section of SECTIONS.filter((s) => wanted.includes(s.name))) {
    settling += await settle();
    try {
      console.log((await section.run()) + '\n');
    } finally {
      cleanupAll();
    }
  }
  const out = path.resolve(__dirname, '..', 'bench-results.json');
  fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2) + '\n');
  console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s, of which ${settling.toFixed(0)} s waiting for the machine to settle between sections; raw figures in ${path.basename(out)})`);
}

main().catch((err) => {
  console.error(err);
  cleanupAll();
  process.exit(1);
});
