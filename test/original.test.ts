/**
 * The original program and this one, side by side: the original's quick
 * start and runner commands run verbatim against both (the original's
 * `node cli.js` and `node runner.js` against `orchestrator` and
 * `orchestrator-runner`), then the same REST requests against both servers
 * (`node server.js` and `orchestrator-server`, each told its port by PORT).
 * JSON answers are compared by shape: every field the original gives, this
 * program gives with the same type (it may add fields). Statuses must be
 * equal except where the README lists a difference.
 *
 * The original is never part of this repository. Its directory is
 * ORIGINAL_ORCHESTRATOR_DIR, else a `shared/seed/original` directory beside
 * one of this repository's parents; without it these tests are skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, GIT_ENV, makeRepo, tempDir } from './helpers/repos.js';

afterAll(cleanup);

const ROOT = path.resolve(__dirname, '..');

function findOriginal(): string | null {
  const named = process.env.ORIGINAL_ORCHESTRATOR_DIR;
  if (named) return fs.existsSync(path.join(named, 'orchestrator.js')) ? named : null;
  for (let dir = path.dirname(ROOT); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'seed', 'original');
    if (fs.existsSync(path.join(candidate, 'orchestrator.js'))) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

const ORIGINAL = findOriginal();
const SKIP = ORIGINAL ? '' : ' (skipped: the original program is not on this machine; set ORIGINAL_ORCHESTRATOR_DIR to its directory to run these)';

/** Env for both programs: a fixed git identity, no ORCHESTRATOR_* of the caller. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...GIT_ENV, ...extra };
  for (const k of Object.keys(e)) if (k.startsWith('ORCHESTRATOR_') && !(k in extra)) delete e[k];
  return e;
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** One side: how to run the original's `node <script> ...args` on it. */
interface Side {
  name: string;
  run(script: 'cli.js' | 'runner.js', args: string[]): Ran;
}

function original(dataDir: string): Side {
  return {
    name: 'original',
    run: (script, args) => {
      const r = spawnSync(process.execPath, [path.join(ORIGINAL!, script), ...args], { cwd: dataDir, env: env({ ORCHESTRATOR_DIR: dataDir }), encoding: 'utf8' });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

function ours(repo: string): Side {
  const bins = { 'cli.js': 'orchestrator.js', 'runner.js': 'orchestrator-runner.js' };
  return {
    name: 'ours',
    run: (script, args) => {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', bins[script]), ...args], { cwd: repo, env: env(), encoding: 'utf8' });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

type Shape = string | { [key: string]: Shape } | Shape[] | { oneOf: Shape[] };

/** The type of a JSON value: object keys with their shapes, arrays by the shapes of their elements. */
function shapeOf(v: unknown): Shape {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.map(shapeOf);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, shapeOf(x)]));
  return typeof v;
}

/**
 * Where `mine` fails to give what `theirs` gives, as paths: a missing field,
 * or a value of another type. A null on either side matches any type (a task
 * that is null in one run and an object in the other); each element of an
 * array of theirs must match one element of ours.
 */
function missing(mine: Shape, theirs: Shape, at = '$'): string[] {
  if (theirs === 'null' || mine === 'null') return [];
  if (Array.isArray(theirs)) {
    if (!Array.isArray(mine)) return [`${at}: an array in the original, ${JSON.stringify(mine).slice(0, 40)} here`];
    // Every element of theirs must match some element of mine (lists like the event log mix kinds).
    const out: string[] = [];
    for (const t of theirs) {
      const tries = mine.map((m) => missing(m, t, `${at}[]`));
      if (!tries.length || tries.some((x) => !x.length)) continue;
      out.push(...tries.sort((x, y) => x.length - y.length)[0]);
    }
    return [...new Set(out)];
  }
  if (typeof theirs === 'object') {
    if (typeof mine !== 'object' || Array.isArray(mine)) return [`${at}: an object in the original, ${JSON.stringify(mine).slice(0, 40)} here`];
    const out: string[] = [];
    for (const [k, t] of Object.entries(theirs)) {
      if (!(k in mine)) out.push(`${at}.${k}: missing`);
      else out.push(...missing((mine as Record<string, Shape>)[k], t, `${at}.${k}`));
    }
    return out;
  }
  return mine === theirs ? [] : [`${at}: ${theirs} in the original, ${JSON.stringify(mine)} here`];
}

function expectSameShape(mine: unknown, theirs: unknown, what: string): void {
  expect({ what, missing: missing(shapeOf(mine), shapeOf(theirs)) }).toEqual({ what, missing: [] });
}

/** Ids and times differ between the programs; the words around them must not. */
const mask = (s: string) => s.replace(/\b[0-9a-f]{8}\b/g, '<id>').replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>');

// The original's README quick start, as written (`npx orchestrator` is its cli.js).
const QUICK_START: string[][] = [
  ['status'],
  ['ws', 'create', 'revenue', 'Revenue generation', '1'],
  ['ws', 'create', 'product', 'Product development', '2'],
  ['t', 'add', 'revenue', 'Add payments to API', 'Integrate USDC', '1'],
  ['t', 'add', 'product', 'Write tests', 'Unit and integration', '3'],
  ['a', 'register', 'agent-1', 'worker'],
  ['t', 'next', 'revenue', 'agent-1'],
  ['t', 'complete', 'revenue', 'Done: integrated payments'],
  ['kb', 'write', 'api-design', 'Use REST for external, events for internal'],
  ['kb', 'read', 'api-design'],
];

// Where the README says the two differ (each with its reason there).
const QUICK_START_DIFFERENCES: Record<string, { code: [number, number] }> = {
  // The original takes "Done: ..." for a task id and exits 1 (task not found); here one argument that is no id is the result.
  't complete revenue Done: integrated payments': { code: [1, 0] },
};

describe(`the original's quick start and runner, verbatim, against both programs${SKIP}`, () => {
  it.skipIf(!ORIGINAL)('gives the same answers, and the runner the same JSON shapes and markdown layout', () => {
    const data = tempDir('orc-original-');
    const sides = [original(data), ours(makeRepo())];
    for (const args of QUICK_START) {
      const [a, b] = sides.map((s) => s.run('cli.js', args));
      const diff = QUICK_START_DIFFERENCES[args.join(' ')];
      expect({ args, codes: [a.code, b.code] }).toEqual({ args, codes: diff?.code ?? [0, 0] });
      if (diff) continue;
      if (args[0] === 'status') expect(b.stdout).toMatch(/^=== (OpSpawn )?Orchestrator Status ===/);
      // The original shows its knowledge header (<!-- Updated by ... -->); this program the content as written.
      else if (args[0] === 'kb' && args[1] === 'read') expect(a.stdout).toContain(b.stdout.trim());
      else expect({ args, out: mask(b.stdout) }).toEqual({ args, out: mask(a.stdout) });
    }
    // The runner: plan, brief and collect with their one-letter aliases; usage for anything else.
    const runner = (args: string[]) => sides.map((s) => s.run('runner.js', args));
    for (const cmd of ['plan', 'p']) {
      const [a, b] = runner([cmd]);
      expect([a.code, b.code]).toEqual([0, 0]);
      const [pa, pb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
      expectSameShape(pb, pa, `runner ${cmd}`);
      expect(pb.workstreams.map((w: { name: string }) => w.name)).toEqual(['product']);
      expect(pb.recommended_parallel.map((r: { workstream: string }) => r.workstream)).toEqual(pa.recommended_parallel.map((r: { workstream: string }) => r.workstream));
      expect(pb.recommended_parallel[0].brief.split('\n')[0]).toBe(pa.recommended_parallel[0].brief.split('\n')[0]);
    }
    for (const cmd of ['brief', 'b']) {
      const [a, b] = runner([cmd, 'product']);
      expect([a.code, b.code]).toEqual([0, 0]);
      const fields = (s: string) => s.split('\n').filter((l) => /^(## |\*\*\w[\w ]*\*\*: |### )/.test(l)).map((l) => l.replace(/: .*/, ':'));
      // Every heading and field of the original's brief, in the same order (ours adds its own).
      const mine = fields(b.stdout);
      let i = 0;
      for (const line of fields(a.stdout)) {
        i = mine.indexOf(line, i);
        expect({ line, found: i >= 0 }).toEqual({ line, found: true });
      }
      expect(b.stdout).toContain('t complete product');
      expect(b.stdout).toContain('kb write <topic> "<content>"');
    }
    for (const cmd of ['collect', 'c']) {
      const [a, b] = runner([cmd]);
      expect([a.code, b.code]).toEqual([0, 0]);
      expectSameShape(JSON.parse(b.stdout), JSON.parse(a.stdout), `runner ${cmd}`);
    }
    const [ua, ub] = runner([]);
    expect([ua.code, ub.code]).toEqual([0, 0]);
    expect(ub.stdout).toMatch(/plan[\s\S]*brief <ws>[\s\S]*collect/);
    // brief of a workstream with nothing pending: the original's words.
    sides.forEach((s) => s.run('cli.js', ['ws', 'create', 'empty']));
    const [ea, eb] = runner(['brief', 'empty']);
    expect([ea.code, eb.code, eb.stdout]).toEqual([0, 0, ea.stdout]);
  });

  it.skipIf(!ORIGINAL)('gives the same collect and plan shapes once tasks are done', () => {
    const data = tempDir('orc-original-');
    const sides = [original(data), ours(makeRepo())];
    for (const s of sides) {
      for (const args of QUICK_START.slice(1, 7)) expect(s.run('cli.js', args).code).toBe(0);
      const id = /\[in_progress\] ([0-9a-f]{8})/.exec(s.run('cli.js', ['t', 'list', 'revenue']).stdout)![1];
      expect(s.run('cli.js', ['t', 'complete', 'revenue', id, 'Done: integrated payments']).code).toBe(0);
    }
    const [a, b] = sides.map((s) => JSON.parse(s.run('runner.js', ['collect']).stdout));
    expectSameShape(b, a, 'collect');
    expect(b.completed_this_cycle.map((t: { title: string; result: string }) => [t.title, t.result])).toEqual(a.completed_this_cycle.map((t: { title: string; result: string }) => [t.title, t.result]));
    expect(b.knowledge_updates).toEqual(a.knowledge_updates);
    const [pa, pb] = sides.map((s) => JSON.parse(s.run('runner.js', ['plan']).stdout));
    expectSameShape(pb, pa, 'plan');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function startServer(argv: string[], cwd: string, extra: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, argv, { cwd, env: env({ ...extra, PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (c) => (log += c));
  child.stderr!.on('data', (c) => (log += c));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/api/status`)).ok) return { url, child };
    } catch {
      /* not listening yet */
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error(`server ${argv.join(' ')} did not start: ${log}`);
}

interface Answer {
  status: number;
  body: unknown;
}

async function request(url: string, method: string, p: string, body?: unknown): Promise<Answer> {
  const res = await fetch(url + p, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* text */
  }
  return { status: res.status, body: parsed };
}

describe(`the original's REST API, against both servers${SKIP}`, () => {
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((c) => c.kill()));

  it.skipIf(!ORIGINAL)('answers every request the original answered with its status and body shape, except the differences the README lists', async () => {
    const data = tempDir('orc-original-');
    const repo = makeRepo();
    const theirs = await startServer([path.join(ORIGINAL!, 'server.js')], data, { ORCHESTRATOR_DIR: data });
    const mine = await startServer([path.join(ROOT, 'bin', 'orchestrator-server.js')], repo, {});
    children.push(theirs.child, mine.child);
    // Ids differ: `:task` is the id of the task the last answer of each server named.
    const last: Record<string, string> = {};
    // [method, path, body, the statuses where the README lists a difference: [original, ours]]
    const steps: Array<[string, string, unknown?, [number, number]?]> = [
      ['GET', '/api/status'],
      ['GET', '/api/status/text'],
      ['POST', '/api/workstreams', { name: 'revenue', description: 'Revenue generation', priority: 1 }],
      ['POST', '/api/workstreams', {}],
      ['POST', '/api/workstreams', { name: 'revenue' }, [500, 409]],
      ['GET', '/api/workstreams'],
      ['POST', '/api/workstreams/revenue/tasks', { title: 'Add payments to API', description: 'Integrate USDC', priority: 1, estimate: '2h' }],
      ['POST', '/api/workstreams/revenue/tasks', {}],
      ['POST', '/api/workstreams/nowhere/tasks', { title: 'x' }, [500, 404]],
      ['GET', '/api/workstreams/revenue/tasks'],
      ['GET', '/api/workstreams/nowhere/tasks'],
      ['POST', '/api/agents', { id: 'agent-1', type: 'worker', capabilities: ['payments'] }],
      ['POST', '/api/agents', {}],
      ['GET', '/api/agents'],
      ['POST', '/api/agents/agent-1/heartbeat'],
      ['POST', '/api/agents/ghost/heartbeat'],
      ['POST', '/api/workstreams/revenue/next', {}],
      ['POST', '/api/workstreams/revenue/next', { agent: 'agent-1' }],
      ['POST', '/api/workstreams/revenue/next', { agent: 'agent-1' }],
      ['POST', '/api/workstreams/revenue/tasks/:task/claim', {}],
      ['POST', '/api/workstreams/revenue/tasks/:task/claim', { agent: 'agent-2' }, [500, 409]],
      ['POST', '/api/workstreams/revenue/tasks/:task/complete', { result: 'integrated' }],
      ['POST', '/api/workstreams/revenue/tasks/:task/complete', { result: 'again' }, [200, 409]],
      ['POST', '/api/workstreams/revenue/tasks/deadbeef/complete', { result: 'x' }, [500, 404]],
      ['POST', '/api/workstreams/revenue/tasks', { title: 'Second' }],
      ['POST', '/api/workstreams/revenue/tasks/:task/claim', { agent: 'agent-1' }],
      ['GET', '/api/events'],
      ['GET', '/api/events?agent=agent-1&last=2'],
      ['GET', '/api/events?action=task_claimed'],
      ['GET', '/api/knowledge'],
      ['PUT', '/api/knowledge/api-design', { content: 'Use REST for external, events for internal' }],
      ['PUT', '/api/knowledge/api-design', {}],
      ['GET', '/api/knowledge'],
      ['GET', '/api/knowledge/api-design'],
      ['GET', '/api/knowledge/missing'],
      ['DELETE', '/api/knowledge/api-design'],
      ['DELETE', '/api/knowledge/api-design'],
      ['POST', '/api/locks', { resource: 'db', agent: 'agent-1', ttl: 60000 }],
      ['POST', '/api/locks', { resource: 'db', agent: 'agent-2' }],
      ['POST', '/api/locks', {}],
      ['GET', '/api/locks'],
      ['DELETE', '/api/locks/db', {}],
      ['DELETE', '/api/locks/db', { agent: 'agent-2' }],
      ['DELETE', '/api/locks/db', { agent: 'agent-1' }],
      ['DELETE', '/api/locks/never-held', { agent: 'agent-1' }],
      ['GET', '/api/status'],
      ['GET', '/api/nothing-here'],
      ['GET', '/'],
      ['GET', '/favicon.ico'],
    ];
    for (const [method, p, body, differs] of steps) {
      const answers: Answer[] = [];
      for (const [name, server] of [['theirs', theirs], ['mine', mine]] as const) {
        const a = await request(server.url, method, p.replace(':task', last[name] ?? 'none'), body);
        const named = a.body && typeof a.body === 'object' && 'id' in a.body && typeof (a.body as { id: unknown }).id === 'string' ? (a.body as { id: string }).id : undefined;
        if (named && /^[0-9a-f]{8}$/.test(named)) last[name] = named;
        answers.push(a);
      }
      const [a, b] = answers;
      const label = `${method} ${p} ${body === undefined ? '' : JSON.stringify(body)}`;
      expect({ label, status: b.status }).toEqual({ label, status: differs ? differs[1] : a.status });
      expect({ label, status: a.status }).toEqual({ label, status: differs ? differs[0] : a.status });
      if (differs || typeof a.body !== 'object' || a.body === null) continue;
      expectSameShape(b.body, a.body, label);
    }
    // Differences for security (the README lists them): no wildcard CORS, and writes need a JSON body.
    const preflight = await fetch(`${theirs.url}/api/status`, { method: 'OPTIONS' });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    const minePreflight = await fetch(`${mine.url}/api/status`, { method: 'OPTIONS' });
    expect(minePreflight.headers.get('access-control-allow-origin')).toBeNull();
    const form = (url: string) => fetch(`${url}/api/workstreams`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ name: 'sneaky' }) });
    expect((await form(theirs.url)).status).toBe(201);
    expect((await form(mine.url)).status).toBe(415);
  });
});
