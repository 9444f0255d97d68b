import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { cleanup, git, makeCluster, makeRepo, tempDir, worktreeFingerprint } from './helpers/repos.js';

afterAll(cleanup);

function tip(dir: string): string {
  try {
    return git(dir, 'rev-parse', 'refs/heads/orchestrator');
  } catch {
    return '(none)';
  }
}

describe('the original quick start, verbatim', () => {
  it('runs with orchestrator in place of node cli.js', () => {
    const dir = makeRepo();
    const before = worktreeFingerprint(dir);
    const steps: Array<[string[], RegExp]> = [
      [['status'], /Orchestrator Status/],
      [['ws', 'create', 'revenue', 'Revenue generation', '1'], /^Created workstream: revenue$/m],
      [['ws', 'create', 'product', 'Product development', '2'], /^Created workstream: product$/m],
      [['t', 'add', 'revenue', 'Add payments to API', 'Integrate USDC', '1'], /^Added task [0-9a-f]{8}: Add payments to API$/m],
      [['t', 'add', 'product', 'Write tests', 'Unit and integration', '3'], /^Added task [0-9a-f]{8}: Write tests$/m],
      [['a', 'register', 'agent-1', 'worker'], /^Registered agent: agent-1 \(worker\)$/m],
      [['t', 'next', 'revenue', 'agent-1'], /^Claimed next task: [0-9a-f]{8} - Add payments to API$/m],
      [['t', 'complete', 'revenue', 'Done: integrated payments'], /^Completed: Add payments to API$/m],
      [['kb', 'write', 'api-design', 'Use REST for external, events for internal'], /^Wrote knowledge: api-design$/m],
      [['kb', 'read', 'api-design'], /^Use REST for external, events for internal$/m],
    ];
    for (const [args, expected] of steps) {
      const r = cli(args, { cwd: dir });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(expected);
    }
    const status = cli(['status'], { cwd: dir }).stdout;
    expect(status).toContain('[P1] revenue: 0 pending, 0 active, 1 done');
    expect(status).toContain('[P2] product: 1 pending, 0 active, 0 done');
    expect(status).toContain('agent-1 (worker): active');
    expect(status).toContain('api-design');
    const state = JSON.parse(git(dir, 'show', 'orchestrator:state.json'));
    expect(state.workstreams.revenue.tasks[0]).toMatchObject({ status: 'done', result: 'Done: integrated payments', assigned_to: 'agent-1' });
    expect(git(dir, 'show', 'orchestrator:knowledge/api-design.md')).toBe('Use REST for external, events for internal');
    expect(worktreeFingerprint(dir)).toBe(before);
  });
});

describe('--json', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeRepo();
    cli(['ws', 'create', 'w'], { cwd: dir });
  });

  it.each([
    [['status']],
    [['ws', 'ls']],
    [['t', 'add', 'w', 'json task']],
    [['t', 'ls', 'w']],
    [['t', 'ready']],
    [['a', 'register', 'j1']],
    [['a', 'heartbeat', 'j1']],
    [['a', 'ls']],
    [['lock', 'acquire', 'res', 'j1', '--ttl', '5000']],
    [['lock', 'ls']],
    [['lock', 'release', 'res', 'j1']],
    [['kb', 'write', 'topic', 'body']],
    [['kb', 'read', 'topic']],
    [['kb', 'ls']],
    [['kb', 'delete', 'topic']],
    [['events', 'add', 'deployed', '{"service":"api"}']],
    [['events', '--last', '3']],
    [['t', 'next', 'w', 'j1']],
    [['t', 'next', 'w', 'j1']],
    [['init']],
  ])('%j prints exactly one JSON value', (args) => {
    const r = cli([...args, '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.json).not.toBeUndefined();
  });

  it('status includes the tip commit', () => {
    expect(cli(['status', '--json'], { cwd: dir }).json.commit).toBe(tip(dir));
  });

  it('prints errors as {error, code}', () => {
    const r = cli(['t', 'claim', 'nope', 'x', 'a', '--json'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ code: 'NOT_FOUND', error: expect.stringContaining('workstream "nope" not found (known: w)') });
  });
});

describe('exit statuses and bad input', () => {
  let dir: string;
  let taskId: string;
  beforeAll(() => {
    dir = makeRepo();
    cli(['ws', 'create', 'revenue'], { cwd: dir });
    cli(['ws', 'create', 'product'], { cwd: dir });
    taskId = cli(['t', 'add', 'revenue', 'claimed', '--json'], { cwd: dir }).json.id;
    cli(['t', 'claim', 'revenue', taskId, 'agent-1'], { cwd: dir });
    cli(['lock', 'acquire', 'db', 'agent-1'], { cwd: dir });
  });

  it.each([
    ['unknown command', ['frobnicate'], 2],
    ['missing argument', ['t', 'add', 'revenue'], 2],
    ['empty workstream name', ['ws', 'create', ''], 2],
    ['over-long workstream name', ['ws', 'create', 'w'.repeat(65)], 2],
    ['workstream name with a slash', ['ws', 'create', 'a/b'], 2],
    ['name with control characters', ['ws', 'create', 'ab\u001b[31m'], 2],
    ['priority that is not an integer', ['ws', 'create', 'x', 'd', 'high'], 2],
    ['priority with trailing junk', ['t', 'add', 'revenue', 'title', 'desc', '3x'], 2],
    ['negative ttl', ['lock', 'acquire', 'r', 'agent-1', '--ttl', '-5'], 2],
    ['absurd ttl', ['lock', 'acquire', 'r', 'agent-1', '--ttl', '999999999999'], 2],
    ['topic ../x', ['kb', 'write', '../x', 'content'], 2],
    ['topic a/../../b', ['kb', 'write', 'a/../../b', 'content'], 2],
    ['unknown workstream', ['t', 'add', 'nope', 'title'], 3],
    ['unknown task', ['t', 'claim', 'revenue', 'deadbeef', 'agent-2'], 3],
    ['unknown topic', ['kb', 'read', 'nope'], 3],
    ['unknown agent heartbeat', ['a', 'heartbeat', 'ghost'], 3],
    ['existing workstream', ['ws', 'create', 'revenue'], 4],
    ['task not pending', ['t', 'claim', 'revenue', '__TASK__', 'agent-2'], 4],
    ['lock held by another agent', ['lock', 'acquire', 'db', 'agent-2'], 4],
    ['release of a lock held by another', ['lock', 'release', 'db', 'agent-2'], 4],
    ['invalid event json', ['events', 'add', 'x', '{nope'], 2],
  ])('%s: exit %i, nothing written', (_label, args, code) => {
    const before = tip(dir);
    const r = cli(
      args.map((a) => (a === '__TASK__' ? taskId : a)),
      { cwd: dir },
    );
    expect(r.code).toBe(code);
    expect(r.stderr.length).toBeGreaterThan(0);
    expect(tip(dir)).toBe(before);
  });

  it('names the holder and expiry of a held lock', () => {
    const r = cli(['lock', 'acquire', 'db', 'agent-2'], { cwd: dir });
    expect(r.stderr).toMatch(/lock "db" is held by agent-1 until \d{4}-\d\d-\d\dT/);
  });

  it('names the known workstreams', () => {
    expect(cli(['t', 'ls', 'nope'], { cwd: dir }).stderr).toContain('workstream "nope" not found (known: product, revenue)');
  });

  it('refuses outside a repository with a hint', () => {
    const r = cli(['status'], { cwd: tempDir() });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('orchestrator init');
  });
});

describe('complete without a task id', () => {
  it('completes the one task in progress, and names them when there are several', () => {
    const dir = makeRepo();
    cli(['ws', 'create', 'w'], { cwd: dir });
    const a = cli(['t', 'add', 'w', 'A', '--json'], { cwd: dir }).json.id;
    const b = cli(['t', 'add', 'w', 'B', '--json'], { cwd: dir }).json.id;
    cli(['t', 'claim', 'w', a, 'one'], { cwd: dir });
    cli(['t', 'claim', 'w', b, 'two'], { cwd: dir });
    const r = cli(['t', 'complete', 'w', 'some result'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(a);
    expect(r.stderr).toContain(b);
    // The acting agent picks its own.
    expect(cli(['t', 'complete', 'w', 'mine', '--as', 'two'], { cwd: dir }).stdout).toBe('Completed: B\n');
    expect(cli(['t', 'done', 'w', 'last one'], { cwd: dir }).stdout).toBe('Completed: A\n');
    const tasks = cli(['t', 'ls', 'w', '--json'], { cwd: dir }).json;
    expect(tasks.map((t: { result: string }) => t.result)).toEqual(['last one', 'mine']);
    expect(cli(['t', 'complete', 'w', 'nothing left'], { cwd: dir }).code).toBe(3);
  });
});

describe('commands', () => {
  it('reads knowledge from standard input with "-"', () => {
    const dir = makeRepo();
    const body = '# Title\n\nline with "quotes" and ünïcødé\n';
    expect(cli(['kb', 'write', 'doc', '-'], { cwd: dir, input: body }).code).toBe(0);
    expect(cli(['kb', 'read', 'doc', '--json'], { cwd: dir }).json).toEqual({ topic: 'doc', content: body });
  });

  it('filters events like the original', () => {
    const dir = makeRepo();
    cli(['ws', 'create', 'w'], { cwd: dir });
    cli(['events', 'add', 'deployed', '{"service":"api","version":"2.0"}', '--as', 'agent-1'], { cwd: dir });
    const r = cli(['events', '--agent', 'agent-1'], { cwd: dir });
    expect(r.stdout).toMatch(/^\[\d\d:\d\d:\d\d\] agent-1: deployed \{service=api, version=2.0\}\n$/);
    expect(cli(['e', '--action', 'workstream_created', '--json'], { cwd: dir }).json).toHaveLength(1);
    expect(cli(['e', '--since', '2999-01-01T00:00:00Z'], { cwd: dir }).stdout).toBe('No events.\n');
    expect(cli(['e', '--since', 'yesterday-ish'], { cwd: dir }).code).toBe(2);
  });

  it('keeps any printable resource name exact', () => {
    const dir = makeRepo();
    const name = 'db: prod/../../etc "main" ✓';
    expect(cli(['lock', 'acquire', name, 'a1', '--ttl', '60000'], { cwd: dir }).code).toBe(0);
    expect(cli(['lock', 'ls', '--json'], { cwd: dir }).json.map((l: { resource: string }) => l.resource)).toEqual([name]);
    expect(git(dir, 'ls-tree', '--name-only', 'orchestrator', 'locks/').split('\n')).toHaveLength(1);
    expect(cli(['lock', 'release', name, 'a1'], { cwd: dir }).code).toBe(0);
  });

  it('init creates a repository when the directory is not one', () => {
    const dir = path.join(tempDir(), 'fresh');
    const r = cli(['init', dir], { cwd: path.dirname(dir) });
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(dir, '.git'))).toBe(true);
    expect(git(dir, 'rev-list', '--count', 'orchestrator')).toBe('1');
    expect(cli(['init'], { cwd: dir }).stdout).toContain('already exists');
  });

  it('uses another branch and no remote when asked', () => {
    const { clones, remote } = makeCluster(1);
    expect(cli(['ws', 'create', 'w', '--branch', 'coord/team-a', '--remote', 'none'], { cwd: clones[0] }).code).toBe(0);
    expect(git(clones[0], 'rev-list', '--count', 'coord/team-a')).toBe('1');
    expect(() => git(remote, 'rev-parse', '--verify', 'coord/team-a')).toThrow();
    expect(cli(['ws', 'ls', '--branch', 'bad..name'], { cwd: clones[0] }).code).toBe(2);
    expect(cli(['ws', 'ls', '--remote', 'nope'], { cwd: clones[0] }).code).toBe(2);
  });

  it('gives up with exit 6 when other writers keep winning', () => {
    const { clones, remote } = makeCluster(1);
    cli(['ws', 'create', 'w'], { cwd: clones[0] });
    // A hook that advances the branch itself during every push: each attempt loses.
    fs.writeFileSync(
      path.join(remote, 'hooks', 'pre-receive'),
      '#!/bin/sh\nunset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\nc=$(git commit-tree "refs/heads/orchestrator^{tree}" -p refs/heads/orchestrator -m bump)\ngit update-ref refs/heads/orchestrator "$c"\n',
      { mode: 0o755 },
    );
    const r = cli(['t', 'add', 'w', 'never lands', '--max-attempts', '3'], { cwd: clones[0] });
    expect(r.stderr).toContain('gave up after 3 attempts');
    expect(r.code).toBe(6);
  });

  it('fails with exit 5 when the remote is unreachable', () => {
    const { clones, remote } = makeCluster(1);
    cli(['ws', 'create', 'w'], { cwd: clones[0] });
    fs.renameSync(remote, remote + '.moved');
    const r = cli(['t', 'add', 'w', 'x'], { cwd: clones[0] });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('--offline');
    expect(cli(['t', 'ls', 'w', '--offline'], { cwd: clones[0] }).code).toBe(0);
  });
});

describe('--help', () => {
  const commands = [
    [],
    ['init'],
    ['status'],
    ['ws'],
    ['ws', 'create'],
    ['ws', 'ls'],
    ['t'],
    ['t', 'add'],
    ['t', 'ls'],
    ['t', 'claim'],
    ['t', 'complete'],
    ['t', 'next'],
    ['t', 'ready'],
    ['a'],
    ['a', 'register'],
    ['a', 'heartbeat'],
    ['a', 'ls'],
    ['lock'],
    ['lock', 'acquire'],
    ['lock', 'release'],
    ['lock', 'ls'],
    ['kb'],
    ['kb', 'write'],
    ['kb', 'read'],
    ['kb', 'ls'],
    ['kb', 'delete'],
    ['events'],
    ['events', 'add'],
  ];
  it.each(commands)('%j --help', (...args) => {
    const r = cli([...args, '--help'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: orchestrator/);
  });
});
