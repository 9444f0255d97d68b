import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { cliAsync } from './helpers/cli.js';
import { runClaimers } from './helpers/race.js';
import { cleanup, git, makeCluster, makeRepo } from './helpers/repos.js';

afterAll(cleanup);

async function seed(repo: string, n: number): Promise<string[]> {
  const orc = openOrchestrator({ repo });
  await orc.createWorkstream('w');
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await orc.addTask('w', { title: `task ${i}`, priority: i % 3 })).id);
  orc.close();
  return ids;
}

/** Every task claimed exactly once: by the processes, in state, in events and in commits. */
function checkExactlyOnce(repo: string, ids: string[], reports: Array<{ agent: string; claims: Array<{ id: string }>; error?: string }>): void {
  for (const r of reports) expect(r.error).toBeUndefined();
  const claimed = reports.flatMap((r) => r.claims.map((c) => c.id));
  expect(claimed.sort()).toEqual([...ids].sort());
  const state = JSON.parse(git(repo, 'show', 'orchestrator:state.json'));
  const owner = new Map(reports.flatMap((r) => r.claims.map((c) => [c.id, r.agent] as const)));
  for (const t of state.workstreams.w.tasks) {
    expect(t.status).toBe('in_progress');
    expect(t.assigned_to).toBe(owner.get(t.id));
  }
  const events = git(repo, 'show', 'orchestrator:events.jsonl')
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.action === 'task_claimed');
  expect(events.map((e) => `${e.task_id}:${e.agent}`).sort()).toEqual(ids.map((id) => `${id}:${owner.get(id)}`).sort());
  const subjects = git(repo, 'log', '--format=%s', 'orchestrator').split('\n').filter((s) => s.startsWith('task claim'));
  expect(subjects).toHaveLength(ids.length);
  expect(new Set(subjects).size).toBe(ids.length);
}

describe('races between OS processes', () => {
  it('processes on one clone claim every task exactly once', async () => {
    const repo = makeRepo();
    const ids = await seed(repo, 40);
    const reports = await runClaimers(
      Array.from({ length: 4 }, (_, i) => ({ repo, agent: `agent-${i}` })),
      'w',
    );
    checkExactlyOnce(repo, ids, reports);
  });

  it.each<[string, Record<string, string>]>([
    ['in process (local transport)', {}],
    ['through git push and fetch', { ORCHESTRATOR_TRANSPORT: 'git' }],
  ])('processes on separate clones of one remote claim every task exactly once, %s', async (_label, env) => {
    const { clones, remote } = makeCluster(4);
    const ids = await seed(clones[0], env.ORCHESTRATOR_TRANSPORT ? 16 : 32);
    const reports = await runClaimers(
      clones.map((repo, i) => ({ repo, agent: `agent-${i}` })),
      'w',
      env,
    );
    checkExactlyOnce(remote, ids, reports);
    // Every clone's branch agrees with the remote once it reads.
    for (const c of clones) await openOrchestrator({ repo: c }).status();
    for (const c of clones) expect(git(c, 'rev-parse', 'orchestrator')).toBe(git(remote, 'rev-parse', 'orchestrator'));
  });

  it('of several CLI processes claiming one task, exactly one wins', async () => {
    const { clones } = makeCluster(3);
    const [id] = await seed(clones[0], 1);
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => cliAsync(['t', 'claim', 'w', id, `agent-${i}`], { cwd: clones[i % 3] })),
    );
    expect(runs.filter((r) => r.code === 0)).toHaveLength(1);
    expect(runs.filter((r) => r.code === 4)).toHaveLength(5);
    for (const r of runs.filter((x) => x.code === 4)) expect(r.stderr).toContain('is in_progress');
  });
});
