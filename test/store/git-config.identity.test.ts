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
});
