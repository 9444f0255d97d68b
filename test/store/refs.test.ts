import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { casRef, readRef } from '../../src/store/refs.js';
import { findRepo } from '../../src/store/repo.js';
import { cleanup, git, makeRepo } from '../helpers/repos.js';

afterAll(cleanup);

const REF = 'refs/heads/orchestrator';

function identity(pid: number, overrides: { boot?: string; pidns?: string } = {}): string {
  const boot = overrides.boot ?? (fs.existsSync('/proc/sys/kernel/random/boot_id') ? fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : '-');
  let pidns = '-';
  try {
    pidns = fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    /* not Linux */
  }
  return `pid ${pid} host ${os.hostname().replace(/\s/g, '_')} boot ${boot} pidns ${overrides.pidns ?? pidns}\n`;
}

describe('compare-and-swap of refs', () => {
  it('creates, advances and refuses a stale expectation', async () => {
    const dir = makeRepo();
    const repo = findRepo(dir)!;
    const head = git(dir, 'rev-parse', 'HEAD');
    const second = git(dir, 'commit-tree', `${head}^{tree}`, '-p', head, '-m', 'second');
    expect(await casRef(repo, { ref: REF, expected: head, next: second })).toBe(false);
    expect(readRef(repo, REF)).toBeNull();
    expect(await casRef(repo, { ref: REF, expected: null, next: head })).toBe(true);
    expect(await casRef(repo, { ref: REF, expected: null, next: second })).toBe(false);
    expect(await casRef(repo, { ref: REF, expected: head, next: second, message: 'advance' })).toBe(true);
    expect(git(dir, 'rev-parse', REF)).toBe(second);
    expect(git(dir, 'reflog', 'show', '--format=%gs', REF).split('\n')[0]).toBe('advance');
    expect(fs.existsSync(path.join(repo.commondir, REF + '.lock'))).toBe(false);
  });

  it('reads and swaps refs that git packed', async () => {
    const dir = makeRepo();
    const repo = findRepo(dir)!;
    const head = git(dir, 'rev-parse', 'HEAD');
    git(dir, 'update-ref', REF, head);
    git(dir, 'pack-refs', '--all', '--prune');
    expect(fs.existsSync(path.join(repo.commondir, REF))).toBe(false);
    expect(readRef(repo, REF)).toBe(head);
    const next = git(dir, 'commit-tree', `${head}^{tree}`, '-p', head, '-m', 'n');
    expect(await casRef(repo, { ref: REF, expected: head, next })).toBe(true);
    expect(git(dir, 'rev-parse', REF)).toBe(next);
  });

  it('never reads a broken ref as absent (a write would start a new history over it)', async () => {
    const dir = makeRepo();
    const repo = findRepo(dir)!;
    fs.mkdirSync(path.join(repo.commondir, 'refs', 'heads'), { recursive: true });
    fs.writeFileSync(path.join(repo.commondir, REF), '');
    expect(() => readRef(repo, REF)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    await expect(casRef(repo, { ref: REF, expected: null, next: git(dir, 'rev-parse', 'HEAD') })).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it('breaks a lock whose owner provably died, respects one it cannot judge, and ages out the rest', async () => {
    const dir = makeRepo();
    const repo = findRepo(dir)!;
    const head = git(dir, 'rev-parse', 'HEAD');
    const lock = path.join(repo.commondir, REF + '.lock');
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    // Dead pid, same machine, same boot, same pid namespace: provably gone.
    fs.writeFileSync(lock, identity(2147483646));
    expect(await casRef(repo, { ref: REF, expected: null, next: head })).toBe(true);
    // The same pid number in another pid namespace (a container) means nothing here: wait.
    fs.writeFileSync(lock, identity(2147483646, { pidns: 'pid:[1]' }));
    await expect(casRef(repo, { ref: REF, expected: head, next: head, lockWaitMs: 50 })).rejects.toMatchObject({ code: 'CONTENTION' });
    // A fresh lock of unknown origin (git's own) is respected too...
    fs.writeFileSync(lock, '');
    await expect(casRef(repo, { ref: REF, expected: head, next: head, lockWaitMs: 50 })).rejects.toMatchObject({ code: 'CONTENTION' });
    // ...until it is far older than any live holder keeps one.
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    const next = git(dir, 'commit-tree', `${head}^{tree}`, '-p', head, '-m', 'n');
    expect(await casRef(repo, { ref: REF, expected: head, next })).toBe(true);
    expect(fs.readdirSync(path.dirname(lock)).filter((f) => f.includes('.lock'))).toEqual([]);
  });
});
