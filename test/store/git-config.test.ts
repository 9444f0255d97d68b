/**
 * Remotes read from the config files as git reads them: names with dots and
 * quotes, values with quotes, escapes and comments, the first url of a
 * remote being the one git fetches from, remotes without a url left out;
 * remotes in the user's config and in included files.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listRemotes } from '../../src/store/git-config.js';
import { cleanup, git, makeRepo, tempDir } from '../helpers/repos.js';

/** Runs `fn` with only this environment for git's config (HOME, no system file). */
function withEnv<T>(env: NodeJS.ProcessEnv, fn: () => T): T {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith('GIT_') || k === 'HOME' || k === 'XDG_CONFIG_HOME') delete process.env[k];
  Object.assign(process.env, env);
  try {
    return fn();
  } finally {
    for (const k of Object.keys(process.env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

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
    // Hand-written forms git accepts: a comment after the header, odd spacing, a second url (git fetches from the first).
    fs.appendFileSync(path.join(repo, '.git', 'config'), '[Remote "Cased"] ; a comment\n\tURL=  "/quoted/path"   # trailing comment\n\turl = /later\\tone\n');
    const got = listRemotes(path.join(repo, '.git'));
    const names = got.map((r) => r.remote);
    expect(names).toEqual(['origin', 'team.backup', 'spaced', 'hashy', 'Cased']);
    for (const r of got) expect(r.url).toBe(git(repo, 'remote', 'get-url', r.remote));
    expect(got.find((r) => r.remote === 'Cased')!.url).toBe('/quoted/path');
    expect(got.every((r) => r.direct)).toBe(true);
  });

  it('reads the older and shorter forms git accepts, and an empty url as clearing the ones before it', () => {
    const repo = makeRepo();
    fs.appendFileSync(
      path.join(repo, '.git', 'config'),
      '[remote.Legacy]\n\turl = /legacy\n[remote "inline"] url = /inline/path\n[remote "reset"]\n\turl = /before/reset\n\turl =\n\turl = /after/reset\n',
    );
    const got = listRemotes(path.join(repo, '.git'));
    expect(got.map((r) => r.remote)).toEqual(['legacy', 'inline', 'reset']);
    for (const name of ['legacy', 'inline']) expect(got.find((r) => r.remote === name)!.url).toBe(git(repo, 'ls-remote', '--get-url', name));
    // git 2.46 and later fetch from the url after the empty one; earlier versions refuse to fetch. Never the repository itself.
    expect(got.find((r) => r.remote === 'reset')!.url).toBe('/after/reset');
  });

  it('marks a remote git pushes elsewhere than its url (pushurl, insteadOf) as not to be written directly', () => {
    const repo = makeRepo();
    git(repo, 'remote', 'add', 'plain', '/srv/plain.git');
    git(repo, 'remote', 'add', 'split', '/srv/fetch.git');
    git(repo, 'config', 'remote.split.pushurl', '/srv/push.git');
    git(repo, 'remote', 'add', 'moved', '/old/place/board.git');
    git(repo, 'config', 'url./new/place/.insteadOf', '/old/place/');
    git(repo, 'remote', 'add', 'pushmoved', '/mirror/board.git');
    git(repo, 'config', 'url./primary/.pushInsteadOf', '/mirror/');
    const direct = Object.fromEntries(listRemotes(path.join(repo, '.git')).map((r) => [r.remote, r.direct]));
    expect(direct).toEqual({ plain: true, split: false, moved: false, pushmoved: false });
  });

  it("finds remotes where git does: the user's config, included files, an includeIf that matches", () => {
    const repo = makeRepo();
    const home = tempDir();
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1' };
    fs.writeFileSync(path.join(home, '.gitconfig'), `[remote "everywhere"]\n\turl = /global/first\n[includeIf "gitdir:${path.dirname(repo)}/"]\n\tpath = work.inc\n[includeIf "gitdir:/elsewhere/"]\n\tpath = other.inc\n`);
    fs.writeFileSync(path.join(home, 'work.inc'), '[remote "team"]\n\turl = ssh://git@example.com/team/board.git\n');
    fs.writeFileSync(path.join(home, 'other.inc'), '[remote "other"]\n\turl = /not/for/this/repo\n');
    fs.mkdirSync(path.join(repo, '.git', 'conf.d'));
    fs.writeFileSync(path.join(repo, '.git', 'conf.d', 'remotes'), '[remote "origin"]\n\turl = /srv/included/origin.git\n');
    execFileSync('git', ['config', 'include.path', 'conf.d/remotes'], { cwd: repo, env });
    // Also set in the repository: git keeps the user's url first.
    execFileSync('git', ['config', 'remote.everywhere.url', '/local/second'], { cwd: repo, env });
    const got = withEnv(env, () => listRemotes(path.join(repo, '.git')));
    expect(got.map((r) => r.remote).sort()).toEqual(['everywhere', 'origin', 'team']);
    // The url git fetches from (`remote get-url` names only remotes of the repository's own files).
    for (const r of got) expect(r.url).toBe(execFileSync('git', ['ls-remote', '--get-url', r.remote], { cwd: repo, env, encoding: 'utf8' }).trim());
    expect(got.find((r) => r.remote === 'everywhere')!.url).toBe('/global/first');
    expect(execFileSync('git', ['remote'], { cwd: repo, env, encoding: 'utf8' }).trim().split('\n').sort()).toEqual(['everywhere', 'origin', 'team']);
  });

  it('answers no remotes for a repository without any, or without a config file', () => {
    const repo = makeRepo();
    expect(listRemotes(path.join(repo, '.git'))).toEqual([]);
    expect(listRemotes(path.join(repo, 'missing'))).toEqual([]);
  });
});
