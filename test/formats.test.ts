/**
 * A branch keeps the rules it was written under: history written before a
 * rule existed still replays (verify, the hook), and `init` upgrades the
 * branch so that its later operations follow the new rules.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { applyOp } from '../src/domain/apply.js';
import { isNoChange, type OpBase } from '../src/domain/op.js';
import { emptySnapshot, writeEffect } from '../src/store/layout.js';
import { ObjectStore } from '../src/store/objects.js';
import { findRepo } from '../src/store/repo.js';
import { cli } from './helpers/cli.js';
import { cleanup, git, makeRepo } from './helpers/repos.js';

afterAll(cleanup);

describe('branch formats', () => {
  it('replays a format 1 branch by its own rules, and init upgrades it to the current one', async () => {
    const repo = makeRepo();
    // The root commit as the first versions wrote it: format 1, author and committer the agent.
    const objects = new ObjectStore(findRepo(repo)!);
    const op: OpBase = { op: 'init', at: new Date(Date.now() - 60_000).toISOString(), by: 'system' };
    const empty = emptySnapshot(undefined, 1);
    const effect = applyOp(empty.world, op);
    if (isNoChange(effect)) throw new Error('init changed nothing');
    const root = await writeEffect(objects, empty, effect, op, 'init');
    objects.close();
    git(repo, 'update-ref', 'refs/heads/orchestrator', root.commit!);
    expect(JSON.parse(git(repo, 'show', 'orchestrator:state.json')).format).toBe(1);

    const a = openOrchestrator({ repo, agent: 'agent-a' });
    const b = openOrchestrator({ repo, agent: 'agent-b' });
    await a.createWorkstream('w');
    const t1 = await a.addTask('w', { title: 'first' });
    await a.claimTask('w', t1.id, 'agent-a');
    // Format 1: anyone completes anyone's task, as the first versions allowed.
    await expect(b.completeTask('w', t1.id, 'done by b')).resolves.toMatchObject({ status: 'done' });
    await a.archive({ olderThanMs: 0 });
    expect(JSON.parse(git(repo, 'show', 'orchestrator:state.json')).workstreams.w.archived_tasks).toBeUndefined();
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);

    const up = cli(['init', '--json'], { cwd: repo });
    expect(up.code).toBe(0);
    expect(up.json.upgraded).toEqual({ from: 1, to: 2 });
    expect(cli(['init', '--json'], { cwd: repo }).json.upgraded).toBeUndefined();
    const t2 = await a.addTask('w', { title: 'second' });
    await a.claimTask('w', t2.id, 'agent-a');
    await expect(b.completeTask('w', t2.id, 'not yours')).rejects.toMatchObject({ code: 'CONFLICT' });
    // The whole history, before and after the upgrade, replays.
    const verified = cli(['verify'], { cwd: repo });
    expect(verified.code).toBe(0);
    expect(JSON.parse(git(repo, 'show', 'orchestrator:events.jsonl').split('\n').find((l) => l.includes('branch_upgraded'))!)).toMatchObject({ from: 1, to: 2 });
    a.close();
    b.close();
  });

  it('makes new branches in the current format', async () => {
    const repo = makeRepo();
    expect(cli(['init'], { cwd: repo }).code).toBe(0);
    expect(JSON.parse(git(repo, 'show', 'orchestrator:state.json')).format).toBe(2);
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);
  });
});
