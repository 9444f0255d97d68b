/**
 * What the CLI answers before it loads anything: the version, the same as
 * the full program answers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { cleanup, makeRepo } from './helpers/repos.js';

afterAll(cleanup);

const version = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version as string;

describe('CLI start-up', () => {
  it.each([['--version'], ['-V']])('%s prints the package version', (flag) => {
    const r = cli([flag], { cwd: makeRepo() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(version + '\n');
  });

  it('answers the version the full program gives', () => {
    // With another option the flag goes through the command parser.
    const r = cli(['--offline', '--version'], { cwd: makeRepo() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(version + '\n');
  });
});
