/**
 * The rough edges a new user hit, each replayed: init then import, what
 * archived tasks keep, reads while local operations wait for sync, git's
 * revision syntax in verify, what a heartbeat says, and the age of agents
 * imported long ago, a remote git pushes elsewhere than its url. (The exit statuses in --help are in cli.test.ts, the
 * brief of a blocked task in runner.test.ts.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ago } from '../src/cli/format.js';
import { run } from './helpers/cli.js';
import { cleanup, git, makeCluster, makeRepo, tempDir } from './helpers/repos.js';

afterAll(cleanup);

/** An original data directory: one workstream with a done task, one agent last seen long ago, one topic. */
function seedDir(): string {
  const dir = path.join(tempDir('seed-'), '.orchestrator');
  fs.mkdirSync(path.join(dir, 'knowledge'), { recursive: true });
  const task = { id: '1a2b3c4d', title: 'Add payments', description: '', status: 'done', priority: 1, estimate: null, assigned_to: 'agent-1', created_at: '2026-02-01T09:00:00.000Z', updated_at: '2026-02-01T09:30:00.000Z', result: 'paid' };
  const state = {
    version: 7,
    updated_at: '2026-02-01T10:00:00.000Z',
    workstreams: { revenue: { description: 'Revenue', priority: 1, status: 'active', tasks: [task], created_at: '2026-02-01T08:00:00.000Z' } },
    agents: { 'agent-1': { type: 'worker', status: 'active', capabilities: [], registered_at: '2026-02-01T08:30:00.000Z', last_seen: '2026-02-01T09:30:00.000Z' } },
    locks: {},
  };
  fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'events.jsonl'), JSON.stringify({ ts: '2026-02-01T08:00:00.000Z', agent: 'system', action: 'workstream_created', workstream: 'revenue' }) + '\n');
  fs.writeFileSync(path.join(dir, 'knowledge', 'notes.md'), 'hello');
  return dir;
}

describe('init, then import', () => {
  it('imports into the branch init just made, keeping its settings; a branch with data still needs --force', async () => {
    const dir = path.join(tempDir(), 'project');
    expect((await run(['init', dir, '--events-per-segment', '1000'], { cwd: tempDir() })).code).toBe(0);
    const imported = await run(['import', seedDir(), '--json'], { cwd: dir });
    expect(imported.code).toBe(0);
    expect(imported.json).toMatchObject({ workstreams: 1, tasks: 1, agents: 1, topics: 1 });
    expect(JSON.parse(git(dir, 'show', 'orchestrator:state.json')).settings).toMatchObject({ events_per_segment: 1000 });
    expect((await run(['verify'], { cwd: dir })).code).toBe(0);
    const again = await run(['import', seedDir(), '--json'], { cwd: dir });
    expect(again.code).toBe(4);
    expect(again.json.code).toBe('CONFLICT');
  });

  it('shows agents imported long ago with a readable age, and keeps their last_seen', async () => {
    const dir = makeRepo();
    expect((await run(['import', seedDir()], { cwd: dir, env: { ORCHESTRATOR_AGENT: 'agent-1' } })).code).toBe(0);
    const agents = await run(['a', 'ls'], { cwd: dir });
    expect(agents.stdout).toBe('agent-1 (worker): active [STALE], seen on 2026-02-01\n');
    // Even when the importer is that agent, its imported last_seen stays.
    expect(JSON.parse(git(dir, 'show', 'orchestrator:state.json')).agents['agent-1'].last_seen).toBe('2026-02-01T09:30:00.000Z');
  });
});

describe('ages', () => {
  const now = Date.parse('2026-11-30T12:00:00.000Z');
  it.each([
    ['2026-11-30T11:59:55.000Z', '5s ago'],
    ['2026-11-30T11:55:00.000Z', '5m ago'],
    ['2026-11-30T07:00:00.000Z', '5h ago'],
    ['2026-11-25T12:00:00.000Z', '5d ago'],
    ['2026-02-01T09:30:00.000Z', 'on 2026-02-01'],
    ['2026-11-30T12:05:00.000Z', 'in the future'],
    ['not a time', 'at not a time'],
  ])('%s is %s', (iso, shown) => expect(ago(iso, now)).toBe(shown));
});

describe('archived tasks', () => {
  it('keep their title and result in collect, and their counts in ws ls and status', async () => {
    const dir = makeRepo();
    const env = { ORCHESTRATOR_AGENT: 'agent-1' };
    await run(['ws', 'create', 'w'], { cwd: dir, env });
    const a = (await run(['t', 'add', 'w', 'Ship it', '--json'], { cwd: dir, env })).json.id;
    await run(['t', 'add', 'w', 'Later'], { cwd: dir, env });
    await run(['t', 'claim', 'w', a], { cwd: dir, env });
    await run(['t', 'complete', 'w', a, 'shipped'], { cwd: dir, env });
    expect((await run(['archive', '--older-than', '0', '--json'], { cwd: dir, env })).json).toMatchObject({ archived: 1 });
    const collected = (await run(['collect', '--json'], { cwd: dir, env })).json;
    expect(collected.completed_this_cycle).toEqual([expect.objectContaining({ task_id: a, title: 'Ship it', result: 'shipped' })]);
    expect((await run(['ws', 'ls'], { cwd: dir })).stdout).toContain('Tasks: 1 pending, 0 active, 1 done (1 archived)');
    expect((await run(['ws', 'ls', '--json'], { cwd: dir })).json[0]).toMatchObject({ task_count: 2, done: 1, archived: 1 });
    expect((await run(['status'], { cwd: dir })).stdout).toContain('w: 1 pending, 0 active, 1 done');
    expect((await run(['t', 'show', 'w', a, '--json'], { cwd: dir })).json).toMatchObject({ title: 'Ship it', result: 'shipped', archived: true });
    expect((await run(['verify'], { cwd: dir })).code).toBe(0);
  });
});

describe('reads while local operations wait for sync', () => {
  it('answer from this clone with a warning that the remote moved; writes are refused until sync', async () => {
    const { clones } = makeCluster(2);
    const [mine, theirs] = clones;
    await run(['ws', 'create', 'w'], { cwd: mine });
    await run(['t', 'add', 'w', 'made offline', '--offline'], { cwd: mine });
    await run(['t', 'add', 'w', 'pushed by the other clone'], { cwd: theirs });
    const read = await run(['t', 'ls', 'w'], { cwd: mine });
    expect(read.code).toBe(0);
    expect(read.stdout).toContain('made offline');
    expect(read.stderr).toMatch(/^warning: the remote origin moved on .*orchestrator sync/m);
    expect((await run(['status', '--json'], { cwd: mine })).code).toBe(0);
    const write = await run(['t', 'add', 'w', 'one more', '--json'], { cwd: mine });
    expect(write.code).toBe(4);
    expect(write.json.code).toBe('NEEDS_SYNC');
    expect((await run(['sync'], { cwd: mine })).code).toBe(0);
    const after = await run(['t', 'ls', 'w'], { cwd: mine });
    expect(after.stderr).toBe('');
    expect(after.stdout).toContain('pushed by the other clone');
    expect(after.stdout).toContain('made offline');
  });
});

describe('verify', () => {
  it("takes git's revision syntax: A..B ranges, ~ and ^, abbreviated ids", async () => {
    const dir = makeRepo();
    for (const name of ['a', 'b', 'c', 'd', 'e']) await run(['ws', 'create', name], { cwd: dir });
    const range = await run(['verify', 'orchestrator~3..orchestrator', '--json'], { cwd: dir });
    expect(range.code).toBe(0);
    expect(range.json).toMatchObject({ ok: true, checked: 3, from: git(dir, 'rev-parse', 'orchestrator~3'), to: git(dir, 'rev-parse', 'orchestrator') });
    const upTo = await run(['verify', 'orchestrator^^', '--json'], { cwd: dir });
    expect(upTo.json).toMatchObject({ ok: true, checked: 3, to: git(dir, 'rev-parse', 'orchestrator~2') });
    const short = git(dir, 'rev-parse', '--short', 'orchestrator~1');
    expect((await run(['verify', `${short}..`, '--json'], { cwd: dir })).json).toMatchObject({ checked: 1 });
    expect((await run(['verify', 'orchestrator~1..refs/heads/orchestrator', '--json'], { cwd: dir })).json).toMatchObject({ checked: 1 });
    expect((await run(['verify', 'orchestrator~9', '--json'], { cwd: dir })).json.code).toBe('NOT_FOUND');
    expect((await run(['verify', 'orchestrator~2...orchestrator', '--json'], { cwd: dir })).code).toBe(2);
  });
});

describe('a heartbeat', () => {
  it('says whether it recorded anything', async () => {
    const dir = makeRepo();
    const env = { ORCHESTRATOR_AGENT: 'agent-1' };
    await run(['a', 'register'], { cwd: dir, env });
    // Just registered: a sign of life already, nothing to record.
    const quiet = await run(['a', 'heartbeat'], { cwd: dir, env });
    expect(quiet.stdout).toMatch(/^Heartbeat: agent-1 alive, nothing to record: last seen \ds ago, within half the stale window\n$/);
    // With a 1 s stale window, a heartbeat more than half a second after the last sign of life is recorded.
    await new Promise((r) => setTimeout(r, 600));
    const recorded = await run(['a', 'heartbeat', '--stale-after', '1'], { cwd: dir, env });
    expect(recorded.stdout).toMatch(/^Heartbeat: agent-1 recorded \(last seen \d{4}-/);
    const unknown = await run(['a', 'heartbeat', 'ghost'], { cwd: dir });
    expect(unknown.code).toBe(3);
  });
});

describe('a remote git pushes elsewhere than its url', () => {
  it('goes through git, so the branch lands where git pushes (pushurl, insteadOf)', async () => {
    for (const setup of ['pushurl', 'insteadOf'] as const) {
      const root = tempDir('moved-');
      const fetchFrom = path.join(root, 'fetch.git');
      const pushTo = path.join(root, 'push.git');
      git(root, 'init', '-q', '--bare', fetchFrom);
      git(root, 'init', '-q', '--bare', pushTo);
      const repo = makeRepo();
      if (setup === 'pushurl') {
        git(repo, 'remote', 'add', 'origin', fetchFrom);
        git(repo, 'config', 'remote.origin.pushurl', pushTo);
      } else {
        // The url names a repository that exists, but git rewrites it to another one.
        git(repo, 'remote', 'add', 'origin', fetchFrom);
        git(repo, 'config', `url.${pushTo}.insteadOf`, fetchFrom);
      }
      git(repo, 'push', '-q', 'origin', 'main');
      const r = await run(['--as', 'agent-1', 'ws', 'create', 'web'], { cwd: repo });
      expect(r.code, r.stderr).toBe(0);
      const where = (dir: string) => git(dir, 'for-each-ref', '--format=%(refname)', 'refs/heads/orchestrator');
      expect(where(pushTo), setup).toBe('refs/heads/orchestrator');
      expect(where(fetchFrom), setup).toBe('');
    }
  });
});
