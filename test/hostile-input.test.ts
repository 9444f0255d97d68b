/**
 * Hostile names and content: names that are also JavaScript's own
 * (`__proto__`, `constructor`, `toString`, ...) work as any other name or
 * are refused clearly; binary content and characters that reorder or break
 * a line are refused in new input and neutralised wherever text is shown.
 * Through the library and the real CLI.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { agentList, eventLine, lockList, taskLine, workstreamList } from '../src/cli/format.js';
import { statusText, type StatusView } from '../src/domain/queries.js';
import { cli } from './helpers/cli.js';
import { GIT_ENV, cleanup, git, makeRepo, tempDir } from './helpers/repos.js';

afterAll(cleanup);

const execGit = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: GIT_ENV }).toString('binary');

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

/** Characters that reorder or break a line where a one-line field is shown. */
const LINE_BREAKERS: Array<[string, string]> = [
  ['right-to-left override', '\u202e'],
  ['left-to-right embedding', '\u202a'],
  ['pop directional formatting', '\u202c'],
  ['first strong isolate', '\u2068'],
  ['pop directional isolate', '\u2069'],
  ['left-to-right mark', '\u200e'],
  ['right-to-left mark', '\u200f'],
  ['Arabic letter mark', '\u061c'],
  ['line separator', '\u2028'],
  ['paragraph separator', '\u2029'],
  ['newline', '\n'],
  ['next line (C1)', '\u0085'],
  ['escape', '\u001b'],
];

describe('one-line fields refuse characters that reorder or break the line', () => {
  it.each(LINE_BREAKERS)('%s in a title, an estimate or a resource is INVALID_INPUT', async (_name, ch) => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo, agent: 'alice' });
    await orc.createWorkstream('w');
    const t = await orc.addTask('w', { title: 'fine' });
    const tip = git(repo, 'rev-parse', 'orchestrator');
    await expectCode(orc.addTask('w', { title: `pay ${ch}gnp.exe` }), 'INVALID_INPUT');
    await expectCode(orc.addTask('w', { title: 'ok', estimate: `2${ch}h` }), 'INVALID_INPUT');
    await expectCode(orc.lock(`db${ch}1`, 'alice'), 'INVALID_INPUT');
    expect(git(repo, 'rev-parse', 'orchestrator')).toBe(tip);
    expect((await orc.getTask(t.id)).title).toBe('fine');
  });

  it('right-to-left text itself is welcome in titles, descriptions and knowledge', async () => {
    const orc = openOrchestrator({ repo: makeRepo() });
    await orc.createWorkstream('w', { description: 'שלום\u200f עולם' });
    const t = await orc.addTask('w', { title: 'تحديث قاعدة البيانات', description: 'نص\u200f\nسطر ثان' });
    expect((await orc.getTask(t.id)).description).toBe('نص\u200f\nسطر ثان');
    await orc.writeKnowledge('rtl', 'مرحبا\u200f\n');
    expect(await orc.readKnowledge('rtl')).toBe('مرحبا\u200f\n');
  });

  it('the CLI refuses a title with a right-to-left override (exit 2)', () => {
    const repo = makeRepo();
    expect(cli(['ws', 'create', 'w'], { cwd: repo }).code).toBe(0);
    const r = cli(['t', 'add', 'w', 'invoice \u202efdp.exe'], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bidirectional');
    expect(cli(['--json', 't', 'ls', 'w'], { cwd: repo }).json).toEqual([]);
  });
});

describe('knowledge is text', () => {
  it.each([
    ['NUL', 'a\u0000b'],
    ['escape sequence', 'see \u001b[31mred\u001b[0m'],
    ['backspace', 'x\u0008'],
  ])('content with %s is INVALID_INPUT', async (_name, content) => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo });
    await expectCode(orc.writeKnowledge('notes', content), 'INVALID_INPUT');
    expect(await orc.listKnowledge()).toEqual([]);
  });

  it('keeps tabs, form feeds, CRLF and a byte-order mark exactly', async () => {
    const orc = openOrchestrator({ repo: makeRepo() });
    const content = '\ufeff# T\r\n\tindented\f\r\n';
    await orc.writeKnowledge('notes', content);
    expect(await orc.readKnowledge('notes')).toBe(content);
    expect((await orc.verify()).ok).toBe(true);
  });

  it('an import refuses knowledge with NUL bytes and writes nothing', async () => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo });
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ version: 1, workstreams: {}, agents: {} }));
    fs.mkdirSync(path.join(dir, 'knowledge'));
    fs.writeFileSync(path.join(dir, 'knowledge', 'logo.md'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x00, 0x0d]));
    await expectCode(orc.importSeed(dir), 'INVALID_INPUT');
    expect(() => git(repo, 'rev-parse', '--verify', '--quiet', 'orchestrator')).toThrow();
  });

  it('`kb write <topic> -` refuses bytes that are not UTF-8 (exit 2) and writes nothing', () => {
    const repo = makeRepo();
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xd8]);
    const r = cli(['kb', 'write', 'logo', '-'], { cwd: repo, input: png });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('standard input is not UTF-8 text');
    expect(cli(['--json', 'kb', 'ls'], { cwd: repo }).json).toEqual([]);
    const latin1 = cli(['kb', 'write', 'notes', '-'], { cwd: repo, input: Buffer.from('caf\xe9\n', 'latin1') });
    expect(latin1.code).toBe(2);
  });

  it('`kb write <topic> -` stores UTF-8 text byte for byte, a byte-order mark included', () => {
    const repo = makeRepo();
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('# Café ☕\n\tdone\n')]);
    expect(cli(['kb', 'write', 'notes', '-'], { cwd: repo, input: bytes }).code).toBe(0);
    expect(Buffer.from(execGit(repo, 'show', 'orchestrator:knowledge/notes.md'), 'binary').equals(bytes)).toBe(true);
  });
});

describe('stored text is shown on its own line, in its own order', () => {
  // Values as an import or an older version may have stored them.
  const evil = 'a\u202eb\u2028c\nd\u0085e\u001b[2Jf\u2066g';
  const clean = (s: string) => expect(s).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
  const task = { id: 'abc', title: evil, description: evil, status: 'pending' as const, priority: 1, estimate: evil, assigned_to: evil, created_at: '', updated_at: '', result: evil, depends_on: [evil], workstream: evil };

  it.each([
    ['taskLine', () => taskLine(task)],
    ['workstreamList', () => workstreamList([{ name: evil, description: evil, priority: 1, status: 'active', tasks: [], created_at: '', task_count: 0, pending: 0, in_progress: 0, done: 0, failed: 0, archived: 0 }])],
    ['agentList', () => agentList([{ id: evil, type: evil, status: evil, capabilities: [evil], registered_at: '', last_seen: new Date().toISOString(), stale: false }], Date.now())],
    ['lockList', () => lockList([{ resource: evil, agent: evil, acquired_at: '', ttl_ms: 1, expires_at: evil }], Date.now())],
    ['eventLine', () => eventLine({ ts: evil, agent: evil, action: evil, [evil]: evil, nested: { k: evil } })],
  ])('%s', (_name, show) => {
    const text = show();
    clean(text);
    expect(text.split('\n').length).toBe(_name === 'workstreamList' ? 2 : 1);
    expect(text).toContain('a\\u202eb\\u2028c\\nd\\u0085e\\u001b[2Jf\\u2066g');
  });

  it('statusText', () => {
    const view: StatusView = {
      version: 1,
      updated_at: '2026-01-01T00:00:00.000Z',
      commit: '0'.repeat(40),
      branch: 'orchestrator',
      workstreams: [{ name: evil, description: '', priority: 1, status: 'active', tasks: [], created_at: '', task_count: 0, pending: 0, in_progress: 0, done: 0, failed: 0, archived: 0 }],
      agents: [{ id: evil, type: evil, status: evil, capabilities: [], registered_at: '', last_seen: '', stale: false }],
      active_locks: [{ resource: evil, agent: evil, acquired_at: '', ttl_ms: 1, expires_at: '2026-01-01T00:00:00.000Z' }],
      recent_events: [{ ts: '2026-01-01T00:00:00.000Z', agent: evil, action: evil }],
      knowledge_topics: [evil],
    };
    const text = statusText(view);
    clean(text);
    const empty = statusText({ ...view, workstreams: [], agents: [], active_locks: [], recent_events: [], knowledge_topics: [] });
    expect(text.split('\n').length).toBe(empty.split('\n').length);
  });

  it('event data with line breaks and overrides shows on one line in `events`', () => {
    const repo = makeRepo();
    expect(cli(['events', 'add', 'note', JSON.stringify({ text: 'one\ntwo\u202ethree\u2028four' })], { cwd: repo, env: { ORCHESTRATOR_AGENT: 'alice' } }).code).toBe(0);
    const list = cli(['events', '--last', '1'], { cwd: repo });
    expect(list.stdout.trim().split('\n')).toHaveLength(1);
    expect(list.stdout).toContain('text=one\\ntwo\\u202ethree\\u2028four');
    expect(cli(['--json', 'events', '--last', '1'], { cwd: repo }).json[0].text).toBe('one\ntwo\u202ethree\u2028four');
  });
});

describe('deeply nested event data', () => {
  const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

  it('is refused with INVALID_INPUT past 100 levels, through the library and the CLI (exit 2)', async () => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo });
    await orc.logEvent('alice', 'deep', JSON.parse(nested(100)));
    await expectCode(Promise.resolve().then(() => orc.logEvent('alice', 'deeper', JSON.parse(nested(101)))), 'INVALID_INPUT');
    const r = cli(['events', 'add', 'x', nested(5000)], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nests deeper than 100 levels');
    expect((await orc.getEvents()).map((e) => e.action)).toEqual(['deep']);
    expect((await orc.verify()).ok).toBe(true);
  });
});
