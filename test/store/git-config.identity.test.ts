import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { committerIdentity } from '../../src/store/git-config.js';
import { cleanup, makeRepo, tempDir } from '../helpers/repos.js';

afterAll(cleanup);

/** What git itself would sign a commit with, in that environment. */
function gitIdent(cwd: string, env: NodeJS.ProcessEnv): string {
  return execFileSync('git', ['var', 'GIT_COMMITTER_IDENT'], { cwd, env, encoding: 'utf8' }).replace(/ \d+ [+-]\d{4}\n$/, '');
}

describe("the clone's identity", () => {
  it.each([
    ['the repository sets it', { local: ['Repo Name', 'repo@example.com'], global: ['Global Name', 'global@example.com'] }, {}],
    ['only the user config sets it', { global: ['Global Name', 'global@example.com'] }, {}],
    ['the environment overrides both', { local: ['Repo Name', 'repo@example.com'] }, { GIT_COMMITTER_NAME: 'Env Name', GIT_COMMITTER_EMAIL: 'env@example.com' }],
  ])('is what git would sign with when %s', (_label, config: { local?: string[]; global?: string[] }, extra: Record<string, string>) => {
    const repo = makeRepo();
    const home = tempDir();
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1', ...extra };
    execFileSync('git', ['config', '--unset', 'user.name'], { cwd: repo, env });
    execFileSync('git', ['config', '--unset', 'user.email'], { cwd: repo, env });
    if (config.local) {
      execFileSync('git', ['config', 'user.name', config.local[0]], { cwd: repo, env });
      execFileSync('git', ['config', 'user.email', config.local[1]], { cwd: repo, env });
    }
    if (config.global) fs.writeFileSync(path.join(home, '.gitconfig'), `[user]\n\tname = ${config.global[0]}\n\temail = ${config.global[1]}\n`);
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith('GIT_') || k === 'HOME' || k === 'XDG_CONFIG_HOME') delete process.env[k];
    Object.assign(process.env, env);
    try {
      const id = committerIdentity(path.join(repo, '.git'));
      expect(`${id.name} <${id.email}>`).toBe(gitIdent(repo, env));
    } finally {
      for (const k of Object.keys(process.env)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  // The user's config as many keep it: identity in included files, one per kind of work.
  it.each([
    ['an included file', (home: string, repo: string) => [`[include]\n\tpath = identity.inc\n`, { 'identity.inc': '[user]\n\tname = Included\n\temail = inc@example.com\n' }, repo]],
    ['an included file, set again after the include', (home: string, repo: string) => [`[include]\n\tpath = ~/identity.inc\n[user]\n\temail = after@example.com\n`, { 'identity.inc': '[user]\n\tname = Included\n\temail = inc@example.com\n' }, repo]],
    ['an includeIf whose gitdir matches', (home: string, repo: string) => [`[user]\n\tname = Home\n\temail = home@example.com\n[includeIf "gitdir:${path.dirname(repo)}/"]\n\tpath = work.inc\n`, { 'work.inc': '[user]\n\tname = Work\n\temail = work@example.com\n' }, repo]],
    ['an includeIf matched without regard to case', (home: string, repo: string) => [`[user]\n\tname = Home\n\temail = home@example.com\n[includeIf "gitdir/i:${path.dirname(repo).toUpperCase()}/"]\n\tpath = work.inc\n`, { 'work.inc': '[user]\n\tname = Work\n\temail = work@example.com\n' }, repo]],
    ['an includeIf with a pattern relative to any directory', (home: string, repo: string) => [`[user]\n\tname = Home\n\temail = home@example.com\n[includeIf "gitdir:${path.basename(repo)}/.git"]\n\tpath = work.inc\n`, { 'work.inc': '[user]\n\tname = Work\n\temail = work@example.com\n' }, repo]],
    ['an includeIf whose gitdir does not match', (home: string, repo: string) => [`[user]\n\tname = Home\n\temail = home@example.com\n[includeIf "gitdir:/elsewhere/"]\n\tpath = work.inc\n`, { 'work.inc': '[user]\n\tname = Work\n\temail = work@example.com\n' }, repo]],
    ['a file that includes itself', (home: string, repo: string) => [`[user]\n\tname = Loop\n\temail = loop@example.com\n[include]\n\tpath = .gitconfig\n`, {}, repo]],
  ] as Array<[string, (home: string, repo: string) => [string, Record<string, string>, string]]>)('is what git would sign with when the user config sets it in %s', (_label, make) => {
    const repo = makeRepo();
    const home = tempDir();
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1' };
    execFileSync('git', ['config', '--unset', 'user.name'], { cwd: repo, env });
    execFileSync('git', ['config', '--unset', 'user.email'], { cwd: repo, env });
    const [global, files] = make(home, repo);
    fs.writeFileSync(path.join(home, '.gitconfig'), global);
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(home, name), text);
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith('GIT_') || k === 'HOME' || k === 'XDG_CONFIG_HOME') delete process.env[k];
    Object.assign(process.env, env);
    try {
      const id = committerIdentity(path.join(repo, '.git'));
      // git fails on a file that includes itself (depth exceeded); we stop there and use what was read.
      if (_label.includes('itself')) expect(`${id.name} <${id.email}>`).toBe('Loop <loop@example.com>');
      else expect(`${id.name} <${id.email}>`).toBe(gitIdent(repo, env));
      // (and the include was followed, or not, as its label says)
      const expected = /gitdir matches|case|relative/.test(_label) ? 'Work' : /not match/.test(_label) ? 'Home' : /included/.test(_label) ? 'Included' : 'Loop';
      expect(id.name).toBe(expected);
    } finally {
      for (const k of Object.keys(process.env)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
