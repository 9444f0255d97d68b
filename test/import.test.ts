import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { cleanup, git, makeRepo, tempDir } from './helpers/repos.js';

afterAll(cleanup);

const future = new Date(Date.now() + 3_600_000).toISOString();

/** The repository's loose objects (an import that fails must leave none behind). */
function looseObjects(repo: string): string[] {
  const dir = path.join(repo, '.git', 'objects');
  return fs
    .readdirSync(dir)
    .filter((d) => /^[0-9a-f]{2}$/.test(d))
    .flatMap((d) => fs.readdirSync(path.join(dir, d)).map((f) => d + f))
    .sort();
}

/** An original orchestrator's data directory with every field. */
function seedDir(edit?: (d: { state: any; events: any; dir: string }) => void): string {
  const dir = path.join(tempDir('seed-'), '.orchestrator');
  fs.mkdirSync(path.join(dir, 'knowledge'), { recursive: true });
  const state = {
    version: 42,
    updated_at: '2026-02-01T10:00:00.000Z',
    workstreams: {
      revenue: {
        description: 'Revenue generation',
        priority: 1,
        status: 'active',
        tasks: [
          { id: '1a2b3c4d', title: 'Add payments to API', description: 'Integrate USDC', status: 'done', priority: 1, estimate: '2h', assigned_to: 'agent-1', created_at: '2026-02-01T09:00:00.000Z', updated_at: '2026-02-01T09:30:00.000Z', result: 'Done: integrated payments' },
          { id: '5e6f7a8b', title: 'Invoices', description: '', status: 'in_progress', priority: 2, estimate: null, assigned_to: 'agent-2', created_at: '2026-02-01T09:01:00.000Z', updated_at: '2026-02-01T09:40:00.000Z', result: null },
        ],
        created_at: '2026-02-01T08:00:00.000Z',
      },
      product: {
        description: 'Product development',
        priority: 2,
        status: 'active',
        tasks: [{ id: '9c0d1e2f', title: 'Write tests', description: 'Unit and integration', status: 'pending', priority: 3, estimate: null, assigned_to: null, created_at: '2026-02-01T09:02:00.000Z', updated_at: '2026-02-01T09:02:00.000Z', result: null }],
        created_at: '2026-02-01T08:01:00.000Z',
      },
    },
    agents: { 'agent-1': { type: 'worker', status: 'active', capabilities: ['payments'], registered_at: '2026-02-01T08:30:00.000Z', last_seen: '2026-02-01T09:30:00.000Z' } },
    locks: { 'git repo': { agent: 'agent-2', acquired_at: new Date().toISOString(), ttl_ms: 3_600_000 } },
  };
  const events = [
    { ts: '2026-02-01T08:00:00.000Z', agent: 'system', action: 'workstream_created', workstream: 'revenue' },
    { ts: '2026-02-01T09:00:00.000Z', agent: 'system', action: 'task_created', workstream: 'revenue', task_id: '1a2b3c4d', title: 'Add payments to API' },
    { ts: '2026-02-01T09:30:00.000Z', agent: 'agent-1', action: 'deployed', service: 'api', version: '2.0' },
  ].map((e) => JSON.stringify(e));
  const d: { state: any; events: any; dir: string } = { state, events, dir };
  edit?.(d);
  if (d.state?.dir) fs.mkdirSync(path.join(dir, 'state.json'));
  else fs.writeFileSync(path.join(dir, 'state.json'), typeof d.state === 'string' ? d.state : JSON.stringify(d.state, null, 2) + '\n');
  if (d.events?.link) fs.symlinkSync(d.events.link, path.join(dir, 'events.jsonl'));
  else fs.writeFileSync(path.join(dir, 'events.jsonl'), d.events.join('\n') + '\n');
  if (!fs.existsSync(path.join(dir, 'knowledge', 'api-design.md'))) {
    fs.writeFileSync(path.join(dir, 'knowledge', 'api-design.md'), '<!-- Updated by agent-1 at 2026-02-01T09:10:00.000Z -->\nUse REST for external, events for internal');
  }
  return dir;
}

describe('import of an original data directory', () => {
  it('keeps ids, timestamps, results and events; converts locks; strips the knowledge header', () => {
    const repo = makeRepo();
    const r = cli(['import', seedDir(), '--json'], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ workstreams: 2, tasks: 3, agents: 1, events: 3, topics: 1, locks: 1 });
    const state = JSON.parse(git(repo, 'show', 'orchestrator:state.json'));
    expect(state.workstreams.revenue.tasks[0]).toEqual(expect.objectContaining({ id: '1a2b3c4d', result: 'Done: integrated payments', created_at: '2026-02-01T09:00:00.000Z', assigned_to: 'agent-1', estimate: '2h' }));
    expect(state.version).toBe(43);
    expect(state.agents['agent-1']).toMatchObject({ capabilities: ['payments'], last_seen: '2026-02-01T09:30:00.000Z' });
    expect(state.locks).toBeUndefined();
    const lock = JSON.parse(git(repo, 'show', 'orchestrator:locks/git%20repo.json'));
    expect(lock).toMatchObject({ resource: 'git repo', agent: 'agent-2', ttl_ms: 3_600_000 });
    expect(git(repo, 'show', 'orchestrator:knowledge/api-design.md')).toBe('Use REST for external, events for internal');
    const events = git(repo, 'show', 'orchestrator:events.jsonl').split('\n').map((l) => JSON.parse(l));
    expect(events[2]).toEqual({ ts: '2026-02-01T09:30:00.000Z', agent: 'agent-1', action: 'deployed', service: 'api', version: '2.0' });
    expect(events[3]).toMatchObject({ action: 'imported', tasks: 3 });
    expect(git(repo, 'rev-list', '--count', 'orchestrator')).toBe('1');
    // The imported board works like any other.
    expect(cli(['t', 'next', 'product', 'agent-3', '--json'], { cwd: repo }).json).toMatchObject({ id: '9c0d1e2f' });
    expect(cli(['lock', 'acquire', 'git repo', 'agent-3'], { cwd: repo }).code).toBe(4);
    expect(cli(['t', 'complete', 'revenue', 'finished invoices'], { cwd: repo }).stdout).toBe('Completed: Invoices\n');
  });

  it('refuses a branch that has data unless --force', () => {
    const repo = makeRepo();
    cli(['ws', 'create', 'existing'], { cwd: repo });
    const tip = git(repo, 'rev-parse', 'orchestrator');
    const r = cli(['import', seedDir()], { cwd: repo });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('--force');
    expect(git(repo, 'rev-parse', 'orchestrator')).toBe(tip);
    expect(cli(['import', seedDir(), '--force'], { cwd: repo }).code).toBe(0);
    expect(cli(['ws', 'ls', '--json'], { cwd: repo }).json.map((w: { name: string }) => w.name)).toEqual(['revenue', 'product']);
    expect(git(repo, 'rev-list', '--count', 'orchestrator')).toBe('2');
  });

  it.each([
    ['state.json that is not JSON', (d: any) => (d.state = '{ "version": 1,\n  "workstreams": }'), /state\.json: not valid JSON.*line 2/],
    ['a priority that is not an integer', (d: any) => (d.state.workstreams.revenue.priority = 'high'), /state\.json field workstreams\.revenue\.priority: must be an integer/],
    ['a task status from nowhere', (d: any) => (d.state.workstreams.revenue.tasks[1].status = 'blocked'), /field workstreams\.revenue\.tasks\[1\]\.status/],
    ['a workstream name with a slash', (d: any) => (d.state.workstreams['a/b'] = { tasks: [] }), /field workstreams\.a\/b/],
    ['a task id used twice', (d: any) => (d.state.workstreams.product.tasks[0].id = '1a2b3c4d'), /used twice/],
    ['a title with a newline', (d: any) => (d.state.workstreams.product.tasks[0].title = 'two\nlines'), /tasks\[0\]\.title/],
    ['an event line that is not JSON', (d: any) => d.events.splice(1, 0, '{"ts": broken'), /events\.jsonl line 2: not valid JSON/],
    ['an event without a ts', (d: any) => d.events.push(JSON.stringify({ agent: 'a', action: 'x' })), /events\.jsonl line 4: "ts" must be a string/],
    ['a negative lock ttl', (d: any) => (d.state.locks['git repo'].ttl_ms = -1), /locks\.git repo\.ttl_ms/],
    ['a topic file name with spaces', (d: any) => fs.writeFileSync(path.join(d.dir, 'knowledge', 'my notes.md'), 'x'), /knowledge\/my notes\.md: topic name/],
  ])('refuses %s, naming the file and line or field, writing nothing', (_l, edit, message) => {
    const repo = makeRepo();
    const r = cli(['import', seedDir(edit as never)], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(() => git(repo, 'rev-parse', '--verify', 'orchestrator')).toThrow();
  });

  it.each([
    ['a self dependency', (d: any) => (d.state.workstreams.product.tasks[0].depends_on = ['9c0d1e2f']), /tasks\[0\]\.depends_on: task "9c0d1e2f" depends on itself/],
    [
      'a cycle of dependencies',
      (d: any) => {
        d.state.workstreams.revenue.tasks[0].depends_on = ['9c0d1e2f'];
        d.state.workstreams.product.tasks[0].depends_on = ['5e6f7a8b'];
        d.state.workstreams.revenue.tasks[1].depends_on = ['1a2b3c4d'];
      },
      /depends_on: dependencies form a cycle: (\w+ -> ){3}\w+/,
    ],
    ['a task time that is not a time', (d: any) => (d.state.workstreams.revenue.tasks[0].created_at = 'garbage'), /field workstreams\.revenue\.tasks\[0\]\.created_at: must be an ISO time/],
    ['a task time in the year 9999', (d: any) => (d.state.workstreams.revenue.tasks[1].updated_at = '9999-01-01T00:00:00.000Z'), /field workstreams\.revenue\.tasks\[1\]\.updated_at: 9999-01-01T00:00:00\.000Z is in the future/],
    ['an agent seen in the year 9999', (d: any) => (d.state.agents['agent-1'].last_seen = '9999-12-31T23:59:59.999Z'), /field agents\.agent-1\.last_seen: .* is in the future/],
    ['an agent registered at a garbage time', (d: any) => (d.state.agents['agent-1'].registered_at = 'yesterday'), /field agents\.agent-1\.registered_at: must be an ISO time/],
    ['a lock acquired at a garbage time', (d: any) => (d.state.locks['git repo'].acquired_at = 'garbage'), /field locks\.git repo\.acquired_at: must be an ISO time/],
    ['a lock acquired before 2000', (d: any) => (d.state.locks['git repo'].acquired_at = '1970-01-01T00:00:00.000Z'), /field locks\.git repo\.acquired_at: .* before the year 2000/],
    ['an event in the year 9999', (d: any) => d.events.push(JSON.stringify({ ts: '9999-01-01T00:00:00.000Z', agent: 'a', action: 'x' })), /events\.jsonl line 4: "ts" .* is in the future/],
    ['a knowledge file that is a directory', (d: any) => fs.mkdirSync(path.join(d.dir, 'knowledge', 'x.md')), /knowledge\/x\.md: is a directory, not a file/],
    ['a knowledge file that is not text', (d: any) => fs.writeFileSync(path.join(d.dir, 'knowledge', 'bin.md'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe, 0x00])), /knowledge\/bin\.md: is not UTF-8 text/],
    ['a state.json that is a directory', (d: any) => (d.state = { dir: true }), /state\.json: is a directory, not a file/],
    [
      'a knowledge file linked to a file outside the directory',
      (d: any) => {
        const outside = path.join(tempDir('outside-'), 'secret.txt');
        fs.writeFileSync(outside, 'a secret from outside');
        fs.symlinkSync(outside, path.join(d.dir, 'knowledge', 'leak.md'));
      },
      /knowledge\/leak\.md: is a symbolic link to .*secret\.txt, outside the data directory/,
    ],
    [
      'a knowledge directory linked outside the directory',
      (d: any) => {
        const outside = tempDir('outside-');
        fs.writeFileSync(path.join(outside, 'leak.md'), 'a secret from outside');
        fs.rmSync(path.join(d.dir, 'knowledge'), { recursive: true });
        fs.symlinkSync(outside, path.join(d.dir, 'knowledge'));
      },
      /knowledge: is a symbolic link to .*, outside the data directory/,
    ],
    [
      'an event log linked to a file outside the directory',
      (d: any) => {
        const outside = path.join(tempDir('outside-'), 'events.jsonl');
        fs.writeFileSync(outside, d.events.join('\n') + '\n');
        d.events = { link: outside };
      },
      /events\.jsonl: is a symbolic link to .*, outside the data directory/,
    ],
  ])('refuses %s (INVALID_INPUT, exit 2), writing nothing', (_l, edit, message) => {
    const repo = makeRepo();
    const before = looseObjects(repo);
    const r = cli(['import', seedDir(edit as never), '--json'], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ code: 'INVALID_INPUT' });
    expect(r.json.error).toMatch(message);
    expect(() => git(repo, 'rev-parse', '--verify', 'orchestrator')).toThrow();
    expect(looseObjects(repo)).toEqual(before);
  });

  it('follows a symbolic link that stays inside the data directory', () => {
    const repo = makeRepo();
    const dir = seedDir((d) => {
      fs.writeFileSync(path.join(d.dir, 'notes.txt'), 'kept inside');
      fs.symlinkSync(path.join('..', 'notes.txt'), path.join(d.dir, 'knowledge', 'inside.md'));
    });
    expect(cli(['import', dir], { cwd: repo }).code).toBe(0);
    expect(git(repo, 'show', 'orchestrator:knowledge/inside.md')).toBe('kept inside');
  });

  it('removes what it wrote when a bad event comes after many good ones', () => {
    const repo = makeRepo();
    const before = looseObjects(repo);
    const dir = seedDir((d) => {
      for (let i = 0; i < 20_000; i++) d.events.push(JSON.stringify({ ts: '2026-02-01T10:00:00.000Z', agent: 'bulk', action: 'tick', n: i, pad: 'x'.repeat(40) }));
      d.events.push('{"ts": "2026-02-01T10:00:00.000Z", "agent": "bulk"');
    });
    const r = cli(['import', dir], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/events\.jsonl line 20004: not valid JSON/);
    expect(looseObjects(repo)).toEqual(before);
  });

  it('streams a large log into sealed segments that verify reads back', () => {
    const repo = makeRepo();
    const dir = seedDir((d) => {
      for (let i = 0; i < 30_000; i++) d.events.push(JSON.stringify({ ts: '2026-02-01T10:00:00.000Z', agent: 'bulk', action: 'tick', n: i }));
    });
    const r = cli(['import', dir, '--json'], { cwd: repo });
    expect(r.json).toMatchObject({ events: 30_003 });
    const segments = git(repo, 'ls-tree', '-r', '--name-only', 'orchestrator').split('\n').filter((f) => f.startsWith('events/'));
    // New branches seal the log at 128 KB (about 1,700 of these events).
    expect(segments.length).toBe(17);
    for (const f of segments) expect(Math.abs(Number(git(repo, 'cat-file', '-s', `orchestrator:${f}`)) - 128 * 1024)).toBeLessThan(100);
    expect(cli(['events', '--last', '2', '--json'], { cwd: repo }).json.map((e: any) => e.action)).toEqual(['tick', 'imported']);
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);
    // The imported board takes ordinary work, and still verifies.
    expect(cli(['t', 'add', 'product', 'after the import'], { cwd: repo }).code).toBe(0);
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);
  });

  it('reports a missing directory', () => {
    const r = cli(['import', '/nonexistent/dir'], { cwd: makeRepo() });
    expect(r.code).toBe(3);
  });

  it('shows progress on large inputs', () => {
    const repo = makeRepo();
    const dir = seedDir((d) => {
      for (let i = 0; i < 120_000; i++) d.events.push(JSON.stringify({ ts: future, agent: 'bulk', action: 'tick', n: i }));
    });
    const r = cli(['import', dir], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('import: events.jsonl: 100000 events read');
    expect(r.stdout).toContain('120003 events');
  });
});
