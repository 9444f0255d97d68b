/**
 * The state cache of large boards: each command after the first reads the
 * board from it and rewrites only what it changed; every commit still
 * replays exactly, and a cache file that is damaged or gone only means the
 * slow way. Commands run as real processes (the cache is written when one
 * exits).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LARGE_BOARD_TASKS } from '../../src/store/state-text.js';
import { LAZY_BOARD_TASKS } from '../../src/store/lazy-tasks.js';
import { cliProcess as cli } from '../helpers/cli.js';
import { cleanup, git, makeRepo, tempDir } from '../helpers/repos.js';

afterAll(cleanup);

/** A repository whose branch is the import of a board with `n` tasks in two workstreams. */
function largeBoard(n: number): string {
  const dir = path.join(tempDir('large-'), '.orchestrator');
  fs.mkdirSync(dir, { recursive: true });
  const at = '2026-02-01T10:00:00.000Z';
  const tasks = (ws: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({
      id: `${ws}${String(i).padStart(6, '0')}`,
      title: `Task ${i} of ${ws}: "quoted", ünïcødé`,
      description: i % 3 ? '' : `line ${i}`,
      status: i % 4 === 0 ? 'done' : 'pending',
      priority: i % 7,
      estimate: null,
      assigned_to: i % 4 === 0 ? 'agent-1' : null,
      created_at: at,
      updated_at: at,
      result: i % 4 === 0 ? `result ${i}` : null,
    }));
  const state = {
    version: 1,
    updated_at: at,
    workstreams: { alpha: { description: 'a', priority: 1, status: 'active', tasks: tasks('a', n - 100), created_at: at }, beta: { description: 'b', priority: 2, status: 'active', tasks: tasks('b', 100), created_at: at } },
    agents: {},
    locks: {},
  };
  fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  const repo = makeRepo();
  expect(cli(['import', dir], { cwd: repo }).code).toBe(0);
  return repo;
}

function cacheFiles(repo: string): string[] {
  const dir = path.join(repo, '.git', 'orchestrator', 'state-cache');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

const indexes = (repo: string) => cacheFiles(repo).filter((f) => /^[0-9a-f]{40}$/.test(f));
const runsFiles = (repo: string) => cacheFiles(repo).filter((f) => f.startsWith('runs-'));
const cacheDir = (repo: string) => path.join(repo, '.git', 'orchestrator', 'state-cache');

describe('the state cache of a large board', () => {
  it('holds the newest state.json, and commands on it replay exactly', async () => {
    // Large enough to stay large when its done tasks are archived.
    const repo = largeBoard(2 * LARGE_BOARD_TASKS);
    const state = () => git(repo, 'rev-parse', 'orchestrator:state.json');
    expect(cacheFiles(repo)).toContain(state());
    const run = (...args: string[]) => {
      const r = cli(args, { cwd: repo });
      expect(r.code, r.stderr).toBe(0);
      expect(cacheFiles(repo)).toContain(state());
      return r;
    };
    run('t', 'add', 'alpha', 'new at the end');
    run('t', 'claim', 'alpha', 'a000001', 'agent-2');
    run('t', 'complete', 'alpha', 'a000001', 'finished');
    run('t', 'next', 'beta', 'agent-3');
    run('a', 'register', 'agent-2');
    run('t', 'add', 'beta', 'another');
    run('archive', '--older-than', '0');
    run('t', 'add', 'alpha', 'after the archive');
    expect(indexes(repo).length).toBeLessThanOrEqual(6);
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);
    // What the cache holds is what the branch holds: its text hashes to the blob id.
    const { readStateCache } = await import('../../src/store/state-cache.js');
    const text = readStateCache(path.join(repo, '.git'), state())!.text();
    expect(createHash('sha1').update(`blob ${text.length}\0`).update(text).digest('hex')).toBe(state());
  });

  it('writes only the runs a command changed, and keeps the number of files bounded', async () => {
    const repo = largeBoard(LAZY_BOARD_TASKS + 100);
    const state = () => git(repo, 'rev-parse', 'orchestrator:state.json');
    const size = Number(git(repo, 'cat-file', '-s', state()));
    for (let i = 0; i < 16; i++) {
      const before = new Set(runsFiles(repo));
      const r = cli(['t', 'add', i % 2 ? 'alpha' : 'beta', `added ${i}`], { cwd: repo });
      expect(r.code, r.stderr).toBe(0);
      expect(indexes(repo)).toContain(state());
      const added = runsFiles(repo).filter((f) => !before.has(f));
      expect(added.length).toBe(1);
      // A changed run or two, and the whole board when the files were gathered into one.
      const bytes = fs.statSync(path.join(cacheDir(repo), added[0])).size;
      expect(bytes < size / 20 || bytes > size).toBe(true);
      expect(runsFiles(repo).length).toBeLessThanOrEqual(16);
    }
    const { readStateCache } = await import('../../src/store/state-cache.js');
    const text = readStateCache(path.join(repo, '.git'), state())!.text();
    expect(createHash('sha1').update(`blob ${text.length}\0`).update(text).digest('hex')).toBe(state());
    expect(cli(['t', 'ls', 'beta', '--json'], { cwd: repo }).json).toHaveLength(108);
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);
  }, 120_000);

  it('reads a very large board lazily, and commands on it still replay exactly', () => {
    const repo = largeBoard(LAZY_BOARD_TASKS + 100);
    for (const args of [
      ['t', 'add', 'alpha', 'new at the end'],
      ['t', 'claim', 'alpha', 'a000005', 'agent-2'],
      ['t', 'complete', 'alpha', 'a000005', 'finished'],
      ['t', 'next', 'alpha', 'agent-3'],
      ['t', 'add', 'beta', 'with a dependency', '--after', 'a000005,b000001'],
    ]) {
      const r = cli(args, { cwd: repo });
      expect(r.code, r.stderr).toBe(0);
    }
    expect(cli(['t', 'show', 'alpha', 'a000005', '--json'], { cwd: repo }).json).toMatchObject({ status: 'done', result: 'finished', assigned_to: 'agent-2' });
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);
  }, 120_000);

  it.each([
    ['truncated', (f: string) => fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2))],
    ['not a cache at all', (f: string) => fs.writeFileSync(f, 'garbage\n')],
    ['gone', (f: string) => fs.rmSync(f)],
    ['a runs file it names, gone', (f: string) => runsFiles(path.resolve(f, '..', '..', '..', '..')).forEach((r) => fs.rmSync(path.join(path.dirname(f), r)))],
    ['a runs file it names, truncated', (f: string) => runsFiles(path.resolve(f, '..', '..', '..', '..')).forEach((r) => fs.truncateSync(path.join(path.dirname(f), r), 100))],
  ])('is not needed when it is %s', (_l, damage) => {
    const repo = largeBoard(LARGE_BOARD_TASKS + 10);
    expect(runsFiles(repo).length).toBeGreaterThan(0);
    damage(path.join(repo, '.git', 'orchestrator', 'state-cache', git(repo, 'rev-parse', 'orchestrator:state.json')));
    expect(cli(['t', 'add', 'beta', 'still works'], { cwd: repo }).code).toBe(0);
    expect(cli(['t', 'ls', 'beta', '--json'], { cwd: repo }).json).toHaveLength(101);
    expect(cli(['verify'], { cwd: repo }).code).toBe(0);
  });
});

describe('tasks read lazily from the cache', () => {
  it('behave as the tasks themselves: read, listed, spread, serialized, searched', async () => {
    const { stateParts } = await import('../../src/store/state-text.js');
    const { lazyState } = await import('../../src/store/lazy-tasks.js');
    const { findTaskAnywhere } = await import('../../src/domain/draft.js');
    const { parseState, serializeState } = await import('../../src/store/layout.js');
    const at = '2026-02-01T10:00:00.000Z';
    const task = (i: number) => ({ id: `t${i}`, title: `task ${i}`, description: '', status: 'pending' as const, priority: i % 3, estimate: null, assigned_to: null, created_at: at, updated_at: at, result: null, ...(i % 5 === 0 ? { depends_on: ['t1'] } : {}) });
    const state = parseState(
      JSON.stringify({ format: 1, version: 3, updated_at: at, workstreams: { a: { description: '', priority: 1, status: 'active', tasks: Array.from({ length: 300 }, (_, i) => task(i)), created_at: at }, empty: { description: '', priority: 2, status: 'active', tasks: [], created_at: at }, b: { description: '', priority: 3, status: 'active', tasks: [task(1000)], created_at: at } }, agents: {} }),
      'test',
    );
    stateParts(state); // the first call of a process takes the whole text at once
    const parts = stateParts(state).map((p) => (typeof p === 'string' ? Buffer.from(p) : p)) as Array<Buffer | import('../../src/store/state-text.js').RunPiece>;
    const lazy = lazyState(parts, (text) => parseState(text, 'test'))!;
    expect(lazy).not.toBeNull();
    expect(lazy.workstreams.empty.tasks).toEqual([]);
    const t = lazy.workstreams.a.tasks[123];
    expect(t.id).toBe('t123');
    expect(findTaskAnywhere(lazy, 't1000')?.workstream).toBe('b');
    expect(findTaskAnywhere(lazy, 'nope')).toBeNull();
    expect({ ...t, status: 'done' }).toEqual({ ...task(123), status: 'done' });
    expect(Object.keys(lazy.workstreams.a.tasks[5])).toEqual(Object.keys(task(5)));
    expect('depends_on' in lazy.workstreams.a.tasks[5]).toBe(true);
    expect(Object.prototype.hasOwnProperty.call(lazy.workstreams.a.tasks[6], 'depends_on')).toBe(false);
    expect(serializeState(lazy)).toBe(serializeState(state));
    const joined = stateParts(lazy).map((p) => (typeof p === 'string' ? p : p.bytes.toString('utf8'))).join('');
    expect(joined).toBe(serializeState(state));
  });

  it('in a one-shot process make a lazy list that answers as the array of its tasks, and is written exactly', async () => {
    const { stateParts } = await import('../../src/store/state-text.js');
    const { lazyState } = await import('../../src/store/lazy-tasks.js');
    const { readStateCacheLazily } = await import('../../src/store/state-cache.js');
    const { parseState, serializeState } = await import('../../src/store/layout.js');
    type Task = import('../../src/domain/types.js').Task;
    type State = import('../../src/domain/types.js').State;
    const at = '2026-02-01T10:00:00.000Z';
    const task = (i: number): Task => ({ id: `t${i}`, title: `task ${i}`, description: '', status: i % 4 ? 'pending' : 'done', priority: i % 3, estimate: null, assigned_to: null, created_at: at, updated_at: at, result: null });
    const text = JSON.stringify({ format: 1, version: 3, updated_at: at, workstreams: { a: { description: '', priority: 1, status: 'active', tasks: Array.from({ length: 500 }, (_, i) => task(i)), created_at: at }, b: { description: '', priority: 3, status: 'active', tasks: [task(1000)], created_at: at } }, agents: {} });
    const plain = () => parseState(text, 'test');
    stateParts(plain());
    const parts = stateParts(plain()).map((p) => (typeof p === 'string' ? Buffer.from(p) : p)) as Array<Buffer | import('../../src/store/state-text.js').RunPiece>;
    readStateCacheLazily();
    const lazy = () => lazyState(parts, (t) => parseState(t, 'test'))!;
    const written = (s: State) => stateParts(s).map((p) => (typeof p === 'string' ? p : p.bytes.toString('utf8'))).join('');
    /** The state with list `a` replaced by what `change` made of a copy (as operations copy what they change). */
    const edited = (s: State, change: (tasks: Task[]) => void): State => {
      const tasks = s.workstreams.a.tasks.slice();
      change(tasks);
      return { ...s, workstreams: { ...s.workstreams, a: { ...s.workstreams.a, tasks } } };
    };

    const L = lazy().workstreams.a.tasks;
    const P = plain().workstreams.a.tasks;
    expect(Array.isArray(L)).toBe(true);
    expect(L.length).toBe(P.length);
    expect(L[7].id).toBe('t7');
    expect(L.indexOf(L[321])).toBe(321);
    expect(L.findIndex((t) => t.id === 't250')).toBe(250);
    expect(L.map((t) => t.status)).toEqual(P.map((t) => t.status));
    expect(L.filter((t) => t.status === 'done').length).toBe(P.filter((t) => t.status === 'done').length);
    expect([...L].map((t) => t.id)).toEqual(P.map((t) => t.id));
    expect(Object.keys(L)).toEqual(Object.keys(P));
    expect(499 in L && !(500 in L)).toBe(true);
    expect(L.at(-1)!.id).toBe('t499');
    expect(L.slice(10, 13).map((t) => t.id)).toEqual(['t10', 't11', 't12']);
    expect(JSON.stringify(L)).toBe(JSON.stringify(P));
    expect(L[3]).toBe(L[3]);

    const changes: Array<[string, (tasks: Task[]) => void]> = [
      ['nothing', () => undefined],
      ['one appended', (t) => void t.push(task(2000))],
      ['many appended', (t) => void t.push(...Array.from({ length: 150 }, (_, i) => task(3000 + i)))],
      ['one replaced', (t) => void (t[250] = { ...t[250], status: 'in_progress', assigned_to: 'agent-1' })],
      ['the first replaced', (t) => void (t[0] = { ...t[0], title: 'renamed' })],
      ['some removed', (t) => void t.splice(40, 3)],
      ['cut short', (t) => void (t.length = 123)],
      ['filtered', (t) => void t.splice(0, t.length, ...t.filter((x) => x.status !== 'done'))],
      ['sorted', (t) => void t.sort((x, y) => y.priority - x.priority)],
      ['emptied', (t) => void (t.length = 0)],
    ];
    for (const [name, change] of changes) {
      const fromLazy = lazy();
      const before = serializeState(fromLazy);
      const next = edited(fromLazy, change);
      expect(written(next), name).toBe(serializeState(edited(plain(), change)));
      // The list it was copied from is as it was read.
      expect(serializeState(fromLazy), name).toBe(before);
      expect(written(fromLazy), name).toBe(before);
    }
  });
});
