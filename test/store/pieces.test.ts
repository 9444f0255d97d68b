/**
 * Blobs written from pieces (state.json in runs of tasks, the live segment in
 * appended parts): the same bytes as the plain serialization, objects git
 * reads and fsck accepts, and the live segment sealed by bytes on new
 * branches while branches made before keep sealing by count (and verify).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../../src/api.js';
import { engineBehind } from '../../src/api/internals.js';
import { emptySnapshot, newBranchSnapshot, serializeState, writeEffect } from '../../src/store/layout.js';
import { ObjectStore } from '../../src/store/objects.js';
import { adler32, adler32Combine } from '../../src/store/pieces.js';
import { findRepo } from '../../src/store/repo.js';
import { stateParts } from '../../src/store/state-text.js';
import { emptyState, type State, type Task } from '../../src/domain/types.js';
import { cleanup, git, makeRepo } from '../helpers/repos.js';

afterAll(cleanup);

function joined(parts: ReturnType<typeof stateParts>): string {
  return parts.map((p) => (typeof p === 'string' ? p : p.bytes.toString('utf8'))).join('');
}

function task(i: number): Task {
  return {
    id: randomBytes(4).toString('hex'),
    title: `Task ${i} "quoted" \\ ünïcødé \u2028`,
    description: i % 3 ? '' : `line\nbreak ${i}`,
    status: 'pending',
    priority: i % 5,
    estimate: i % 4 ? null : '2h',
    assigned_to: null,
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    result: null,
    ...(i % 7 === 0 ? { depends_on: ['00000000', '11111111'] } : {}),
  };
}

function board(counts: number[]): State {
  const state = emptyState('2026-01-01T00:00:00.000Z');
  counts.forEach((n, w) => {
    state.workstreams[`ws-${w}`] = { description: 'd', priority: w, status: 'active', tasks: Array.from({ length: n }, (_, i) => task(i)), created_at: '2026-01-01T00:00:00.000Z' };
  });
  state.agents['agent-1'] = { type: 'worker', status: 'active', capabilities: ['a', 'b'], registered_at: 'x', last_seen: 'y' };
  return state;
}

describe('state.json in pieces', () => {
  it('is byte for byte the plain serialization, through copy-on-write edits', () => {
    let state = board([0, 1, 300, 57]);
    state.settings = { segment_bytes: 1000 };
    expect(joined(stateParts(state))).toBe(serializeState(state));
    for (let step = 0; step < 60; step++) {
      const name = `ws-${2 + (step % 2)}`;
      const ws = { ...state.workstreams[name], tasks: state.workstreams[name].tasks.slice() };
      const n = ws.tasks.length;
      if (step % 3 === 0) ws.tasks.push(task(1000 + step));
      else if (step % 3 === 1) ws.tasks[(step * 37) % n] = { ...ws.tasks[(step * 37) % n], status: 'in_progress', assigned_to: 'agent-1' };
      else ws.tasks.splice((step * 11) % n, 1);
      state = { ...state, version: state.version + 1, workstreams: { ...state.workstreams, [name]: ws } };
      expect(joined(stateParts(state))).toBe(serializeState(state));
    }
    // Emptied lists and a workstream whose description looks like the splice marker.
    const empty = { ...state, workstreams: { ...state.workstreams, 'ws-3': { ...state.workstreams['ws-3'], tasks: [], description: '"@orchestrator-tasks-0"' } } };
    expect(joined(stateParts(empty))).toBe(serializeState(empty));
  });

  it('reuses the pieces of runs of unchanged tasks', () => {
    const state = board([500]);
    const before = stateParts(state).filter((p) => typeof p !== 'string');
    const tasks = state.workstreams['ws-0'].tasks.slice();
    tasks[250] = { ...tasks[250], status: 'done' };
    const after = stateParts({ ...state, workstreams: { 'ws-0': { ...state.workstreams['ws-0'], tasks } } }).filter((p) => typeof p !== 'string');
    expect(after.length).toBe(before.length);
    expect(after.filter((p, i) => p !== before[i]).length).toBe(1);
  });
});

describe('blobs from pieces', () => {
  it('combines Adler-32 like computing it over the whole', () => {
    const a = randomBytes(70_000);
    const b = randomBytes(12_345);
    expect(adler32Combine(adler32(a), adler32(b), b.length)).toBe(adler32(Buffer.concat([a, b])));
    expect(adler32Combine(adler32(a), adler32(Buffer.alloc(0)), 0)).toBe(adler32(a));
  });

  it('writes loose objects git reads and fsck accepts, whatever the pieces', async () => {
    const dir = makeRepo();
    const store = new ObjectStore(findRepo(dir)!);
    const big = Buffer.from('x'.repeat(100_000) + randomBytes(50_000).toString('base64'));
    const cases: Array<Array<Buffer | string | { bytes: Buffer }>> = [
      [],
      [Buffer.alloc(0)],
      [{ bytes: Buffer.alloc(0) }, 'text', { bytes: Buffer.from('piece') }, Buffer.alloc(0)],
      [{ bytes: big }, { bytes: big }, 'tail\n'],
    ];
    for (const parts of cases) {
      const expected = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.isBuffer(p) ? p : p.bytes)));
      const oid = await store.writeBlob(parts);
      expect(git(dir, 'cat-file', '-s', oid)).toBe(String(expected.length));
      const fresh = new ObjectStore(findRepo(dir)!);
      expect((await fresh.readBlob(oid)).equals(expected)).toBe(true);
      git(dir, 'tag', '-f', `blob-${oid.slice(0, 8)}`, oid);
    }
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
  });
});

describe('sealing the live segment', () => {
  const big = (i: number) => ({ n: i, pad: 'p'.repeat(2000) });

  it('seals by bytes on a new branch, and verify replays it', async () => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo, remote: null, agent: 'system' });
    await orc.init();
    const settings = (await orc.loadState()).settings;
    expect(settings).toEqual(newBranchSnapshot().world.state.settings);
    for (let i = 0; i < 150; i++) await orc.logEvent('system', 'padded', big(i));
    const files = git(repo, 'ls-tree', '-r', '--name-only', 'orchestrator').split('\n');
    expect(files).toContain('events/000001.jsonl');
    expect(Number(git(repo, 'cat-file', '-s', 'orchestrator:events/000001.jsonl'))).toBeLessThan(settings!.segment_bytes! + 3000);
    expect((await orc.getEvents({ last: 200 })).filter((e) => e.action === 'padded')).toHaveLength(150);
    expect((await orc.verify()).ok).toBe(true);
    orc.close();
  });

  it('keeps sealing by count on a branch created before the byte bound, and verify still replays it', async () => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo, remote: null, agent: 'system' });
    const store = (await engineBehind(orc)).store;
    // The root commit as an earlier version wrote it: an empty state without settings.
    const at = new Date().toISOString();
    const root = await writeEffect(store.objects, emptySnapshot(), { state: { ...emptyState(at), version: 1 }, events: [], result: null }, { op: 'init', at, by: 'system' }, 'init');
    expect(await store.swapLocal(null, root.commit!, 'system', 'init')).toBe(true);
    for (let i = 0; i < 150; i++) await orc.logEvent('system', 'padded', big(i));
    expect(git(repo, 'ls-tree', '-r', '--name-only', 'orchestrator').split('\n')).not.toContain('events/000001.jsonl');
    expect(Number(git(repo, 'cat-file', '-s', 'orchestrator:events.jsonl'))).toBeGreaterThan(300_000);
    expect((await orc.loadState()).settings).toBeUndefined();
    expect((await orc.verify()).ok).toBe(true);
    orc.close();
  });
});
