/**
 * Remotes read from the repository's config file as git reads them: names
 * with dots and quotes, values with quotes, escapes and comments, the last
 * url winning, remotes without a url left out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listRemotes } from '../../src/store/git-config.js';
import { cleanup, git, makeRepo } from '../helpers/repos.js';

afterAll(cleanup);

describe('remotes from the config file', () => {
  it('agrees with git config on every configured url', () => {
    const repo = makeRepo();
    git(repo, 'remote', 'add', 'origin', '/srv/git/project.git');
    git(repo, 'remote', 'add', 'team.backup', 'ssh://git@example.com:22/team/project.git');
    git(repo, 'remote', 'add', 'spaced', '/path with spaces/repo.git');
    git(repo, 'config', 'remote.hashy.url', '/odd#path;x');
    git(repo, 'config', 'remote.hashy.fetch', '+refs/heads/*:refs/remotes/hashy/*');
    git(repo, 'config', 'remote.nourl.fetch', '+refs/heads/*:refs/remotes/nourl/*');
    // Hand-written forms git accepts: a comment after the header, odd spacing, a later url that wins.
    fs.appendFileSync(path.join(repo, '.git', 'config'), '[Remote "Cased"] ; a comment\n\tURL=  "/quoted/path"   # trailing comment\n\turl = /later\\tone\n');
    const got = listRemotes(path.join(repo, '.git'));
    const names = got.map((r) => r.remote);
    expect(names).toEqual(['origin', 'team.backup', 'spaced', 'hashy', 'Cased']);
    for (const r of got) expect(r.url).toBe(git(repo, 'config', '--get-all', `remote.${r.remote}.url`).split('\n').pop());
  });

  it('answers no remotes for a repository without any, or without a config file', () => {
    const repo = makeRepo();
    expect(listRemotes(path.join(repo, '.git'))).toEqual([]);
    expect(listRemotes(path.join(repo, 'missing'))).toEqual([]);
  });
});
