import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { cli } from './helpers/cli.js';
import { cleanup, makeRepo } from './helpers/repos.js';

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
    expect(markdown).toContain('## Agent brief: Build the checkout page');
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

  it('says so when a workstream has nothing ready', async () => {
    const { repo } = await scripted();
    cli(['ws', 'create', 'empty'], { cwd: repo });
    const r = cli(['brief', 'empty'], { cwd: repo });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no ready task');
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
    expect(first.knowledge_updates.map((k) => k.topic)).toEqual(['payments-api', 'unrelated', 'findings']);
    const marker = (await orc.log({ last: 1 }))[0];
    expect(marker.op).toMatchObject({ op: 'cycle.collect', completed: 1, failed: 1, in_progress: 1 });

    set(at() + 60_000);
    await orc.claimTask('backend', ids.migrate.id, 'dba');
    await orc.completeTask('backend', ids.migrate.id, 'migrated');
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
