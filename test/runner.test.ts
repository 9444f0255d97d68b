import { spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { cli } from './helpers/cli.js';
import { GIT_ENV, cleanup, makeRepo } from './helpers/repos.js';

afterAll(cleanup);

const T0 = Date.parse('2026-04-01T09:00:00.000Z');

/** A scripted history: three workstreams, dependencies, a shared resource, agents with capabilities, one of them stale. */
async function scripted() {
  const repo = makeRepo();
  let now = T0;
  const orc = openOrchestrator({ repo, clock: () => now });
  await orc.createWorkstream('backend', { priority: 1 });
  await orc.createWorkstream('frontend', { priority: 2 });
  await orc.createWorkstream('docs', { priority: 3 });
  const design = await orc.addTask('backend', { title: 'Design the payments API', priority: 1 });
  const migrate = await orc.addTask('backend', { title: 'Migrate ledger tables', priority: 2, needs: ['db'] });
  const index = await orc.addTask('backend', { title: 'Add ledger indexes', priority: 3, needs: ['db'] });
  const page = await orc.addTask('frontend', { title: 'Build the checkout page', after: [design.id] });
  const guide = await orc.addTask('docs', { title: 'Write the quick start guide' });
  await orc.registerAgent('old-timer', { type: 'worker' });
  const held = await orc.addTask('docs', { title: 'Held by the old timer' });
  await orc.claimTask('docs', held.id, 'old-timer');
  now += 10 * 60_000;
  await orc.registerAgent('writer', { capabilities: ['docs'] });
  await orc.registerAgent('dba', { capabilities: ['db', 'backend'] });
  await orc.registerAgent('generalist');
  await orc.writeKnowledge('payments-api', '# Payments API\nIdempotency keys on every write.');
  await orc.writeKnowledge('unrelated', 'Nothing about this.');
  return { repo, orc, ids: { design, migrate, index, page, guide, held }, at: () => now, set: (t: number) => (now = t) };
}

describe('plan', () => {
  it('assigns ready tasks to idle agents by capability and priority, serializes shared resources, lists stale agents', async () => {
    const { orc, ids } = await scripted();
    const plan = await orc.plan();
    expect(plan.idle_agents.sort()).toEqual(['dba', 'generalist', 'writer']);
    const byTask = Object.fromEntries(plan.assignments.map((a) => [a.id, a.agent]));
    expect(byTask[ids.migrate.id]).toBe('dba');
    expect(byTask[ids.guide.id]).toBe('writer');
    expect(byTask[ids.design.id]).toBe('generalist');
    // Two tasks need the db: one is planned, the other waits its turn.
    expect(byTask[ids.index.id]).toBeUndefined();
    expect(plan.serial).toEqual([{ resource: 'db', tasks: [`backend/${ids.migrate.id}`, `backend/${ids.index.id}`], reason: 'all need db: run one at a time' }]);
    // Blocked by its dependency: not ready, not planned.
    expect(plan.workstreams.find((w) => w.name === 'frontend')!.ready).toEqual([]);
    expect(plan.stale_agents).toEqual([{ agent: 'old-timer', last_seen: expect.any(String), tasks: [`docs/${ids.held.id}`] }]);
  });

  it('makes tasks wait while their resource is locked', async () => {
    const { orc, ids } = await scripted();
    await orc.lock('db', 'someone-else');
    const plan = await orc.plan();
    expect(plan.assignments.map((a) => a.id)).not.toContain(ids.migrate.id);
    expect(plan.waiting.map((w) => [w.id, w.resource])).toEqual([
      [ids.migrate.id, 'db'],
      [ids.index.id, 'db'],
    ]);
  });

  it("gives the original's fields: workstreams with work, recommended_parallel with briefs, recommended_serial", async () => {
    const { orc, ids } = await scripted();
    await orc.createWorkstream('idle-stream');
    const plan = await orc.plan();
    expect(Object.keys(plan).slice(0, 4)).toEqual(['generated_at', 'workstreams', 'recommended_parallel', 'recommended_serial']);
    // A workstream with nothing pending or in progress is left out, as in the original.
    expect(plan.workstreams.map((w) => w.name)).toEqual(['backend', 'frontend', 'docs']);
    const backend = plan.workstreams[0];
    expect(backend).toMatchObject({ name: 'backend', priority: 1, pending_count: 3 });
    expect(backend.next_task).toMatchObject({ id: ids.design.id, title: 'Design the payments API', status: 'pending', description: '', assigned_to: null, result: null });
    // One per workstream: its first ready task that can run beside the others; each with its brief.
    expect(plan.recommended_parallel.map((r) => [r.workstream, r.task.id])).toEqual([
      ['backend', ids.design.id],
      ['docs', ids.guide.id],
    ]);
    for (const r of plan.recommended_parallel) {
      expect(r.brief).toMatch(new RegExp(`^## Agent Brief: ${r.task.title}\n`));
      expect(r.brief).toContain(`**Task ID**: ${r.task.id}`);
    }
    expect(plan.recommended_parallel[0].agent).toBe('generalist');
    expect(plan.recommended_serial).toEqual([{ reason: 'all need db: run one at a time', tasks: [`backend/${ids.migrate.id}`, `backend/${ids.index.id}`], resource: 'db' }]);
  });

  it('prints JSON by default and markdown on request', async () => {
    const { repo } = await scripted();
    const json = cli(['plan', '--stale-after', '999999999'], { cwd: repo });
    expect(JSON.parse(json.stdout).assignments.length).toBe(3);
    const md = cli(['plan', '--markdown'], { cwd: repo }).stdout;
    expect(md).toMatch(/^# Cycle plan/);
    expect(md).toContain('## Run one at a time');
    expect(md).toContain('## Stale agents');
    expect(md).toContain('orchestrator t requeue <workstream> --stale');
  });
});

describe('brief', () => {
  it('has the task, its dependencies\' results, relevant knowledge, recent events and the commands to report back', async () => {
    const { repo, orc, ids } = await scripted();
    await orc.claimTask('backend', ids.design.id, 'generalist');
    await orc.completeTask('backend', ids.design.id, 'Spec in knowledge/payments-api');
    const { markdown } = await orc.brief('frontend', undefined, { agent: 'writer' });
    expect(markdown).toContain('## Agent Brief: Build the checkout page');
    expect(markdown).toContain(`**${ids.design.id}** Design the payments API (done): Spec in knowledge/payments-api`);
    expect(markdown).toContain('#### payments-api');
    expect(markdown).not.toContain('#### unrelated');
    expect(markdown).toContain(`orchestrator t claim frontend ${ids.page.id} writer`);
    expect(markdown).toContain(`orchestrator t complete frontend ${ids.page.id} "<result>"`);
    expect(markdown).not.toMatch(/\/(home|tmp|work)\//);
    const viaCli = cli(['brief', 'backend', ids.migrate.id, '--agent', 'dba', '--branch', 'orchestrator'], { cwd: repo }).stdout;
    expect(viaCli).toContain('orchestrator lock acquire db dba');
    expect(cli(['brief', 'frontend'], { cwd: repo }).code).toBe(0);
  });

  it("keeps the original runner's layout", async () => {
    const { orc, ids } = await scripted();
    const { markdown } = await orc.brief('backend', ids.design.id);
    const lines = markdown.split('\n');
    expect(lines.slice(0, 6)).toEqual([
      '## Agent Brief: Design the payments API',
      '',
      '**Workstream**: backend',
      `**Task ID**: ${ids.design.id}`,
      '**Priority**: 1',
      '**Description**: Design the payments API',
    ]);
    const headings = lines.filter((l) => l.startsWith('### '));
    expect(headings).toEqual(['### Relevant Knowledge', '### Recent System Events', '### Instructions']);
    expect(markdown).toMatch(/### Relevant Knowledge\n\n#### payments-api\n# Payments API\n/);
    expect(markdown).toMatch(/### Recent System Events\n- \d{4}-\d\d-\d\dT[\d:.]+Z: system workstream_created \(workstream=backend\)\n/);
    expect(markdown).toContain('. Write any findings to the knowledge base using:\n   orchestrator kb write <topic> "<content>"\n');
    expect(markdown).toContain(`. Mark the task complete when done:\n   orchestrator t complete backend ${ids.design.id} "<result>"\n`);
  });

  it('names what a blocked task waits for instead of telling the agent to claim it', async () => {
    const { orc, ids } = await scripted();
    const { markdown } = await orc.brief('frontend', ids.page.id, { agent: 'writer' });
    expect(markdown).toContain('**Status**: pending, blocked');
    expect(markdown).toContain(`### Waiting For\n\n- **backend/${ids.design.id}** Design the payments API (pending)`);
    expect(markdown).toContain(`1. Do not claim it yet: it waits for backend/${ids.design.id} (pending)`);
    expect(markdown).toContain(`orchestrator t show frontend ${ids.page.id}`);
    expect(markdown).not.toMatch(/^\d+\. Claim the task/m);
    // Once its dependency is done, the brief says to claim it.
    await orc.claimTask('backend', ids.design.id, 'dba');
    await orc.completeTask('backend', ids.design.id, 'done', 'dba');
    const ready = (await orc.brief('frontend', ids.page.id, { agent: 'writer' })).markdown;
    expect(ready).toContain(`1. Claim the task (exit 4: another agent has it):\n   orchestrator t claim frontend ${ids.page.id} writer`);
    expect(ready).not.toContain('Waiting For');
  });

  it('says so when a workstream has nothing ready, as the original did', async () => {
    const { repo } = await scripted();
    cli(['ws', 'create', 'empty'], { cwd: repo });
    const r = cli(['brief', 'empty'], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('No pending tasks.\n');
    expect(cli(['brief', 'empty', '--json'], { cwd: repo }).json).toEqual({ task: null, markdown: 'No pending tasks.\n' });
    // Pending tasks that wait for their dependencies are named.
    const blocked = cli(['brief', 'frontend'], { cwd: repo });
    expect(blocked.code).toBe(0);
    expect(blocked.stdout).toMatch(/^No pending tasks are ready: 1 waits for dependencies/);
    expect(cli(['brief', 'nowhere'], { cwd: repo }).code).toBe(3);
  });
});

describe('collect', () => {
  it('reports the cycle from git history and starts the next one after its marker', async () => {
    const { orc, ids, set, at } = await scripted();
    await orc.claimTask('backend', ids.design.id, 'generalist');
    await orc.completeTask('backend', ids.design.id, 'designed', 'generalist');
    await orc.claimTask('docs', ids.guide.id, 'writer');
    await orc.failTask('docs', ids.guide.id, 'no access to the API yet', 'writer');
    await orc.writeKnowledge('findings', 'learned things', 'writer');
    const first = await orc.collect();
    expect(first.since).toBeNull();
    expect(first.completed_this_cycle).toEqual([expect.objectContaining({ task_id: ids.design.id, result: 'designed', agent: 'generalist' })]);
    expect(first.failed_this_cycle).toEqual([expect.objectContaining({ task_id: ids.guide.id, reason: 'no access to the API yet' })]);
    expect(first.still_in_progress.map((t) => t.task_id)).toEqual([ids.held.id]);
    // The original's list of topic names; who wrote what and when beside it.
    expect(first.knowledge_updates).toEqual(['payments-api', 'unrelated', 'findings']);
    expect(first.knowledge_changes.map((k) => [k.topic, k.agent])).toEqual([
      ['payments-api', 'system'],
      ['unrelated', 'system'],
      ['findings', 'writer'],
    ]);
    const marker = (await orc.log({ last: 1 }))[0];
    expect(marker.op).toMatchObject({ op: 'cycle.collect', completed: 1, failed: 1, in_progress: 1 });

    set(at() + 60_000);
    await orc.claimTask('backend', ids.migrate.id, 'dba');
    await orc.completeTask('backend', ids.migrate.id, 'migrated', 'dba');
    const second = await orc.collect();
    expect(second.since).toBe(marker.id);
    expect(second.completed_this_cycle.map((t) => t.task_id)).toEqual([ids.migrate.id]);
    expect(second.failed_this_cycle).toEqual([]);
    expect(second.knowledge_updates).toEqual([]);

    // --since a time or a commit overrides the marker; --no-record leaves no marker.
    const again = await orc.collect({ since: new Date(T0).toISOString(), record: false });
    expect(again.completed_this_cycle.map((t) => t.task_id)).toEqual([ids.design.id, ids.migrate.id]);
    const fromCommit = await orc.collect({ since: marker.id.slice(0, 10), record: false });
    expect(fromCommit.completed_this_cycle.map((t) => t.task_id)).toEqual([ids.migrate.id]);
    await expect(orc.collect({ since: 'ffffffffff' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe("the original's orchestrator-runner and orchestrator-server commands", () => {
  const bin = (name: string) => path.join(__dirname, '..', 'bin', name);
  const runnerCmd = (args: string[], cwd: string) => spawnSync(process.execPath, [bin('orchestrator-runner.js'), ...args], { cwd, env: { ...GIT_ENV, ORCHESTRATOR_AGENT: '' }, encoding: 'utf8' });

  it('runs plan, brief and collect with their one-letter aliases, and prints its usage otherwise', async () => {
    const { repo, ids } = await scripted();
    expect(JSON.parse(runnerCmd(['p'], repo).stdout).recommended_parallel.length).toBeGreaterThan(0);
    const brief = runnerCmd(['b', 'backend'], repo);
    expect(brief.status).toBe(0);
    expect(brief.stdout).toContain(`**Task ID**: ${ids.design.id}`);
    expect(JSON.parse(runnerCmd(['c'], repo).stdout)).toHaveProperty('completed_this_cycle');
    for (const args of [[], ['nonsense']]) {
      const usage = runnerCmd(args, repo);
      expect(usage.status).toBe(0);
      expect(usage.stdout).toContain('orchestrator-runner brief <ws>');
    }
    expect(runnerCmd(['brief'], repo).status).toBe(2);
  });

  it('serves on PORT', async () => {
    const repo = makeRepo();
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const child = spawn(process.execPath, [bin('orchestrator-server.js')], { cwd: repo, env: { ...GIT_ENV, PORT: String(port) }, stdio: 'ignore' });
    try {
      let status = 0;
      for (let i = 0; i < 200 && status !== 200; i++) {
        status = await fetch(`http://127.0.0.1:${port}/api/status`).then((r) => r.status, () => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 50));
      }
      expect(status).toBe(200);
    } finally {
      child.kill();
    }
  });
});
