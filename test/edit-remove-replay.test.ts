/**
 * The edit and remove operations (task.edit, task.delete, workstream.archive,
 * agent.remove) applied as raw operations to a real branch: `verify` replays
 * them exactly, the pre-receive hook accepts them, and a commit that claims
 * one of them but changed something else (or that its parent refuses) is
 * found, naming the commit.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator, type Orchestrator } from '../src/api.js';
import type { OpBase } from '../src/domain/op.js';
import { cli } from './helpers/cli.js';
import { GIT_ENV, cleanup, git, makeCluster, makeRepo } from './helpers/repos.js';

afterAll(cleanup);

/** A raw operation at a time no earlier than the branch's last. */
async function op(orc: Orchestrator, fields: Record<string, unknown>, by = 'alice'): Promise<OpBase> {
  const last = (await orc.loadState()).updated_at;
  const at = new Date(Math.max(Date.now(), Date.parse(last))).toISOString();
  return { at, by, ...fields } as OpBase;
}

async function apply(orc: Orchestrator, fields: Record<string, unknown>, by?: string): Promise<unknown> {
  return (await orc.apply(await op(orc, fields, by))).result;
}

/** A board where every new operation has something to do. */
async function board(repo: string): Promise<{ orc: Orchestrator; a: string }> {
  const orc = openOrchestrator({ repo, agent: 'alice' });
  await orc.createWorkstream('w');
  await orc.createWorkstream('old');
  const a = (await orc.addTask('w', { title: 'first' })).id;
  return { orc, a };
}

/** Edits state.json of the tip as parsed JSON. */
function editState(edit: (s: any) => void): (files: Map<string, string>) => void {
  return (f) => {
    const s = JSON.parse(f.get('state.json')!);
    edit(s);
    f.set('state.json', JSON.stringify(s, null, 2) + '\n');
  };
}

/** Puts a commit recording `rec` on the tip without changing the tree, as a forger would. */
function forgeRecord(repo: string, subject: string, rec: OpBase): void {
  const tip = git(repo, 'rev-parse', 'orchestrator');
  const forged = git(repo, 'commit-tree', `${tip}^{tree}`, '-p', tip, '-m', `${subject}\n\nOrchestrator-Op: ${JSON.stringify(rec)}\n`);
  git(repo, 'update-ref', 'refs/heads/orchestrator', forged, tip);
}

/** Replaces the tip with a commit of the same message whose files were changed by `change` (git plumbing). */
function rewriteTip(repo: string, change: (files: Map<string, string>) => void, message?: string): string {
  const tip = git(repo, 'rev-parse', 'orchestrator');
  const files = new Map<string, string>();
  for (const line of git(repo, 'ls-tree', '-r', 'orchestrator').split('\n')) {
    const [meta, name] = line.split('\t');
    files.set(name, execFileSync('git', ['cat-file', 'blob', meta.split(' ')[2]], { cwd: repo }).toString());
  }
  change(files);
  const index = path.join(repo, '.git', 'forge-index');
  fs.rmSync(index, { force: true });
  const env = { ...GIT_ENV, GIT_INDEX_FILE: index, GIT_AUTHOR_NAME: git(repo, 'log', '-1', '--format=%an', tip) };
  for (const [name, content] of files) {
    const oid = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repo, input: content, env }).toString().trim();
    execFileSync('git', ['update-index', '--add', '--cacheinfo', `100644,${oid},${name}`], { cwd: repo, env });
  }
  const tree = execFileSync('git', ['write-tree'], { cwd: repo, env }).toString().trim();
  const msg = message ?? git(repo, 'log', '-1', '--format=%B', tip);
  const commit = execFileSync('git', ['commit-tree', tree, '-p', `${tip}^`, '-m', msg], { cwd: repo, env }).toString().trim();
  git(repo, 'update-ref', 'refs/heads/orchestrator', commit, tip);
  return commit;
}

describe('replay of the edit and remove operations', () => {
  it('verify passes a history with each of them, and the hook accepts it', async () => {
    const { remote, clones } = makeCluster(1);
    expect(cli(['hooks', 'install', remote], { cwd: remote }).code).toBe(0);
    const repo = clones[0];
    const { orc } = await board(repo);
    const b = await orc.addTask('w', { title: 'second' });
    const c = await orc.addTask('w', { title: 'third', after: [b.id] });
    await apply(orc, { op: 'task.edit', workstream: 'w', id: c.id, title: 'third, renamed', priority: 1, estimate: '2h', description: 'more', depends_on: [], needs: ['db'] });
    await apply(orc, { op: 'task.delete', workstream: 'w', id: c.id });
    await orc.registerAgent('bob');
    await orc.claimTask('w', b.id, 'bob');
    await orc.lock('db', 'bob', { ttlMs: 600_000 });
    await apply(orc, { op: 'agent.remove', id: 'bob', force: true });
    await orc.addTask('old', { title: 'to finish' }).then((t) => orc.completeTask('old', t.id, 'ok'));
    await apply(orc, { op: 'workstream.archive', name: 'old' });
    expect((await orc.listWorkstreams()).map((w) => w.name)).toEqual(['w']);
    expect(await orc.listLocks()).toEqual([]);
    expect((await orc.listTasks('w')).find((t) => t.id === b.id)).toMatchObject({ status: 'pending', assigned_to: null });
    expect(git(repo, 'log', '-5', '--format=%s', 'orchestrator').split('\n')).toEqual([
      'workstream archive old by alice',
      'task complete old/' + (await orc.listTasks('old'))[0].id + ' by alice',
      'task add old/' + (await orc.listTasks('old'))[0].id + ' by alice',
      'agent remove bob by alice (forced)',
      'lock acquire "db" by bob',
    ]);
    const v = cli(['verify', '--json'], { cwd: repo });
    expect(v.code).toBe(0);
    expect(v.json).toMatchObject({ ok: true, checked: Number(git(repo, 'rev-list', '--count', 'orchestrator')) });
    expect(git(remote, 'rev-parse', 'orchestrator')).toBe(git(repo, 'rev-parse', 'orchestrator'));
  });

  const forgeries: Array<[string, (repo: string, orc: Orchestrator, a: string) => Promise<unknown>, RegExp]> = [
    [
      'a forced agent.remove that left its task in progress',
      async (repo, orc, a) => {
        await orc.registerAgent('bob');
        await orc.claimTask('w', a, 'bob');
        await apply(orc, { op: 'agent.remove', id: 'bob', force: true });
        rewriteTip(repo, editState((s) => Object.assign(s.workstreams.w.tasks[0], { status: 'in_progress', assigned_to: 'bob' })));
      },
      /has a state\.json its operation \(agent\.remove\) does not produce: workstreams\.w\.tasks\[0\]\.status/,
    ],
    [
      'a forced agent.remove that kept its lock',
      async (repo, orc) => {
        await orc.registerAgent('bob');
        await orc.lock('db', 'bob', { ttlMs: 600_000 });
        const lockFile = git(repo, 'show', 'orchestrator:locks/db.json') + '\n';
        await apply(orc, { op: 'agent.remove', id: 'bob', force: true });
        rewriteTip(repo, (f) => f.set('locks/db.json', lockFile));
      },
      /has locks, which its operation does not produce/,
    ],
    [
      'a task.edit that changed another field',
      async (repo, orc, a) => {
        await apply(orc, { op: 'task.edit', workstream: 'w', id: a, title: 'renamed' });
        rewriteTip(repo, editState((s) => (s.workstreams.w.tasks[0].priority = 1)));
      },
      /does not produce: workstreams\.w\.tasks\[0\]\.priority/,
    ],
    [
      'a task.edit that closes a cycle',
      async (repo, orc, a) => {
        const b = await orc.addTask('w', { title: 'b', after: [a] });
        forgeRecord(repo, `task edit w/${a} by alice`, await op(orc, { op: 'task.edit', workstream: 'w', id: a, depends_on: [b.id] }));
      },
      /records an operation its parent refuses: these dependencies would make a cycle: [0-9a-f]+ -> [0-9a-f]+ -> [0-9a-f]+/,
    ],
    [
      'a task.delete of a task others depend on',
      async (repo, orc, a) => {
        await orc.addTask('w', { title: 'b', after: [a] });
        forgeRecord(repo, `task delete w/${a} by alice`, await op(orc, { op: 'task.delete', workstream: 'w', id: a }));
      },
      /records an operation its parent refuses: task "[0-9a-f]+" is a dependency of "[0-9a-f]+" \(w\)/,
    ],
    [
      'a workstream.archive that also dropped its tasks',
      async (repo, orc, a) => {
        await orc.completeTask('w', a, 'ok');
        await apply(orc, { op: 'workstream.archive', name: 'w' });
        rewriteTip(repo, editState((s) => (s.workstreams.w.tasks = [])));
      },
      /does not produce: workstreams\.w\.tasks/,
    ],
  ];

  it.each(forgeries)('verify finds %s, naming the commit', async (_label, make, reason) => {
    const repo = makeRepo();
    const { orc, a } = await board(repo);
    await make(repo, orc, a);
    const bad = git(repo, 'rev-parse', 'orchestrator');
    const r = cli(['verify'], { cwd: repo });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`commit ${bad.slice(0, 8)} `);
    expect(r.stderr).toMatch(reason);
  });
});
