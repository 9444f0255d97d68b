import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { commandKey, GLOBAL_VALUES as LAUNCHER_GLOBAL_VALUES, GROUP_WORDS } from '../src/cli/launcher.js';
import { DECLARATIONS } from '../src/api/ops/index.js';
import { Mutex } from '../src/store/mutex.js';
import { cliProcess, run } from './helpers/cli.js';
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
  it('runs with orchestrator in place of node cli.js, each step a real process', () => {
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
      const r = cliProcess(args, { cwd: dir });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(expected);
    }
    const status = cliProcess(['status'], { cwd: dir }).stdout;
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

/** Every command of the program: its path, aliases, usage and option flags. */
function commands(cmd: Command, prefix: string[] = []): string[] {
  const out: string[] = [];
  for (const c of cmd.commands as Command[]) {
    const name = [c.name(), ...c.aliases()].join('|');
    const opts = c.options.map((o) => o.long).filter((o) => o !== '--help');
    out.push(`${[...prefix, name].join(' ')} ${c.usage().replace(/\[options\] ?/, '')}${opts.length ? ' ' + opts.join(' ') : ''}`.replace(/ +/g, ' ').trim());
    out.push(...commands(c, [...prefix, c.name()]));
  }
  return out;
}

describe('the command set', () => {
  it("keeps the original's names, aliases, positional forms and options", () => {
    const { program } = buildProgram({ stdout: () => {}, stderr: () => {}, stdin: async () => '', env: {}, cwd: '.', bin: '' });
    const expected = [
      'init [dir] --events-per-segment',
      'status|s',
      'workstream|ws [command]',
      'workstream create <name> [description] [priority]',
      'workstream list|ls',
      'task|t [command]',
      'task add <workstream> <title> [description] [priority] --priority --estimate --after --needs',
      'task claim <workstream> <taskId> [agent]',
      'task complete|done <workstream> [taskId] [result] --force',
      'task fail <workstream> <taskId> <reason...> --force',
      'task list|ls <workstream>',
      'task next <workstream> [agent]',
      'task ready [workstream]',
      'task release <workstream> <taskId> --force',
      'task requeue <workstream> [taskIds...] --stale --stale-after',
      'task show <workstream> <taskId>',
      'agent|a [command]',
      'agent heartbeat [id]',
      'agent list|ls',
      'agent register [id] [type] --capabilities',
      'lock|l [command]',
      'lock acquire <resource> [agent] --ttl --wait',
      'lock list|ls',
      'lock release <resource> [agent] --force',
      'lock renew <resource> [agent] --ttl',
      'kb|knowledge [command]',
      'kb delete|rm <topic>',
      'kb list|ls',
      'kb read <topic>',
      'kb write <topic> <content...>',
      'events|e [command]',
      'events add <action> [json]',
      'events list --last --agent --action --workstream --since',
      'archive --older-than',
      'log --agent --action --since --last',
      'sync',
      'verify [range]',
      'hooks [command]',
      'hooks install <repo> --branch',
      'hooks uninstall <repo>',
      'hooks pre-receive',
      'brief|b <workstream> [taskId] --agent',
      'collect|c --since --no-record',
      'plan|p --markdown',
      'import <dir> --force',
    ];
    const actual = commands(program);
    for (const line of expected) expect(actual).toContain(line);
    for (const extra of ['demo --port --duration --keep', 'demo-agent <id> --duration', 'serve --port --host --read-only --token --public-read --fetch-interval --cors']) {
      expect(actual).toContain(extra);
    }
  });

  it('builds only what a command line can reach, and exactly what the full program has there', () => {
    const io = { stdout: () => {}, stderr: () => {}, stdin: async () => '', env: {}, cwd: '.', bin: '' };
    const full = buildProgram(io).program;
    for (const c of full.commands as Command[]) {
      for (const word of [c.name(), ...c.aliases()]) {
        for (const argv of [[word], ['--repo', 'x', '--json', word, '--help'], ['--as', 'a', '--', word]]) {
          const { program } = buildProgram(io, argv);
          const built = program.commands as Command[];
          // The command is there as in the full program (with everything under it).
          const mine = built.find((b) => b.name() === c.name());
          expect(mine, `${argv.join(' ')} builds ${c.name()}`).toBeDefined();
          expect(commands(program).filter((l) => l.split(/[ |]/)[0] === c.name())).toEqual(commands(full).filter((l) => l.split(/[ |]/)[0] === c.name()));
          // Every command's word is known, so nothing else is built (a room's customNames must name its commands).
          expect(built.length, `${argv.join(' ')} builds only its room`).toBeLessThan(full.commands.length);
        }
      }
    }
    // No command word, help, or an unknown word: everything (so help and suggestions are the same).
    for (const argv of [[], ['help', 'task'], ['--json'], ['stauts'], ['--repo', 'status'], ['--help', 'status'], ['--json', '-h', 't', 'add']]) {
      expect(commands(buildProgram(io, argv).program)).toEqual(commands(full));
    }
  });

  it("keeps the launcher's command words equal to the program's (they name the code caches)", () => {
    const { program } = buildProgram({ stdout: () => {}, stderr: () => {}, stdin: async () => '', env: {}, cwd: '.', bin: '' });
    const groups = (program.commands as Command[]).filter((c) => c.commands.length).flatMap((c) => [c.name(), ...c.aliases()]);
    expect([...GROUP_WORDS].sort()).toEqual(groups.sort());
    const valued = program.options.filter((o) => o.required || o.optional).map((o) => o.long);
    expect([...LAUNCHER_GLOBAL_VALUES].sort()).toEqual(valued.sort());
    expect(commandKey(['status'])).toBe('status');
    expect(commandKey(['--repo', 'x', '--json', 't', 'add', 'ws', 'title'])).toBe('t-add');
    expect(commandKey(['--as', 'agent-1', 'brief', 'ws'])).toBe('brief');
    expect(commandKey(['--json'])).toBe('none');
    // A group's command is the word right after it, never an option's value (a cache per value would be a cache per call).
    expect(commandKey(['events', '--last', '5'])).toBe('events');
    expect(commandKey(['events', 'list', '--since', '2026-01-01T00:00:00Z'])).toBe('events-list');
    expect(commandKey(['t', '--as', 'bob', 'ls', 'w'])).toBe('t');
    expect(commandKey(['--', 'status'])).toBe('status');
    expect(commandKey(['../../etc/passwd'])).toBe('_etc_passwd');
  });

  it('has a command for every declared operation that names one', () => {
    const { program } = buildProgram({ stdout: () => {}, stderr: () => {}, stdin: async () => '', env: {}, cwd: '.', bin: '' });
    const all = commands(program).map((l) => l.split(' ').slice(0, 2).join(' '));
    for (const d of DECLARATIONS) {
      if (!d.cli) continue;
      const name = typeof d.cli.name === 'string' ? d.cli.name : d.cli.name.join('|');
      const group = d.cli.group;
      expect(all.some((l) => (group ? l === `${group} ${name}` : l.split(' ')[0] === name))).toBe(true);
    }
  });
});

describe('--json', () => {
  let dir: string;
  beforeAll(async () => {
    dir = makeRepo();
    await run(['ws', 'create', 'w'], { cwd: dir });
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
    [['log', '--last', '2']],
    [['plan']],
    [['collect', '--no-record']],
    [['init']],
  ])('%j prints exactly one JSON value', async (args) => {
    const r = await run([...args, '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.json).not.toBeUndefined();
  });

  it('status includes the tip commit', async () => {
    expect((await run(['status', '--json'], { cwd: dir })).json.commit).toBe(tip(dir));
  });

  it('prints errors as {error, code}', async () => {
    const r = await run(['t', 'claim', 'nope', 'x', 'a', '--json'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ code: 'NOT_FOUND', error: expect.stringContaining('workstream "nope" not found (known: w)') });
  });
});

describe('exit statuses and bad input', () => {
  let dir: string;
  let taskId: string;
  beforeAll(async () => {
    dir = makeRepo();
    await run(['ws', 'create', 'revenue'], { cwd: dir });
    await run(['ws', 'create', 'product'], { cwd: dir });
    taskId = (await run(['t', 'add', 'revenue', 'claimed', '--json'], { cwd: dir })).json.id;
    await run(['t', 'claim', 'revenue', taskId, 'agent-1'], { cwd: dir });
    await run(['lock', 'acquire', 'db', 'agent-1'], { cwd: dir });
  });

  // The operation each row runs: its error code must be one it declares (or INVALID_INPUT).
  it.each([
    ['unknown command', ['frobnicate'], 2, null],
    ['missing argument', ['t', 'add', 'revenue'], 2, null],
    ['empty workstream name', ['ws', 'create', ''], 2, 'workstream.create'],
    ['over-long workstream name', ['ws', 'create', 'w'.repeat(65)], 2, 'workstream.create'],
    ['workstream name with a slash', ['ws', 'create', 'a/b'], 2, 'workstream.create'],
    ['name with control characters', ['ws', 'create', 'ab\u001b[31m'], 2, 'workstream.create'],
    ['priority that is not an integer', ['ws', 'create', 'x', 'd', 'high'], 2, 'workstream.create'],
    ['priority with trailing junk', ['t', 'add', 'revenue', 'title', 'desc', '3x'], 2, 'task.add'],
    ['negative ttl', ['lock', 'acquire', 'r', 'agent-1', '--ttl', '-5'], 2, 'lock.acquire'],
    ['absurd ttl', ['lock', 'acquire', 'r', 'agent-1', '--ttl', '999999999999'], 2, 'lock.acquire'],
    ['negative wait', ['lock', 'acquire', 'r', 'agent-1', '--wait', '-1'], 2, 'lock.acquire'],
    ['topic ../x', ['kb', 'write', '../x', 'content'], 2, 'knowledge.write'],
    ['topic a/../../b', ['kb', 'write', 'a/../../b', 'content'], 2, 'knowledge.write'],
    ['bad archive duration', ['archive', '--older-than', 'soon'], 2, 'task.archive'],
    ['unknown workstream', ['t', 'add', 'nope', 'title'], 3, 'task.add'],
    ['unknown task', ['t', 'claim', 'revenue', 'deadbeef', 'agent-2'], 3, 'task.claim'],
    ['unknown topic', ['kb', 'read', 'nope'], 3, 'knowledge.read'],
    ['unknown topic to delete', ['kb', 'rm', 'nope'], 3, 'knowledge.delete'],
    ['unknown agent heartbeat', ['a', 'heartbeat', 'ghost'], 3, 'agent.heartbeat'],
    ['existing workstream', ['ws', 'create', 'revenue'], 4, 'workstream.create'],
    ['task not pending', ['t', 'claim', 'revenue', '__TASK__', 'agent-2'], 4, 'task.claim'],
    ['lock held by another agent', ['lock', 'acquire', 'db', 'agent-2'], 4, 'lock.acquire'],
    ['release of a lock held by another', ['lock', 'release', 'db', 'agent-2'], 4, 'lock.release'],
    ['invalid event json', ['events', 'add', 'x', '{nope'], 2, 'event.log'],
    ['event data nested 5,000 deep', ['--as', 'agent-1', 'events', 'add', 'x', '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)], 2, 'event.log'],
    ['event data nested 60,000 deep', ['--as', 'agent-1', 'events', 'add', 'x', '{"a":' + '['.repeat(60000) + ']'.repeat(60000) + '}'], 2, 'event.log'],
    ['max attempts 0', ['--max-attempts', '0', 'ws', 'create', 'm0'], 2, null],
    ['max attempts -1', ['--max-attempts', '-1', 'ws', 'create', 'm1'], 2, null],
    ['max attempts over 1000', ['--max-attempts', '1001', 'ws', 'create', 'm2'], 2, null],
    ['stale-after over a hundred years', ['--stale-after', '99999999999', 'a', 'list'], 2, null],
    ['serve on port 99999', ['serve', '--port', '99999'], 2, null],
    ['serve on port -1', ['serve', '--port', '-1'], 2, null],
    ['serve fetching every -1 s', ['serve', '--port', '0', '--fetch-interval', '-1'], 2, null],
    ['serve --public-read without a token', ['serve', '--port', '0', '--public-read'], 2, null],
    ['demo on port 70000', ['demo', '--port', '70000'], 2, null],
  ])('%s: exit %i, nothing written', async (_label, args, code, op) => {
    const before = tip(dir);
    const r = await run(
      (args as string[]).map((a) => (a === '__TASK__' ? taskId : a)),
      { cwd: dir },
    );
    expect(r.code).toBe(code);
    expect(r.stderr.length).toBeGreaterThan(0);
    expect(tip(dir)).toBe(before);
    if (op) {
      const json = await run([...(args as string[]).map((a) => (a === '__TASK__' ? taskId : a)), '--json'], { cwd: dir });
      const declared = DECLARATIONS.find((d) => d.name === op)!;
      expect(['INVALID_INPUT', ...declared.refusals]).toContain(json.json.code);
    }
  });

  it('names the range of a numeric option it refuses', async () => {
    expect((await run(['--max-attempts', '0', 'ws', 'list'], { cwd: dir })).stderr).toContain('1-1000');
    expect((await run(['serve', '--port', '99999'], { cwd: dir })).stderr).toContain('0-65535');
    expect((await run(['serve', '--fetch-interval', '-1'], { cwd: dir })).stderr).toContain('0-86400');
  });

  it('names the holder and expiry of a held lock', async () => {
    const r = await run(['lock', 'acquire', 'db', 'agent-2'], { cwd: dir });
    expect(r.stderr).toMatch(/lock "db" is held by agent-1 until \d{4}-\d\d-\d\dT/);
  });

  it('names the known workstreams', async () => {
    expect((await run(['t', 'ls', 'nope'], { cwd: dir })).stderr).toContain('workstream "nope" not found (known: product, revenue)');
  });

  it('refuses outside a repository with a hint', async () => {
    const r = await run(['status'], { cwd: tempDir() });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('orchestrator init');
  });

  it('lists the exit statuses a command can end with in its help', async () => {
    const r = await run(['t', 'claim', '--help'], { cwd: dir });
    expect(r.stdout).toContain('Exit status: 0 ok; 2 INVALID_INPUT, 3 NOT_FOUND, 4 CONFLICT, 4 NEEDS_SYNC; 5 REMOTE, 6 CONTENTION.');
  });

  it('lists every exit status in the top-level help', async () => {
    const r = await run(['--help'], { cwd: dir });
    expect(r.code).toBe(0);
    for (const n of [0, 1, 2, 3, 4, 5, 6]) expect(r.stdout).toMatch(new RegExp(`^  ${n}  \\w`, 'm'));
    expect(r.stdout).toContain('git config orchestrator.agent');
  });
});

describe('complete without a task id', () => {
  it('completes the one task in progress, and names them when there are several', async () => {
    const dir = makeRepo();
    await run(['ws', 'create', 'w'], { cwd: dir });
    const a = (await run(['t', 'add', 'w', 'A', '--json'], { cwd: dir })).json.id;
    const b = (await run(['t', 'add', 'w', 'B', '--json'], { cwd: dir })).json.id;
    await run(['t', 'claim', 'w', a, 'one'], { cwd: dir });
    await run(['t', 'claim', 'w', b, 'two'], { cwd: dir });
    const r = await run(['t', 'complete', 'w', 'some result'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(a);
    expect(r.stderr).toContain(b);
    // The acting agent picks its own.
    expect((await run(['t', 'complete', 'w', 'mine', '--as', 'two'], { cwd: dir })).stdout).toBe('Completed: B\n');
    expect((await run(['t', 'done', 'w', 'last one'], { cwd: dir })).stdout).toBe('Completed: A\n');
    const tasks = (await run(['t', 'ls', 'w', '--json'], { cwd: dir })).json;
    expect(tasks.map((t: { result: string }) => t.result)).toEqual(['last one', 'mine']);
    expect((await run(['t', 'complete', 'w', 'nothing left'], { cwd: dir })).code).toBe(3);
  });
});

describe('commands', () => {
  it('reads knowledge from standard input with "-"', async () => {
    const dir = makeRepo();
    const body = '# Title\n\nline with "quotes" and ünïcødé\n';
    expect((await run(['kb', 'write', 'doc', '-'], { cwd: dir, input: body })).code).toBe(0);
    expect((await run(['kb', 'read', 'doc', '--json'], { cwd: dir })).json).toEqual({ topic: 'doc', content: body });
  });

  it('filters events like the original', async () => {
    const dir = makeRepo();
    await run(['ws', 'create', 'w'], { cwd: dir });
    await run(['events', 'add', 'deployed', '{"service":"api","version":"2.0"}', '--as', 'agent-1'], { cwd: dir });
    const r = await run(['events', '--agent', 'agent-1'], { cwd: dir });
    expect(r.stdout).toMatch(/^\[\d\d:\d\d:\d\d\] agent-1: deployed \{service=api, version=2.0\}\n$/);
    expect((await run(['e', '--action', 'workstream_created', '--json'], { cwd: dir })).json).toHaveLength(1);
    expect((await run(['e', '--since', '2999-01-01T00:00:00Z'], { cwd: dir })).stdout).toBe('No events.\n');
    expect((await run(['e', '--since', 'yesterday-ish'], { cwd: dir })).code).toBe(2);
    // The acting agent comes from the environment too; --last 0 lists all.
    await run(['events', 'add', 'noted'], { cwd: dir, env: { ORCHESTRATOR_AGENT: 'agent-9' } });
    expect((await run(['e', '--agent', 'agent-9', '--json'], { cwd: dir })).json).toHaveLength(1);
    expect((await run(['e', '--last', '0', '--json'], { cwd: dir })).json).toHaveLength(3);
  });

  it('refuses deep event data with exit 2 while another writer has the turn (the operation would wait as data)', async () => {
    const dir = makeRepo();
    await run(['ws', 'create', 'w'], { cwd: dir });
    // Another writer of the clone holds the turn: a waiting operation is left for it, written out as JSON.
    const turn = new Mutex(path.join(dir, '.git', 'orchestrator', 'orchestrator.writer.lock'));
    expect(await turn.acquire(5000)).toBe('taken');
    try {
      const deep = '{"a":' + '['.repeat(60000) + ']'.repeat(60000) + '}';
      const r = await run(['--as', 'agent-1', '--json', 'events', 'add', 'x', deep], { cwd: dir });
      expect([r.code, r.json?.code]).toEqual([2, 'INVALID_INPUT']);
    } finally {
      turn.release();
    }
  });

  it('keeps any printable resource name exact', async () => {
    const dir = makeRepo();
    const name = 'db: prod/../../etc "main" ✓';
    expect((await run(['lock', 'acquire', name, 'a1', '--ttl', '60000'], { cwd: dir })).code).toBe(0);
    expect((await run(['lock', 'ls', '--json'], { cwd: dir })).json.map((l: { resource: string }) => l.resource)).toEqual([name]);
    expect(git(dir, 'ls-tree', '--name-only', 'orchestrator', 'locks/').split('\n')).toHaveLength(1);
    expect((await run(['lock', 'release', name, 'a1'], { cwd: dir })).code).toBe(0);
  });

  it('init creates a repository when the directory is not one', async () => {
    const dir = path.join(tempDir(), 'fresh');
    const r = await run(['init', dir], { cwd: path.dirname(dir) });
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(dir, '.git'))).toBe(true);
    expect(git(dir, 'rev-list', '--count', 'orchestrator')).toBe('1');
    expect((await run(['init'], { cwd: dir })).stdout).toContain('already exists');
  });

  it('uses another branch and no remote when asked', async () => {
    const { clones, remote } = makeCluster(1);
    expect((await run(['ws', 'create', 'w', '--branch', 'coord/team-a', '--remote', 'none'], { cwd: clones[0] })).code).toBe(0);
    expect(git(clones[0], 'rev-list', '--count', 'coord/team-a')).toBe('1');
    expect(() => git(remote, 'rev-parse', '--verify', 'coord/team-a')).toThrow();
    expect((await run(['ws', 'ls', '--branch', 'bad..name'], { cwd: clones[0] })).code).toBe(2);
    expect((await run(['ws', 'ls', '--remote', 'nope'], { cwd: clones[0] })).code).toBe(2);
  });

  it('gives up with exit 6 when other writers keep winning (a real process)', () => {
    const { clones, remote } = makeCluster(1);
    cliProcess(['ws', 'create', 'w'], { cwd: clones[0] });
    // A hook that advances the branch itself during every push: each attempt loses.
    fs.writeFileSync(
      path.join(remote, 'hooks', 'pre-receive'),
      '#!/bin/sh\nunset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\nc=$(git commit-tree "refs/heads/orchestrator^{tree}" -p refs/heads/orchestrator -m bump)\ngit update-ref refs/heads/orchestrator "$c"\n',
      { mode: 0o755 },
    );
    const r = cliProcess(['t', 'add', 'w', 'never lands', '--max-attempts', '3'], { cwd: clones[0] });
    expect(r.stderr).toContain('gave up after 3 attempts');
    expect(r.code).toBe(6);
  });

  it('fails with exit 5 when the remote is unreachable', async () => {
    const { clones, remote } = makeCluster(1);
    await run(['ws', 'create', 'w'], { cwd: clones[0] });
    fs.renameSync(remote, remote + '.moved');
    const r = await run(['t', 'add', 'w', 'x'], { cwd: clones[0] });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('--offline');
    expect((await run(['t', 'ls', 'w', '--offline'], { cwd: clones[0] })).code).toBe(0);
  });
});

describe('verify', () => {
  it('says how many commits before a bad one verified, in words for none', async () => {
    const dir = makeRepo();
    await run(['ws', 'create', 'w'], { cwd: dir });
    await run(['t', 'add', 'w', 'one'], { cwd: dir });
    // A merge at the tip: nothing before it is verified (the walk stops there).
    const tipBefore = tip(dir);
    const merge = git(dir, 'commit-tree', 'orchestrator^{tree}', '-p', 'orchestrator~1', '-p', 'main', '-m', git(dir, 'log', '-1', '--format=%B', 'orchestrator'));
    git(dir, 'update-ref', 'refs/heads/orchestrator', merge, tipBefore);
    const r = await run(['verify'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('is a merge');
    expect(r.stderr).toContain('(no commit before it verified)');
    expect(r.stderr).not.toMatch(/-1|\b0 commits/);
  });
});

describe('--help', () => {
  const { program } = buildProgram({ stdout: () => {}, stderr: () => {}, stdin: async () => '', env: {}, cwd: '.', bin: '' });
  const paths: string[][] = [[]];
  for (const c of program.commands as Command[]) {
    paths.push([c.name()]);
    for (const s of c.commands as Command[]) paths.push([c.name(), s.name()]);
  }
  it.each(paths)('%j --help', async (...args) => {
    const r = await run([...args, '--help'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: orchestrator/);
  });

  it('works through a real process too', () => {
    const r = cliProcess(['t', '--help'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: orchestrator task\|t/);
  });
});

describe('prime', () => {
  it('tells an agent session who it is, its work, the ready tasks and its commands, in at most 1,000 tokens', async () => {
    const dir = makeRepo();
    await run(['ws', 'create', 'big'], { cwd: dir });
    for (let i = 0; i < 30; i++) await run(['t', 'add', 'big', `${i} ${'a very long title that goes on '.repeat(8)}`, '--needs', 'db,cache,queue'], { cwd: dir });
    const claimed = (await run(['t', 'next', 'big', 'agent-x', '--json'], { cwd: dir })).json;
    await run(['lock', 'acquire', 'db', 'agent-x'], { cwd: dir });
    const r = await run(['prime'], { cwd: dir, env: { ORCHESTRATOR_AGENT: 'agent-x' } });
    expect(r.code).toBe(0);
    expect(r.stdout.length / 4).toBeLessThanOrEqual(1000);
    expect(r.stdout).toContain('You act as **agent-x**');
    expect(r.stdout).toContain(`in progress: big/${claimed.id}`);
    expect(r.stdout).toContain('lock held: db');
    expect(r.stdout).toContain('## Ready now (29)');
    expect(r.stdout.match(/^- \[P5\] big\//gm)).toHaveLength(10);
    expect(r.stdout).toContain('... 19 more');
    expect(r.stdout).toContain('orchestrator task next <workstream> agent-x');
    expect(r.stdout).toContain('orchestrator task complete <workstream> [taskId] [result]');
    // Every command it names is one the CLI has.
    for (const line of r.stdout.split('\n').filter((l) => l.startsWith('orchestrator '))) {
      const words = line.split('  #')[0].split(' ').slice(1).filter((w) => /^[a-z]+$/.test(w)).slice(0, 2);
      expect((await run([...words, '--help'], { cwd: dir })).code).toBe(0);
    }
  });

  it('says how to set an identity when there is none, and gives JSON with --json', async () => {
    const dir = makeRepo();
    const r = await run(['prime'], { cwd: dir });
    expect(r.stdout).toContain('No acting agent is set: pass --as <agent>');
    expect(r.stdout).toContain('## Ready now (0)');
    const json = (await run(['prime', '--as', 'a1', '--json'], { cwd: dir })).json;
    expect(json).toMatchObject({ agent: 'a1', markdown: expect.stringContaining('**a1**') });
  });
});
