/**
 * `orchestrator demo` (what `npm start` runs): a temporary bare remote and
 * one clone per simulated agent, a seeded board with dependencies and a
 * shared resource, the agents as separate processes working at a human pace
 * for about a minute, and the dashboard on 127.0.0.1. Ctrl-C stops it all
 * and removes the temporary directories (unless --keep).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { simpleGit } from 'simple-git';
import { openOrchestrator } from '../api.js';
import { OrchestratorError } from '../errors.js';
import { DEMO_AGENTS } from './agent.js';

export interface DemoOptions {
  port: number;
  keep: boolean;
  /** Seconds the agents work for. */
  duration: number;
  bin: string;
  out: (line: string) => void;
}


async function seed(repo: string): Promise<void> {
  const orc = openOrchestrator({ repo, agent: 'planner' });
  await orc.createWorkstream('backend', { description: 'Payments API and data', priority: 1 });
  await orc.createWorkstream('frontend', { description: 'Checkout experience', priority: 2 });
  await orc.createWorkstream('docs', { description: 'Guides and reference', priority: 3 });
  const design = await orc.addTask('backend', { title: 'Design the payments API', description: 'Endpoints, errors and idempotency keys for USDC payments.', priority: 1, estimate: '1h' });
  const impl = await orc.addTask('backend', { title: 'Implement USDC payments', description: 'Ledger tables and the payment endpoint.', priority: 1, after: [design.id], needs: ['db'] });
  await orc.addTask('backend', { title: 'Set up CI pipeline', description: 'Run the test suite on every push.', priority: 2, needs: ['ci'] });
  const hooks = await orc.addTask('backend', { title: 'Add payment webhooks', description: 'Notify merchants when a payment settles.', priority: 2, after: [impl.id], needs: ['db'] });
  await orc.addTask('frontend', { title: 'Build the checkout page', description: 'Pay with USDC from the cart.', priority: 1, after: [design.id] });
  await orc.addTask('frontend', { title: 'Payment status badge', description: 'Show settled / pending on orders.', priority: 2, after: [hooks.id] });
  await orc.addTask('docs', { title: 'Write the API reference', description: 'Every endpoint with examples.', priority: 1, after: [impl.id] });
  await orc.addTask('docs', { title: 'Quick start guide', description: 'From API key to first payment in five minutes.', priority: 2 });
  await orc.writeKnowledge('conventions', '# Conventions\n\n- Amounts are integers in micro-USDC.\n- Every write endpoint takes an Idempotency-Key.\n');
  orc.close();
}

async function freePortServe(opts: DemoOptions, repo: string) {
  const { serve } = await import('../server/app.js');
  for (let port = opts.port, i = 0; ; port++, i++) {
    try {
      return await serve({ port, fetchInterval: 1, open: { repo } });
    } catch (err) {
      if (opts.port === 0 || i >= 20 || !(err instanceof OrchestratorError && /in use/.test(err.message))) throw err;
    }
  }
}

export async function runDemo(opts: DemoOptions): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orchestrator-demo-'));
  const remote = path.join(root, 'remote.git');
  const children: ChildProcess[] = [];
  let server: Awaited<ReturnType<typeof freePortServe>> | null = null;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // The agents finish their current step; they must be gone before their
    // directories are removed (a late write would bring a directory back).
    const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
    const exited = Promise.all(running.map((c) => new Promise<void>((r) => c.once('exit', () => r()))));
    for (const c of running) c.kill('SIGTERM');
    const killer = setTimeout(() => running.forEach((c) => c.kill('SIGKILL')), 3000);
    await exited;
    clearTimeout(killer);
    await server?.close();
    if (opts.keep) opts.out(`Kept the demo files in ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    const git = simpleGit({ baseDir: root });
    await git.init(['--bare', '-q', remote]);
    const clone = async (name: string) => {
      const dir = path.join(root, name);
      await simpleGit({ baseDir: root }).clone(remote, dir, ['-q']);
      const g = simpleGit({ baseDir: dir });
      await g.addConfig('user.name', name);
      await g.addConfig('user.email', `${name}@demo.invalid`);
      return dir;
    };
    const board = await clone('board');
    await seed(board);
    const clones: Record<string, string> = {};
    for (const a of DEMO_AGENTS) clones[a.id] = await clone(a.id);
    server = await freePortServe(opts, board);
    const cli = `node ${opts.bin} --repo ${board}`;
    opts.out(`Orchestrator demo: three agents working through ${remote}`);
    opts.out('');
    opts.out(`  Dashboard: ${server.url}`);
    opts.out('');
    opts.out('  Try, in another terminal:');
    opts.out(`    ${cli} status`);
    opts.out(`    ${cli} t ls backend`);
    opts.out(`    ${cli} plan --markdown`);
    opts.out(`    ${cli} brief docs`);
    opts.out(`    ${cli} t add frontend "Dark mode for checkout" --after <task id>`);
    opts.out(`    git -C ${board} log --oneline orchestrator`);
    opts.out('');
    opts.out(`The agents work for about ${opts.duration} seconds. Ctrl-C stops the demo${opts.keep ? '' : ' and removes its files'}.`);
    const finished = DEMO_AGENTS.map(
      (a) =>
        new Promise<void>((resolve) => {
          const child = spawn(process.execPath, [opts.bin, 'demo-agent', a.id, '--repo', clones[a.id], '--duration', String(opts.duration)], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          children.push(child);
          const prefix = (s: Buffer) =>
            s
              .toString()
              .split('\n')
              .filter(Boolean)
              .forEach((l) => opts.out(`  [${a.id}] ${l}`));
          child.stdout!.on('data', prefix);
          child.stderr!.on('data', prefix);
          child.on('exit', () => resolve());
        }),
    );
    const interrupted = new Promise<void>((resolve) => {
      const onSignal = () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      void Promise.all(finished).then(() => {
        if (!stopping) opts.out(`The agents are done; the dashboard stays up at ${server!.url} until Ctrl-C.`);
      });
    });
    await interrupted;
  } finally {
    await stop();
  }
}
