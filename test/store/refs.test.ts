import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { casRef, readRef } from '../../src/store/refs.js';
import { findRepo } from '../../src/store/repo.js';
import { cleanup, git, makeRepo } from '../helpers/repos.js';

afterAll(cleanup);

const REF = 'refs/heads/orchestrator';

describe('compare-and-swap of refs', () => {
  it('creates, advances and refuses a stale expectation', () => {
    const dir = makeRepo();
    const repo = findRepo(dir)!;
    const head = git(dir, 'rev-parse', 'HEAD');
    const second = git(dir, 'commit-tree', `${head}^{tree}`, '-p', head, '-m', 'second');
    expect(casRef(repo, { ref: REF, expected: head, next: second })).toBe(false);
    expect(readRef(repo, REF)).toBeNull();
    expect(casRef(repo, { ref: REF, expected: null, next: head })).toBe(true);
    expect(casRef(repo, { ref: REF, expected: null, next: second })).toBe(false);
    expect(casRef(repo, { ref: REF, expected: head, next: second, message: 'advance' })).toBe(true);
    expect(git(dir, 'rev-parse', REF)).toBe(second);
    expect(git(dir, 'reflog', 'show', '--format=%gs', REF).split('\n')[0]).toBe('advance');
    expect(fs.existsSync(path.join(repo.commondir, REF + '.lock'))).toBe(false);
  });

  it('reads and swaps refs that git packed', () => {
    const dir = makeRepo();
    const repo = findRepo(dir)!;
    const head = git(dir, 'rev-parse', 'HEAD');
    git(dir, 'update-ref', REF, head);
    git(dir, 'pack-refs', '--all', '--prune');
    expect(fs.existsSync(path.join(repo.commondir, REF))).toBe(false);
    expect(readRef(repo, REF)).toBe(head);
    const next = git(dir, 'commit-tree', `${head}^{tree}`, '-p', head, '-m', 'n');
    expect(casRef(repo, { ref: REF, expected: head, next })).toBe(true);
    expect(git(dir, 'rev-parse', REF)).toBe(next);
  });

  it('breaks a lock left by a dead process and waits out a live one', () => {
    const dir = makeRepo();
    const repo = findRepo(dir)!;
    const head = git(dir, 'rev-parse', 'HEAD');
    const lock = path.join(repo.commondir, REF + '.lock');
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(lock, `pid 2147483646 host ${os.hostname()}\n`);
    expect(casRef(repo, { ref: REF, expected: null, next: head })).toBe(true);
    // A fresh lock of unknown origin (git's own) is respected: the swap gives up with CONTENTION.
    fs.writeFileSync(lock, '');
    expect(() => casRef(repo, { ref: REF, expected: head, next: head, lockWaitMs: 50 })).toThrow(expect.objectContaining({ code: 'CONTENTION' }));
    fs.rmSync(lock);
  });
});
