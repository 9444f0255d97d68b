/**
 * Hostile names and content: names that are also JavaScript's own
 * (`__proto__`, `constructor`, `toString`, ...) work as any other name or
 * are refused clearly; binary content and characters that reorder or break
 * a line are refused in new input and neutralised wherever text is shown.
 * Through the library and the real CLI.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { agentList, eventLine, lockList, taskLine, workstreamList } from '../src/cli/format.js';
import { statusText, type StatusView } from '../src/domain/queries.js';
import { cli } from './helpers/cli.js';
import { cleanup, git, makeRepo, tempDir } from './helpers/repos.js';

afterAll(cleanup);

const JS_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
/** The JavaScript names that the name rules let through (they start with a letter). */
const JS_IDENTS = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

async function expectCode(p: Promise<unknown>, code: string): Promise<Error & { code: string; message: string }> {
  const err = (await p.then(
    () => null,
    (e: unknown) => e,
  )) as (Error & { code: string }) | null;
  expect(err, `expected ${code}`).not.toBeNull();
  expect(err!.code).toBe(code);
  return err!;
}

describe('locks named like JavaScript object members (library)', () => {
  it.each(JS_NAMES)('lock %j is acquired, held against others, renewed, listed and released', async (name) => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo, agent: 'alice' });
    const lock = await orc.lock(name, 'alice', { ttlMs: 600_000 });
    expect(lock).toMatchObject({ resource: name, agent: 'alice', renewed: false });
    expect((await orc.listLocks()).map((l) => l.resource)).toEqual([name]);
    expect(Object.keys((await orc.loadState()).locks)).toEqual([name]);
    const held = await expectCode(orc.lock(name, 'bob'), 'LOCK_HELD');
    expect(held.message).toContain(`lock "${name}" is held by alice`);
    expect((await orc.lock(name, 'alice', { ttlMs: 600_000 })).renewed).toBe(true);
    expect((await orc.renewLock(name, 'alice', { ttlMs: 600_000 })).agent).toBe('alice');
    await expectCode(orc.unlock(name, 'bob'), 'LOCK_HELD');
    expect(await orc.unlock(name, 'alice')).toMatchObject({ resource: name, released: true, holder: 'alice' });
    expect(await orc.listLocks()).toEqual([]);
    expect(git(repo, 'ls-tree', '--name-only', 'orchestrator')).not.toContain('locks');
    expect((await orc.verify()).ok).toBe(true);
  });

  it.each(JS_NAMES)('lock %j that nobody holds cannot be renewed or released, even forced', async (name) => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo, agent: 'alice' });
    await orc.createWorkstream('w');
    const tip = git(repo, 'rev-parse', 'orchestrator');
    await expectCode(orc.renewLock(name, 'alice'), 'NOT_FOUND');
    await expectCode(orc.unlock(name, 'alice'), 'NOT_FOUND');
    await expectCode(orc.unlock(name, 'alice', { force: true }), 'NOT_FOUND');
    expect(await orc.releaseLock(name, 'alice')).toBe(false);
    expect(git(repo, 'rev-parse', 'orchestrator')).toBe(tip);
  });
});

describe('other records keyed by a name (library)', () => {
  it.each(JS_IDENTS)('workstream, agent and topic %j work like any other name', async (name) => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo, agent: 'alice' });
    await expectCode(orc.addTask(name, { title: 'x' }), 'NOT_FOUND');
    await expectCode(orc.listTasks(name), 'NOT_FOUND');
    await expectCode(orc.heartbeat(name), 'NOT_FOUND');
    await orc.createWorkstream(name);
    await expectCode(orc.createWorkstream(name), 'CONFLICT');
    const t = await orc.addTask(name, { title: 'a task' });
    await orc.registerAgent(name, { type: 'worker' });
    await orc.claimTask(name, t.id, name);
    expect((await orc.heartbeat(name)).id).toBe(name);
    expect((await orc.listWorkstreams()).map((w) => w.name)).toEqual([name]);
    expect((await orc.listAgents()).map((a) => a.id)).toEqual([name]);
    await orc.writeKnowledge(name, `about ${name}`);
    expect(await orc.readKnowledge(name)).toBe(`about ${name}`);
    expect(await orc.listKnowledge()).toEqual([name]);
    expect(await orc.deleteKnowledge(name)).toBe(true);
    expect(await orc.deleteKnowledge(name)).toBe(false);
    expect((await orc.showTask(name, t.id)).id).toBe(t.id);
    expect((await orc.verify()).ok).toBe(true);
  });

  it.each(JS_IDENTS)('a stale task held by the unregistered agent %j is requeued', async (name) => {
    const repo = makeRepo();
    let now = Date.now();
    const orc = openOrchestrator({ repo, clock: () => now });
    await orc.createWorkstream('w');
    const t = await orc.addTask('w', { title: 'a task' });
    await orc.claimTask('w', t.id, name);
    now += 10 * 60_000;
    expect((await orc.requeue('w', { stale: true, staleMs: 60_000 })).map((x) => x.id)).toEqual([t.id]);
  });

  it('event data keeps keys named like object members and refuses "__proto__" at any depth', async () => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo });
    const e = await orc.logEvent('alice', 'x', JSON.parse('{"constructor": 1, "toString": "s", "hasOwnProperty": [1], "nested": {"valueOf": 2}}'));
    expect(e).toMatchObject({ constructor: 1, toString: 's', hasOwnProperty: [1], nested: { valueOf: 2 } });
    expect((await orc.getEvents({ last: 1 }))[0]).toEqual(e);
    const tip = git(repo, 'rev-parse', 'orchestrator');
    for (const json of ['{"__proto__": {"polluted": true}}', '{"a": {"__proto__": 1}}', '{"a": [{"b": {"__proto__": null}}]}']) {
      const err = await expectCode(orc.logEvent('alice', 'x', JSON.parse(json)), 'INVALID_INPUT');
      expect(err.message).toContain('__proto__');
    }
    expect(git(repo, 'rev-parse', 'orchestrator')).toBe(tip);
    expect((await orc.verify()).ok).toBe(true);
  });

  it.each(['__proto__', 'constructor', 'toString'])('settings key %j is refused', async (key) => {
    const orc = openOrchestrator({ repo: makeRepo() });
    await expectCode(orc.setSettings(JSON.parse(`{"${key}": {"events_per_segment": 2}}`)), 'INVALID_INPUT');
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('knowledge content %j is stored and replayed exactly', async (content) => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo });
    await orc.writeKnowledge('notes', content);
    expect(await orc.readKnowledge('notes')).toBe(content);
    expect(await orc.verify()).toMatchObject({ ok: true, checked: 1 });
  });

  it('a forced import removes topics and locks named like object members', async () => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo, agent: 'alice' });
    await orc.writeKnowledge('constructor', 'old');
    await orc.lock('toString', 'alice', { ttlMs: 600_000 });
    await orc.lock('__proto__', 'alice', { ttlMs: 600_000 });
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ version: 1, workstreams: {}, agents: {} }));
    await orc.importSeed(dir, { force: true });
    expect(await orc.listKnowledge()).toEqual([]);
    expect(await orc.listLocks()).toEqual([]);
    expect(git(repo, 'ls-tree', '--name-only', 'orchestrator')).not.toMatch(/locks|knowledge/);
  });
});

describe('names like object members through the CLI', () => {
  it.each(['__proto__', 'constructor', 'toString'])('lock %j: acquire, list, renew, release', (name) => {
    const repo = makeRepo();
    const run = (...args: string[]) => cli(args, { cwd: repo });
    const a = run('lock', 'acquire', name, 'alice', '--ttl', '600000');
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toContain(`Lock acquired: ${name}`);
    expect(run('lock', 'list').stdout).toContain(`${name}: held by alice`);
    const held = run('lock', 'acquire', name, 'bob');
    expect(held.code).toBe(4);
    expect(held.stderr).toContain(`lock "${name}" is held by alice`);
    expect(run('lock', 'renew', name, 'alice').code).toBe(0);
    const r = run('lock', 'release', name, 'alice');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Lock released: ${name}`);
    expect(run('lock', 'list').stdout.trim()).toBe('(none)');
  });

  it('`lock release toString x --force` on a lock nobody holds is NOT_FOUND and commits nothing', () => {
    const repo = makeRepo();
    expect(cli(['ws', 'create', 'w'], { cwd: repo }).code).toBe(0);
    const tip = git(repo, 'rev-parse', 'orchestrator');
    for (const name of ['toString', 'constructor', '__proto__']) {
      const r = cli(['lock', 'release', name, 'x', '--force'], { cwd: repo });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('is not held by anyone');
    }
    expect(git(repo, 'rev-parse', 'orchestrator')).toBe(tip);
  });

  it('`events add` refuses a "__proto__" key (exit 2) and keeps "constructor"', () => {
    const repo = makeRepo();
    const bad = cli(['events', 'add', 'deploy', '{"__proto__": {"x": 1}}'], { cwd: repo });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('__proto__');
    const ok = cli(['--json', 'events', 'add', 'deploy', '{"constructor": "c"}'], { cwd: repo });
    expect(ok.code).toBe(0);
    expect(ok.json).toMatchObject({ action: 'deploy', constructor: 'c' });
  });
});
