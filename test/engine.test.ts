import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { engineBehind } from '../src/api/internals.js';
import type { OpBase } from '../src/domain/op.js';
import { cli } from './helpers/cli.js';
import { cleanup, git, makeCluster, makeRepo, tempDir, worktreeFingerprint } from './helpers/repos.js';

afterAll(cleanup);

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function events(dir: string, ref = 'orchestrator'): Array<Record<string, unknown>> {
  const text = git(dir, 'show', `${ref}:events.jsonl`);
  return text ? text.split('\n').map((l) => JSON.parse(l)) : [];
}

describe('the mutation engine', () => {
  it('builds every change as one commit without touching the work tree, index or HEAD', async () => {
    const dir = makeRepo();
    fs.writeFileSync(path.join(dir, 'staged.txt'), 'staged\n');
    git(dir, 'add', 'staged.txt');
    fs.writeFileSync(path.join(dir, 'README.md'), '# changed, not staged\n');
    fs.writeFileSync(path.join(dir, 'untracked.txt'), 'u\n');
    const before = worktreeFingerprint(dir);
    const orc = openOrchestrator({ repo: dir, agent: 'agent-1' });
    await orc.createWorkstream('revenue', { priority: 1 });
    const t = await orc.addTask('revenue', { title: 'Ship it' });
    await orc.claimTask('revenue', t.id, 'agent-1');
    await orc.lock('deploy', 'agent-1');
    await orc.writeKnowledge('notes', 'hello');
    expect(worktreeFingerprint(dir)).toBe(before);
    expect(git(dir, 'rev-list', '--count', 'orchestrator')).toBe('5');
    expect(git(dir, 'log', '-1', '--format=%an', 'orchestrator')).toBe('agent-1');
    expect(git(dir, 'ls-tree', '-r', '--name-only', 'orchestrator').split('\n')).toEqual(['events.jsonl', 'knowledge/notes.md', 'locks/deploy.json', 'state.json']);
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
    orc.close();
  });

  it('authors each commit as the acting agent and commits it as the clone that wrote it; verify accepts both', async () => {
    const { clones, remote } = makeCluster(2);
    git(clones[0], 'config', 'user.name', 'Alice Laptop');
    git(clones[0], 'config', 'user.email', 'alice@laptop.example');
    git(clones[1], 'config', 'user.name', 'Build Server');
    git(clones[1], 'config', 'user.email', 'ci@build.example');
    const saved = { name: process.env.GIT_COMMITTER_NAME, email: process.env.GIT_COMMITTER_EMAIL };
    delete process.env.GIT_COMMITTER_NAME;
    delete process.env.GIT_COMMITTER_EMAIL;
    try {
      const a = openOrchestrator({ repo: clones[0], agent: 'agent-a' });
      await a.createWorkstream('w');
      const t = await a.addTask('w', { title: 'signed' });
      const b = openOrchestrator({ repo: clones[1], agent: 'agent-b' });
      await b.claimTask('w', t.id, 'agent-b');
      expect(git(remote, 'log', '--format=%an|%cn|%ce', 'orchestrator').split('\n')).toEqual([
        'agent-b|Build Server|ci@build.example',
        'agent-a|Alice Laptop|alice@laptop.example',
        'agent-a|Alice Laptop|alice@laptop.example',
      ]);
      expect(cli(['verify'], { cwd: remote }).code).toBe(0);
    } finally {
      if (saved.name !== undefined) process.env.GIT_COMMITTER_NAME = saved.name;
      if (saved.email !== undefined) process.env.GIT_COMMITTER_EMAIL = saved.email;
    }
  });

  it('gives the same commit ids for the same operations at the same time', async () => {
    const ops: OpBase[] = [
      { op: 'workstream.create', at: new Date(T0).toISOString(), by: 'system', name: 'w', description: '', priority: 1 } as OpBase,
      { op: 'task.add', at: new Date(T0 + 1000).toISOString(), by: 'system', workstream: 'w', id: '0000abcd', title: 't', description: '', priority: 5, estimate: null } as OpBase,
    ];
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const dir = makeRepo();
      const orc = openOrchestrator({ repo: dir, clock: () => T0 });
      for (const op of ops) await orc.apply(op);
      ids.push(git(dir, 'rev-parse', 'orchestrator'));
    }
    expect(ids[0]).toBe(ids[1]);
  });

  it('works in a bare repository and in a linked work tree', async () => {
    const bare = path.join(tempDir(), 'bare.git');
    git(path.dirname(bare), 'init', '-q', '--bare', bare);
    const orc = openOrchestrator({ repo: bare });
    await orc.createWorkstream('w');
    expect(git(bare, 'rev-list', '--count', 'orchestrator')).toBe('1');

    const dir = makeRepo();
    const wt = path.join(tempDir(), 'wt');
    git(dir, 'worktree', 'add', '-q', wt, '-b', 'feature');
    const inWt = openOrchestrator({ repo: wt });
    await inWt.createWorkstream('from-worktree');
    expect((await openOrchestrator({ repo: dir }).listWorkstreams()).map((w) => w.name)).toEqual(['from-worktree']);
  });

  it('keeps events and state in agreement', async () => {
    const dir = makeRepo();
    const orc = openOrchestrator({ repo: dir });
    await orc.createWorkstream('w');
    for (let i = 0; i < 5; i++) await orc.addTask('w', { title: `t${i}` });
    for (let i = 0; i < 3; i++) await orc.getNextTask('w', `agent-${i}`);
    const state = JSON.parse(git(dir, 'show', 'orchestrator:state.json'));
    const ev = events(dir);
    const claimed = state.workstreams.w.tasks.filter((t: { status: string }) => t.status === 'in_progress').map((t: { id: string }) => t.id).sort();
    expect(ev.filter((e) => e.action === 'task_claimed').map((e) => e.task_id).sort()).toEqual(claimed);
    expect(ev.filter((e) => e.action === 'task_created')).toHaveLength(5);
    expect(state.version).toBe(9);
  });
});

describe.each([
  ['in process (local transport)', undefined],
  ['through git push and fetch', 'git'],
])('coordination through a remote, %s', (_label, transport) => {
  const saved = process.env.ORCHESTRATOR_TRANSPORT;
  beforeAll(() => {
    if (transport) process.env.ORCHESTRATOR_TRANSPORT = transport;
    else delete process.env.ORCHESTRATOR_TRANSPORT;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.ORCHESTRATOR_TRANSPORT;
    else process.env.ORCHESTRATOR_TRANSPORT = saved;
  });

  it('pushes every change, and re-applies on the new tip when another clone got there first', async () => {
    const { clones, remote } = makeCluster(2);
    const a = openOrchestrator({ repo: clones[0], agent: 'a' });
    const b = openOrchestrator({ repo: clones[1], agent: 'b' });
    await a.createWorkstream('w');
    const t1 = await a.addTask('w', { title: 'first' });
    // b has never fetched: its view has no workstream "w", so the refusal is
    // checked against the remote (one fetch) and the operation pushed once.
    const engine = await engineBehind(b);
    expect(engine.store.remote!.kind).toBe(transport ?? 'local');
    const out = await engine.mutate((_w, ctx) => ({ op: 'task.add', at: ctx.at, by: 'b', workstream: 'w', id: 'bbbbbbbb', title: 'second', description: '', priority: 5, estimate: null }) as OpBase);
    expect(out.attempts).toBe(1);
    expect(git(remote, 'rev-list', '--count', 'orchestrator')).toBe('3');
    expect((await a.listTasks('w')).map((t) => t.id)).toEqual([t1.id, 'bbbbbbbb']);
    // A race: a advances the remote; b still builds on what it knows (through git).
    await a.addTask('w', { title: 'third' });
    const claim = await engine.mutate((_w, ctx) => ({ op: 'task.claim', at: ctx.at, by: 'b', workstream: 'w', id: t1.id, agent: 'b' }) as OpBase);
    expect(claim.attempts).toBe(transport ? 2 : 1);
    expect(git(remote, 'log', '-1', '--format=%s', 'orchestrator')).toBe(`task claim w/${t1.id} by b`);
    expect(git(clones[1], 'rev-parse', 'orchestrator')).toBe(git(remote, 'rev-parse', 'orchestrator'));
    // Every repository holds complete, valid history.
    for (const dir of [...clones, remote]) expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
    expect(git(clones[0], 'log', '--format=%s', 'orchestrator')).toContain('task add w/bbbbbbbb');
  });

  it('checks a refusal against the remote before answering, and then refuses', async () => {
    const { clones } = makeCluster(2);
    const a = openOrchestrator({ repo: clones[0] });
    const b = openOrchestrator({ repo: clones[1] });
    await a.createWorkstream('w');
    const t = await a.addTask('w', { title: 'only' });
    // b's local view has no such task; the claim still succeeds after a fetch.
    await expect(b.claimTask('w', t.id, 'b')).resolves.toMatchObject({ assigned_to: 'b' });
    await expect(a.claimTask('w', t.id, 'a')).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('adopts the remote branch on init', async () => {
    const { clones } = makeCluster(2);
    await openOrchestrator({ repo: clones[0] }).createWorkstream('w');
    const r = await openOrchestrator({ repo: clones[1] }).init();
    expect(r.created).toBe(false);
    expect(git(clones[1], 'rev-parse', 'orchestrator')).toBe(git(clones[0], 'rev-parse', 'orchestrator'));
  });

  it('fails with REMOTE, changing nothing, when the remote is unreachable', async () => {
    const { clones, remote } = makeCluster(1);
    const orc = openOrchestrator({ repo: clones[0] });
    await orc.createWorkstream('w');
    const tip = git(clones[0], 'rev-parse', 'orchestrator');
    fs.renameSync(remote, remote + '.gone');
    await expect(orc.addTask('w', { title: 'x' })).rejects.toMatchObject({ code: 'REMOTE' });
    await expect(orc.listWorkstreams()).rejects.toMatchObject({ code: 'REMOTE' });
    expect(git(clones[0], 'rev-parse', 'orchestrator')).toBe(tip);
    // --offline reads and writes locally.
    const offline = openOrchestrator({ repo: clones[0], offline: true });
    expect((await offline.listWorkstreams()).map((w) => w.name)).toEqual(['w']);
  });

  it('reports a push refused by a hook as REMOTE, without retrying forever', async () => {
    const { clones, remote } = makeCluster(1);
    const orc = openOrchestrator({ repo: clones[0] });
    await orc.createWorkstream('w');
    const hook = path.join(remote, 'hooks', 'pre-receive');
    fs.writeFileSync(hook, '#!/bin/sh\necho "policy: no more tasks" >&2\nexit 1\n', { mode: 0o755 });
    const err = await orc.addTask('w', { title: 'x' }).catch((e) => e);
    expect(err.code).toBe('REMOTE');
    expect(err.message).toContain('policy: no more tasks');
  });

  it('refuses to write online when local commits are not on the remote', async () => {
    const { clones } = makeCluster(2);
    const a = openOrchestrator({ repo: clones[0] });
    await a.createWorkstream('w');
    await openOrchestrator({ repo: clones[1] }).init();
    await openOrchestrator({ repo: clones[0], offline: true }).addTask('w', { title: 'offline' });
    await openOrchestrator({ repo: clones[1] }).addTask('w', { title: 'online' });
    await expect(a.addTask('w', { title: 'more' })).rejects.toMatchObject({ code: 'NEEDS_SYNC' });
  });
});
