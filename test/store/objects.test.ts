import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectStore, BLOB_MODE, TREE_MODE } from '../../src/store/objects.js';
import { findRepo } from '../../src/store/repo.js';
import { cleanup, git, makeRepo } from '../helpers/repos.js';

afterAll(cleanup);

function store(dir: string): ObjectStore {
  return new ObjectStore(findRepo(dir)!);
}

describe('object store', () => {
  it('writes blobs, trees and commits that git reads and fsck accepts', async () => {
    const dir = makeRepo();
    const s = store(dir);
    const blob = await s.writeBlob(Buffer.from('hello\n'));
    expect(git(dir, 'cat-file', '-p', blob)).toBe('hello');
    // Names chosen to exercise git's tree order (trees sort as if they ended in "/").
    const sub = await s.writeTree([{ mode: BLOB_MODE, name: 'x.md', oid: blob }]);
    const tree = await s.writeTree([
      { mode: BLOB_MODE, name: 'a.b', oid: blob },
      { mode: TREE_MODE, name: 'a', oid: sub },
      { mode: BLOB_MODE, name: 'a-', oid: blob },
      { mode: BLOB_MODE, name: 'Z', oid: blob },
    ]);
    const commit = await s.writeCommit({
      tree,
      parents: [],
      author: { name: 'agent-1', email: 'agent-1@orchestrator', timestamp: 1767225600, tzOffset: 0 },
      committer: { name: 'agent-1', email: 'agent-1@orchestrator', timestamp: 1767225600, tzOffset: 0 },
      message: 'subject\n\nOrchestrator-Op: {"op":"init"}\n',
    });
    git(dir, 'update-ref', 'refs/heads/test', commit);
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
    expect(git(dir, 'log', '-1', '--format=%an|%ae|%s|%(trailers:key=Orchestrator-Op,valueonly)', 'test')).toBe('agent-1|agent-1@orchestrator|subject|{"op":"init"}');
    expect(git(dir, 'ls-tree', '-r', '--name-only', 'test').split('\n')).toEqual(['Z', 'a-', 'a.b', 'a/x.md']);
    const read = await new ObjectStore(findRepo(dir)!).readCommit(commit);
    expect(read.tree).toBe(tree);
    expect(read.message).toContain('Orchestrator-Op');
  });

  it('hashes like git hash-object', async () => {
    const dir = makeRepo();
    const content = 'some content with ünïcødé\n';
    fs.writeFileSync(path.join(dir, 'f.txt'), content);
    const expected = git(dir, 'hash-object', 'f.txt');
    expect(await store(dir).writeBlob(Buffer.from(content))).toBe(expected);
  });

  it('reads objects after git gc packs them', async () => {
    const dir = makeRepo();
    const s = store(dir);
    const blob = await s.writeBlob(Buffer.from('packed\n'));
    git(dir, 'tag', 'keep-blob', blob);
    git(dir, 'gc', '-q', '--prune=now');
    expect(fs.existsSync(path.join(dir, '.git', 'objects', blob.slice(0, 2), blob.slice(2)))).toBe(false);
    const fresh = store(dir);
    expect((await fresh.readBlob(blob)).toString()).toBe('packed\n');
    fresh.close();
  });

  it('leaves no temporary files behind', async () => {
    const dir = makeRepo();
    const s = store(dir);
    for (let i = 0; i < 20; i++) await s.writeBlob(Buffer.from(`blob ${i}`));
    const leftovers: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else if (e.name.startsWith('tmp_')) leftovers.push(e.name);
      }
    };
    walk(path.join(dir, '.git', 'objects'));
    expect(leftovers).toEqual([]);
  });

  it('reports a missing object as NOT_FOUND', async () => {
    const dir = makeRepo();
    const s = store(dir);
    await expect(s.readBlob('0123456789012345678901234567890123456789')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    s.close();
  });
});

describe('packed objects', () => {
  it('reads them through git in a short command and in process (isomorphic-git) in a long-running one, alike', async () => {
    const dir = makeRepo();
    const s = store(dir);
    const blobs: string[] = [];
    for (let i = 0; i < 20; i++) blobs.push(await s.writeBlob(Buffer.from(`packed ${i}\n`.repeat(i + 1))));
    const tree = await s.writeTree(blobs.map((oid, i) => ({ mode: BLOB_MODE, name: `f${i}`, oid })));
    const commit = await s.writeCommit({ tree, parents: [], author: { name: 'a', email: 'a@x', timestamp: 1, tzOffset: 0 }, committer: { name: 'a', email: 'a@x', timestamp: 1, tzOffset: 0 }, message: 'm\n' });
    git(dir, 'update-ref', 'refs/heads/packed', commit);
    git(dir, 'gc', '-q', '--prune=now');
    expect(fs.existsSync(s.loosePath(blobs[3]))).toBe(false);
    const viaGit = new ObjectStore(findRepo(dir)!);
    const read = async (os: ObjectStore) => [await os.readCommit(commit), await os.readTree(tree), ...(await Promise.all(blobs.map((b) => os.readBlob(b))))];
    const expected = await read(viaGit);
    viaGit.close();
    const { readPacks } = await import('../../src/store/objects.js');
    readPacks('cached');
    const savedPath = process.env.PATH;
    try {
      // No git to fall back on: every packed object is read in process.
      process.env.PATH = '/nonexistent';
      const inProcess = new ObjectStore(findRepo(dir)!);
      expect(await read(inProcess)).toEqual(expected);
      expect(expected[2]).toEqual(Buffer.from('packed 0\n'));
      // What no pack holds is still asked of git (alternates are git's to resolve).
      process.env.PATH = savedPath;
      await expect(inProcess.readBlob('0'.repeat(40))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      inProcess.close();
    } finally {
      process.env.PATH = savedPath;
      readPacks('git');
    }
  });
});
