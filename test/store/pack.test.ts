/**
 * Packed objects read in process: every object of a packed repository reads
 * back exactly as git's own reader gives it, whether its deltas name their
 * bases by offset or by id, without starting git.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../../src/api.js';
import { ObjectStore, readPacks } from '../../src/store/objects.js';
import { applyDelta } from '../../src/store/pack.js';
import { findRepo } from '../../src/store/repo.js';
import { cleanup, git, makeRepo } from '../helpers/repos.js';

// As a CLI command reads them (a library process asks git).
readPacks('direct');
afterAll(() => {
  readPacks('git');
  cleanup();
});

/** A board with enough history that packing makes delta chains of state.json and the event log. */
async function board(): Promise<string> {
  const dir = makeRepo();
  const orc = openOrchestrator({ repo: dir, agent: 'seed' });
  await orc.createWorkstream('w');
  for (let i = 0; i < 60; i++) await orc.addTask('w', { title: `task ${i}`, description: 'x'.repeat(i * 37) });
  await orc.writeKnowledge('notes', '# Notes\n\n' + 'line\n'.repeat(500), 'seed');
  orc.close();
  return dir;
}

function allObjects(dir: string): Array<{ oid: string; type: string }> {
  return git(dir, 'cat-file', '--batch-all-objects', '--batch-check')
    .split('\n')
    .map((l) => l.split(' '))
    .map(([oid, type]) => ({ oid, type }));
}

/** git's own bytes of an object. */
function gitBytes(dir: string, oid: string, type: string): Buffer {
  return execFileSync('git', ['cat-file', type, oid], { cwd: dir, maxBuffer: 64 << 20 });
}

describe('packed objects', () => {
  it.each([
    ['by offset', 'true'],
    ['by id', 'false'],
  ])('reads every object of a repository packed with deltas naming their bases %s, as git does', async (_, offsets) => {
    const dir = await board();
    git(dir, '-c', `repack.useDeltaBaseOffset=${offsets}`, 'repack', '-a', '-d', '-f', '--depth=50', '--window=50');
    git(dir, 'prune-packed');
    const objects = allObjects(dir);
    expect(fs.readdirSync(path.join(dir, '.git', 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d))).toEqual([]);
    // The pack has deltas, of the kind asked for.
    const pack = fs.readdirSync(path.join(dir, '.git', 'objects', 'pack')).find((n) => n.endsWith('.pack'))!;
    const verify = git(dir, 'verify-pack', '-v', path.join('.git', 'objects', 'pack', pack));
    expect(verify).toMatch(/chain length = [2-9]/);
    const s = new ObjectStore(findRepo(dir)!);
    // Nothing starts git: the process reader is never asked.
    (s as unknown as { catFile: { read: () => never } }).catFile.read = () => {
      throw new Error('git cat-file was started');
    };
    for (const { oid, type } of objects) {
      const r = await s.read(oid);
      expect(r.type).toBe(type);
      expect(r.content.equals(gitBytes(dir, oid, type))).toBe(true);
      expect(await s.exists(oid)).toBe(true);
    }
    // An id no pack has is git's to answer (here: missing).
    (s as unknown as { catFile: { read: () => Promise<null> } }).catFile.read = async () => null;
    await expect(s.read('0'.repeat(40))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('finds objects packed after it first looked, and commands read a packed board', async () => {
    const dir = await board();
    git(dir, 'repack', '-d', '-q');
    git(dir, 'prune-packed');
    const s = new ObjectStore(findRepo(dir)!);
    const first = git(dir, 'rev-parse', 'refs/heads/orchestrator');
    expect((await s.readCommit(first)).oid).toBe(first);
    // More history, packed into a second pack the store has not seen.
    const orc = openOrchestrator({ repo: dir, agent: 'writer' });
    await orc.addTask('w', { title: 'after the first pack' });
    git(dir, 'repack', '-d', '-q');
    git(dir, 'prune-packed');
    expect(fs.readdirSync(path.join(dir, '.git', 'objects', 'pack')).filter((n) => n.endsWith('.pack'))).toHaveLength(2);
    const tip = git(dir, 'rev-parse', 'refs/heads/orchestrator');
    (s as unknown as { catFile: { read: () => never } }).catFile.read = () => {
      throw new Error('git cat-file was started');
    };
    expect((await s.readCommit(tip)).parents).toEqual([first]);
    const tree = git(dir, 'rev-parse', `${tip}^{tree}`);
    expect((await s.readTree(tree)).map((e) => e.name).sort()).toEqual(git(dir, 'ls-tree', '--name-only', tree).split('\n').sort());
    expect((await orc.listTasks('w')).length).toBe(61);
    expect(await orc.readKnowledge('notes')).toContain('line\nline\n');
    orc.close();
  });

  it('refuses a delta that does not fit its base', () => {
    // base size 3, result size 2, copy 2 bytes from offset 0
    expect(applyDelta(Buffer.from('abc'), Buffer.from([3, 2, 0x90, 2])).toString()).toBe('ab');
    expect(() => applyDelta(Buffer.from('abcd'), Buffer.from([3, 2, 0x90, 2]))).toThrow(/base of 3/);
    expect(() => applyDelta(Buffer.from('abc'), Buffer.from([3, 2, 0x90, 9]))).toThrow(/past its bounds/);
    expect(() => applyDelta(Buffer.from('abc'), Buffer.from([3, 2, 0]))).toThrow(/reserved/);
  });
});
