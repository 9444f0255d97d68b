import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer, type ServeOptions } from '../src/server/app.js';
import { cli, cliAsync } from './helpers/cli.js';
import { DECLARATIONS } from '../src/api/ops/index.js';
import { cleanup, git, makeCluster, makeRepo } from './helpers/repos.js';

afterAll(cleanup);

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

/** A raw HTTP request (no fetch: Host and Origin headers must be settable). */
function request(base: string, method: string, path: string, opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  const url = new URL(path, base);
  const payload = opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined);
  const headers: Record<string, string> = {
    ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
    ...opts.headers,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

async function start(repo: string, opts: Partial<ServeOptions> = {}): Promise<RunningServer> {
  return serve({ port: 0, fetchInterval: 0, open: { repo }, ...opts });
}

describe('REST API', () => {
  let repo: string;
  let srv: RunningServer;
  let base: string;
  const call = (method: string, path: string, opts: Parameters<typeof request>[3] = {}) => request(base, method, path, opts);

  beforeAll(async () => {
    repo = makeRepo();
    srv = await start(repo);
    base = srv.url;
  });
  afterAll(() => srv.close());

  it('serves every endpoint of the original with its shapes', async () => {
    expect((await call('POST', '/api/workstreams', { body: { name: 'revenue', description: 'Revenue', priority: 1 } })).status).toBe(201);
    const list = await call('GET', '/api/workstreams');
    expect(list.json).toEqual([expect.objectContaining({ name: 'revenue', priority: 1, pending: 0, task_count: 0 })]);

    const add = await call('POST', '/api/workstreams/revenue/tasks', { body: { title: 'Add payments', description: 'USDC', priority: 1, estimate: '2h' } });
    expect(add.status).toBe(201);
    expect(add.json).toMatchObject({ title: 'Add payments', status: 'pending', estimate: '2h', id: expect.stringMatching(/^[0-9a-f]{8}$/) });
    const second = (await call('POST', '/api/workstreams/revenue/tasks', { body: { title: 'Second' } })).json;
    expect((await call('GET', '/api/workstreams/revenue/tasks')).json).toHaveLength(2);

    expect((await call('POST', `/api/workstreams/revenue/tasks/${add.json.id}/claim`, { body: { agent: 'agent-1' } })).json).toMatchObject({ status: 'in_progress', assigned_to: 'agent-1' });
    expect((await call('POST', `/api/workstreams/revenue/tasks/${add.json.id}/complete`, { body: { result: 'shipped' } })).json).toMatchObject({ status: 'done', result: 'shipped' });
    expect((await call('POST', '/api/workstreams/revenue/next', { body: { agent: 'agent-2' } })).json).toMatchObject({ id: second.id, assigned_to: 'agent-2' });
    expect((await call('POST', '/api/workstreams/revenue/next', { body: { agent: 'agent-2' } })).json).toEqual({ message: 'No pending tasks' });

    expect((await call('POST', '/api/agents', { body: { id: 'agent-1', type: 'worker', capabilities: ['ts'] } })).status).toBe(201);
    expect((await call('POST', '/api/agents/agent-1/heartbeat')).json).toMatchObject({ ok: true });
    expect((await call('GET', '/api/agents')).json).toEqual([expect.objectContaining({ id: 'agent-1', type: 'worker', capabilities: ['ts'], stale: false })]);

    expect((await call('PUT', '/api/knowledge/api-design', { body: { content: '# REST\n' } })).json).toMatchObject({ ok: true });
    expect((await call('GET', '/api/knowledge')).json).toEqual(['api-design']);
    expect((await call('GET', '/api/knowledge/api-design')).json).toEqual({ topic: 'api-design', content: '# REST\n' });
    expect((await call('DELETE', '/api/knowledge/api-design')).json).toEqual({ ok: true });
    expect((await call('GET', '/api/knowledge/api-design')).status).toBe(404);

    expect((await call('POST', '/api/locks', { body: { resource: 'db', agent: 'agent-1', ttl: 60000 } })).json).toMatchObject({ acquired: true, resource: 'db', agent: 'agent-1' });
    expect((await call('GET', '/api/locks')).json).toEqual([expect.objectContaining({ resource: 'db', agent: 'agent-1' })]);
    const held = await call('POST', '/api/locks', { body: { resource: 'db', agent: 'agent-2' } });
    expect(held.status).toBe(409);
    expect(held.json).toMatchObject({ acquired: false, code: 'LOCK_HELD', holder: 'agent-1', expires_at: expect.any(String) });
    expect((await call('DELETE', '/api/locks/db', { body: { agent: 'agent-1' } })).json).toMatchObject({ released: true });

    const events = (await call('GET', '/api/events?agent=agent-1&last=2')).json;
    expect(events.map((e: { action: string }) => e.action)).toEqual(['lock_acquired', 'lock_released']);
    expect((await call('GET', '/api/events?action=task_created')).json).toHaveLength(2);

    const status = (await call('GET', '/api/status')).json;
    expect(status).toMatchObject({ version: expect.any(Number), commit: git(repo, 'rev-parse', 'orchestrator'), knowledge_topics: [] });
    expect(status.recent_events).toHaveLength(10);
    const text = await call('GET', '/api/status/text');
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.text).toContain('[P1] revenue: 0 pending, 1 active, 1 done');

    const log = (await call('GET', '/api/log?last=3')).json;
    expect(log).toHaveLength(3);
    expect(log[0]).toMatchObject({ id: status.commit, agent: 'agent-1', subject: 'lock release "db" by agent-1', op: expect.objectContaining({ op: 'lock.release' }) });
    expect((await call('GET', '/api/log?agent=agent-2')).json.every((e: { agent: string }) => e.agent === 'agent-2')).toBe(true);
  });

  it.each([
    ['missing name', 'POST', '/api/workstreams', { body: { description: 'x' } }, 400, 'INVALID_INPUT'],
    ['bad name', 'POST', '/api/workstreams', { body: { name: 'a/b' } }, 400, 'INVALID_INPUT'],
    ['bad priority', 'POST', '/api/workstreams', { body: { name: 'p', priority: 'high' } }, 400, 'INVALID_INPUT'],
    ['malformed JSON', 'POST', '/api/workstreams', { raw: '{"name": ' }, 400, 'INVALID_INPUT'],
    ['a JSON array body', 'POST', '/api/workstreams', { raw: '[1,2]' }, 400, 'INVALID_INPUT'],
    ['a body that is not JSON', 'POST', '/api/workstreams', { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['unknown workstream', 'GET', '/api/workstreams/nope/tasks', {}, 404, 'NOT_FOUND'],
    ['unknown task', 'POST', '/api/workstreams/revenue/tasks/deadbeef/claim', { body: { agent: 'a' } }, 404, 'NOT_FOUND'],
    ['claim without agent', 'POST', '/api/workstreams/revenue/tasks/deadbeef/claim', { body: {} }, 400, 'INVALID_INPUT'],
    ['existing workstream', 'POST', '/api/workstreams', { body: { name: 'revenue' } }, 409, 'CONFLICT'],
    ['topic ../x', 'PUT', '/api/knowledge/..%2Fx', { body: { content: 'c' } }, 400, 'INVALID_INPUT'],
    ['unknown endpoint', 'GET', '/api/nothing', {}, 404, 'NOT_FOUND'],
    ['negative ttl', 'POST', '/api/locks', { body: { resource: 'r', agent: 'a', ttl: -1 } }, 400, 'INVALID_INPUT'],
    ['a path that is not valid percent-encoding', 'GET', '/api/knowledge/%E0%A4%A', {}, 400, 'INVALID_INPUT'],
    ['a bad percent-encoding in a write', 'PUT', '/api/knowledge/%ZZ', { body: { content: 'c' } }, 400, 'INVALID_INPUT'],
    ['a gzip body that is not gzip', 'POST', '/api/workstreams', { raw: 'garbage', headers: { 'content-encoding': 'gzip' } }, 400, 'INVALID_INPUT'],
    ['a brotli body that is not brotli', 'POST', '/api/workstreams', { raw: 'garbage', headers: { 'content-encoding': 'br' } }, 400, 'INVALID_INPUT'],
    ['an unknown content encoding', 'POST', '/api/workstreams', { raw: '{}', headers: { 'content-encoding': 'compress' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an unknown charset', 'POST', '/api/workstreams', { raw: '{}', headers: { 'content-type': 'application/json; charset=klingon' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a stale window under 1 ms', 'POST', '/api/workstreams/revenue/requeue', { body: { stale: true, stale_ms: -1 } }, 400, 'INVALID_INPUT'],
    ['a method the path does not take', 'PATCH', '/api/workstreams', { body: { name: 'p' } }, 405, 'METHOD_NOT_ALLOWED'],
    ['a field the write does not take', 'POST', '/api/workstreams/revenue/tasks', { body: { title: 't', priorty: 1 } }, 400, 'INVALID_INPUT'],
    ['a stored name where the write takes another', 'POST', '/api/workstreams/revenue/tasks', { body: { title: 't', depends_on: [] } }, 400, 'INVALID_INPUT'],
  ] as const)('%s: %s %s -> %i %s', async (_l, method, path, opts, status, code) => {
    const before = git(repo, 'rev-parse', 'orchestrator');
    const r = await call(method, path, opts as Parameters<typeof request>[3]);
    expect(r.status).toBe(status);
    expect(r.json).toMatchObject({ code, error: expect.any(String) });
    expect(git(repo, 'rev-parse', 'orchestrator')).toBe(before);
  });

  it.each([
    ['a heartbeat of an unknown agent', 'POST', '/api/agents/ghost/heartbeat', {}, { ok: true, recorded: false, registered: false }],
    ['releasing a lock nobody holds', 'DELETE', '/api/locks/none', { body: { agent: 'a' } }, { resource: 'none', released: false }],
  ] as const)("answers %s as the original did: 200, nothing recorded", async (_l, method, path, opts, body) => {
    const before = git(repo, 'rev-parse', 'orchestrator');
    const r = await call(method, path, opts as Parameters<typeof request>[3]);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject(body);
    expect(git(repo, 'rev-parse', 'orchestrator')).toBe(before);
  });

  it("answers releasing another agent's lock {released: false} with its holder, and leaves the lock", async () => {
    expect((await call('POST', '/api/locks', { body: { resource: 'kept', agent: 'agent-1' } })).status).toBe(200);
    const r = await call('DELETE', '/api/locks/kept', { body: { agent: 'agent-2' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ resource: 'kept', released: false, holder: 'agent-1' });
    expect((await call('GET', '/api/locks')).json.map((l: { resource: string }) => l.resource)).toContain('kept');
    expect((await call('DELETE', '/api/locks/kept', { body: { agent: 'agent-1' } })).json).toMatchObject({ released: true });
  });

  it("refuses completing another agent's task as an agent unless forced; with no agent named it is recorded as system", async () => {
    await call('POST', '/api/workstreams', { body: { name: 'held' } });
    const t = (await call('POST', '/api/workstreams/held/tasks', { body: { title: 'theirs' } })).json;
    const u = (await call('POST', '/api/workstreams/held/tasks', { body: { title: 'anyone' } })).json;
    await call('POST', `/api/workstreams/held/tasks/${t.id}/claim`, { body: { agent: 'agent-1' } });
    await call('POST', `/api/workstreams/held/tasks/${u.id}/claim`, { body: { agent: 'agent-1' } });
    const refused = await call('POST', `/api/workstreams/held/tasks/${t.id}/complete`, { body: { agent: 'agent-2', result: 'mine' } });
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ code: 'CONFLICT', data: { holder: 'agent-1' } });
    const forced = await call('POST', `/api/workstreams/held/tasks/${t.id}/complete`, { body: { agent: 'agent-2', result: 'mine', force: true } });
    expect(forced.status).toBe(200);
    expect(git(repo, 'log', '-1', '--format=%an %s', 'orchestrator')).toBe(`agent-2 task complete held/${t.id} by agent-2 (forced)`);
    expect((await call('POST', `/api/workstreams/held/tasks/${u.id}/complete`, { body: { result: 'the original body' } })).status).toBe(200);
    expect(git(repo, 'log', '-1', '--format=%an %s', 'orchestrator')).toBe(`system task complete held/${u.id} by system`);
  });

  it('fails and releases a task like claim and complete do, and has a route for every write', async () => {
    await call('POST', '/api/workstreams', { body: { name: 'ops' } });
    const t = (await call('POST', '/api/workstreams/ops/tasks', { body: { title: 'deploy', agent: 'agent-1' } })).json;
    expect((await call('POST', `/api/workstreams/ops/tasks/${t.id}/claim`, { body: { agent: 'agent-3' } })).json).toMatchObject({ status: 'in_progress', assigned_to: 'agent-3' });
    const failed = await call('POST', `/api/workstreams/ops/tasks/${t.id}/fail`, { body: { agent: 'agent-3', reason: 'no network' } });
    expect(failed.status).toBe(200);
    expect(failed.json).toMatchObject({ id: t.id, status: 'failed', result: 'no network' });
    const released = await call('POST', `/api/workstreams/ops/tasks/${t.id}/release`, { body: { agent: 'agent-3' } });
    expect(released.json).toMatchObject({ id: t.id, status: 'pending', assigned_to: null });
    expect((await call('GET', '/api/log?last=1')).json[0]).toMatchObject({ agent: 'agent-3', op: expect.objectContaining({ op: 'task.release' }) });
    expect((await call('POST', `/api/workstreams/ops/tasks/${t.id}/fail`, { body: { agent: 'agent-3' } })).status).toBe(400);
    expect((await call('POST', `/api/workstreams/ops/tasks/deadbeef/release`, { body: { agent: 'agent-3' } })).status).toBe(404);

    expect((await call('GET', '/api/ready?workstream=ops')).json.map((x: { id: string }) => x.id)).toEqual([t.id]);
    expect((await call('GET', '/api/workstreams/ops/brief?agent=agent-3')).json.markdown).toContain('## Agent Brief: deploy');
    await call('POST', `/api/workstreams/ops/tasks/${t.id}/claim`, { body: { agent: 'agent-3' } });
    expect((await call('POST', '/api/workstreams/ops/requeue', { body: { ids: [t.id] } })).json).toEqual([expect.objectContaining({ id: t.id, status: 'pending' })]);
    expect((await call('POST', '/api/events', { body: { agent: 'agent-3', action: 'deployed', data: { v: 2 } } })).json).toMatchObject({ agent: 'agent-3', action: 'deployed', v: 2 });
    await call('POST', '/api/locks', { body: { resource: 'net', agent: 'agent-3', ttl: 1000 } });
    expect((await call('POST', '/api/locks/net/renew', { body: { agent: 'agent-3', ttl: 90000 } })).json).toMatchObject({ resource: 'net', ttl_ms: 90000 });
    expect((await call('POST', '/api/archive', { body: { older_than: '7d' } })).json).toEqual({ archived: 0, files: [] });
    expect((await call('POST', '/api/collect', { body: { record: false } })).json).toMatchObject({ still_in_progress: expect.any(Array) });

    // Only the branch's administration stays off the API.
    const withoutRoute = DECLARATIONS.filter((d) => d.kind === 'write' && !d.rest).map((d) => d.name);
    expect(withoutRoute.sort()).toEqual(['apply', 'import', 'init', 'settings.set', 'sync']);
  });

  it('answers a read from one commit: its header, ETag and body agree while others write', async () => {
    await call('POST', '/api/workstreams', { body: { name: 'busy' } });
    const writer = (async () => {
      for (let i = 0; i < 15; i++) await call('POST', '/api/workstreams/busy/tasks', { body: { title: `t${i}` } });
    })();
    let checked = 0;
    let done = false;
    void writer.then(() => (done = true));
    while (!done) {
      const r = await call('GET', '/api/status');
      expect(r.headers['x-orchestrator-commit']).toBe(r.json.commit);
      checked++;
    }
    await writer;
    expect(checked).toBeGreaterThan(0);
  });

  it('answers a method a path does not take with 405 and the methods it takes, derived from the declarations', async () => {
    const patch = await call('PATCH', '/api/workstreams');
    expect([patch.status, patch.headers.allow, patch.json.code]).toEqual([405, 'GET, HEAD, POST, OPTIONS', 'METHOD_NOT_ALLOWED']);
    expect(patch.json.data.allow).toEqual(['GET', 'HEAD', 'POST', 'OPTIONS']);
    const del = await call('DELETE', '/api/status', { body: {} });
    expect([del.status, del.headers.allow]).toEqual([405, 'GET, HEAD, OPTIONS']);
    // Paths match as the router matches them: any case, a trailing slash.
    expect((await call('PUT', '/API/Status/')).headers.allow).toBe('GET, HEAD, OPTIONS');
    expect((await call('GET', '/api/locks/db/renew')).headers.allow).toBe('POST, OPTIONS');
    // A path no route has stays 404.
    expect((await call('PATCH', '/api/nothing')).status).toBe(404);
    // Every declared binding is in the Allow of its path; OPTIONS answers with it.
    for (const d of DECLARATIONS) {
      for (const b of d.rest === undefined ? [] : Array.isArray(d.rest) ? d.rest : [d.rest]) {
        const r = await call('OPTIONS', '/api' + b.path.replace(/:\w+/g, 'x'));
        expect(r.status, b.path).toBe(204);
        expect(String(r.headers.allow).split(', '), `${b.method} ${b.path}`).toContain(b.method);
      }
    }
    expect((await call('OPTIONS', '/api/stream')).headers.allow).toBe('GET, HEAD, OPTIONS');
    // The dashboard's files are only read.
    const post = await call('POST', '/index.html', { body: {} });
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD, OPTIONS']);
    expect((await call('OPTIONS', '/')).headers.allow).toBe('GET, HEAD, OPTIONS');
  });

  it('answers HEAD with the headers of GET, the stream included', async () => {
    const head = await call('HEAD', '/api/status');
    expect([head.status, head.text]).toEqual([200, '']);
    expect(head.headers['x-orchestrator-commit']).toBe(git(repo, 'rev-parse', 'orchestrator'));
    const stream = await call('HEAD', '/api/stream');
    expect([stream.status, stream.headers['content-type'], stream.text]).toEqual([200, 'text/event-stream; charset=utf-8', '']);
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const r = await call('PUT', '/api/knowledge/big', { raw: JSON.stringify({ content: 'x'.repeat(1100 * 1024) }) });
    expect(r.status).toBe(413);
    expect(r.json.code).toBe('TOO_LARGE');
  });

  it('sends no CORS headers and refuses foreign origins and host names', async () => {
    const r = await call('GET', '/api/status', { headers: { origin: 'https://evil.example' } });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const w = await call('POST', '/api/workstreams', { body: { name: 'csrf' }, headers: { origin: 'https://evil.example' } });
    expect(w.status).toBe(403);
    const rebinding = await call('GET', '/api/status', { headers: { host: 'evil.example:4000' } });
    expect(rebinding.status).toBe(403);
    expect((await call('GET', '/api/workstreams/csrf/tasks')).status).toBe(404);
  });

  it('answers a repeated read with 304 until the tip moves', async () => {
    const first = await call('GET', '/api/status');
    const again = await call('GET', '/api/status', { headers: { 'if-none-match': String(first.headers.etag) } });
    expect(again.status).toBe(304);
    cli(['ws', 'create', 'etag-test'], { cwd: repo });
    await srv.watcher.check();
    const after = await call('GET', '/api/status', { headers: { 'if-none-match': String(first.headers.etag) } });
    expect(after.status).toBe(200);
  });

  it('streams a message for each new commit, including commits by other processes', async () => {
    const messages: string[] = [];
    const req = http.get(new URL('/api/stream', base));
    const got = new Promise<void>((resolve) => {
      req.on('response', (res) => {
        res.on('data', (c: Buffer) => {
          for (const m of c.toString().split('\n\n')) if (m.startsWith('event: commit')) messages.push(m);
          if (messages.length >= 2) resolve();
        });
      });
    });
    await new Promise((r) => setTimeout(r, 200));
    await cliAsync(['t', 'add', 'revenue', 'from the CLI'], { cwd: repo });
    await got;
    req.destroy();
    const tip = git(repo, 'rev-parse', 'orchestrator');
    expect(messages[messages.length - 1]).toContain(tip);
  });

  it('serves the dashboard with a strict content security policy', async () => {
    const r = await call('GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
  });
});

describe('server security options', () => {
  const TOKEN = 'sekrit-token-123';
  const bearer = { authorization: `Bearer ${TOKEN}` };

  /** The first SSE message of the stream, read with the given headers (null: refused, with its status). */
  function firstStreamMessage(base: string, headers: Record<string, string>): Promise<{ status: number; message: string | null }> {
    return new Promise((resolve, reject) => {
      const req = http.get(new URL('/api/stream', base), { headers }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          resolve({ status: res.statusCode ?? 0, message: null });
          return;
        }
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c;
          const m = /event: commit\ndata: .*\n\n/.exec(text);
          if (m) {
            req.destroy();
            resolve({ status: 200, message: m[0] });
          }
        });
      });
      req.on('error', reject);
    });
  }

  it('with a token, every API request needs it: reads, the stream, OPTIONS and HEAD too; health says only that', async () => {
    const repo = makeRepo();
    cli(['ws', 'create', 'w'], { cwd: repo });
    cli(['kb', 'write', 'secret-plan', 'launch codes'], { cwd: repo });
    const srv = await start(repo, { host: '0.0.0.0', token: TOKEN });
    const base = `http://127.0.0.1:${srv.port}/`;
    try {
      // Every declared read, the server's own endpoints, and a few methods that read nothing.
      const paths = ['/api/status', '/api/knowledge', '/api/knowledge/secret-plan', '/api/events', '/api/log', '/api/stream', '/api/nothing'];
      for (const d of DECLARATIONS) for (const b of d.rest === undefined ? [] : Array.isArray(d.rest) ? d.rest : [d.rest]) if (b.method === 'GET') paths.push('/api' + b.path.replace(/:workstream|:name/, 'w').replace(/:\w+/g, 'x'));
      for (const p of paths) {
        for (const method of ['GET', 'HEAD', 'OPTIONS']) {
          const r = await request(base, method, p);
          expect([r.status, r.headers['www-authenticate']], `${method} ${p}`).toEqual([401, 'Bearer']);
          expect(r.text, `${method} ${p}`).not.toContain('launch codes');
        }
        expect((await request(base, 'GET', p, { headers: { authorization: 'Bearer wrong-token-xyz' } })).status, p).toBe(401);
      }
      expect((await firstStreamMessage(base, {})).status).toBe(401);
      expect((await request(base, 'POST', '/api/workstreams', { body: { name: 'x' } })).status).toBe(401);

      // Health tells a page to ask for the token, and nothing else.
      const health = await request(base, 'GET', '/api/health');
      expect(health.json).toEqual({ ok: true, read_only: false, token_required: true, reads_need_token: true });
      expect((await request(base, 'GET', '/api/health', { headers: bearer })).json).toMatchObject({ branch: 'orchestrator', commit: git(repo, 'rev-parse', 'orchestrator'), reads_need_token: true });

      // With the token: reads, the stream, writes.
      expect((await request(base, 'GET', '/api/knowledge/secret-plan', { headers: bearer })).json).toEqual({ topic: 'secret-plan', content: 'launch codes' });
      expect((await request(base, 'OPTIONS', '/api/status', { headers: bearer })).status).toBe(204);
      const stream = await firstStreamMessage(base, bearer);
      expect(stream.message).toContain(git(repo, 'rev-parse', 'orchestrator'));
      expect((await request(base, 'POST', '/api/workstreams', { body: { name: 'x' }, headers: bearer })).status).toBe(201);

      // The dashboard's own files hold no data and load without it.
      for (const file of ['/', '/index.html', '/js/api.js', '/style.css']) expect((await request(base, 'GET', file)).status, file).toBe(200);
    } finally {
      await srv.close();
    }
  });

  it('with a token and public reading, only writes need it', async () => {
    const repo = makeRepo();
    cli(['ws', 'create', 'w'], { cwd: repo });
    const srv = await start(repo, { host: '0.0.0.0', token: TOKEN, publicRead: true });
    const base = `http://127.0.0.1:${srv.port}/`;
    try {
      expect((await request(base, 'GET', '/api/status')).status).toBe(200);
      expect((await firstStreamMessage(base, {})).status).toBe(200);
      expect((await request(base, 'GET', '/api/health')).json).toMatchObject({ branch: 'orchestrator', token_required: true, reads_need_token: false });
      const no = await request(base, 'POST', '/api/workstreams', { body: { name: 'w2' } });
      expect([no.status, no.json.code]).toEqual([401, 'UNAUTHORIZED']);
      expect((await request(base, 'POST', '/api/workstreams', { body: { name: 'w2' }, headers: { authorization: 'Bearer wrong-token-xyz' } })).status).toBe(401);
      expect((await request(base, 'POST', '/api/workstreams', { body: { name: 'w2' }, headers: bearer })).status).toBe(201);
    } finally {
      await srv.close();
    }
  });

  it('answers every write with 405 when read-only', async () => {
    const repo = makeRepo();
    cli(['ws', 'create', 'w'], { cwd: repo });
    const srv = await start(repo, { readOnly: true });
    try {
      for (const [method, path] of [
        ['POST', '/api/workstreams'],
        ['PUT', '/api/knowledge/x'],
        ['DELETE', '/api/locks/x'],
        ['POST', '/api/workstreams/w/next'],
      ]) {
        const r = await request(srv.url, method, path, { body: { name: 'x', content: 'c', agent: 'a' } });
        expect(r.status).toBe(405);
        expect(r.json.code).toBe('READ_ONLY');
      }
      // What the path still takes.
      expect((await request(srv.url, 'POST', '/api/workstreams', { body: {} })).headers.allow).toBe('GET, HEAD, OPTIONS');
      expect((await request(srv.url, 'POST', '/api/workstreams/w/next', { body: {} })).headers.allow).toBe('OPTIONS');
      expect((await request(srv.url, 'GET', '/api/health')).json).toMatchObject({ read_only: true });
    } finally {
      await srv.close();
    }
  });

  it('allows exactly the --cors origin', async () => {
    const repo = makeRepo();
    const srv = await start(repo, { cors: 'https://board.example' });
    try {
      const pre = await request(srv.url, 'OPTIONS', '/api/workstreams', { headers: { origin: 'https://board.example', 'access-control-request-method': 'POST' } });
      expect(pre.status).toBe(204);
      expect(pre.headers['access-control-allow-origin']).toBe('https://board.example');
      const other = await request(srv.url, 'GET', '/api/status', { headers: { origin: 'https://other.example' } });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      expect((await request(srv.url, 'POST', '/api/workstreams', { body: { name: 'c' }, headers: { origin: 'https://board.example' } })).status).toBe(201);
    } finally {
      await srv.close();
    }
  });

  it.each([
    ['a public address without a token', { host: '0.0.0.0' }],
    ['a wildcard CORS origin', { cors: '*' }],
    ['a short token', { token: 'short' }],
    ['public reading without a token', { publicRead: true }],
    ['a port over 65535', { port: 99999 }],
    ['a negative port', { port: -1 }],
    ['a negative fetch interval', { fetchInterval: -1 }],
    ['a fetch interval over a day', { fetchInterval: 86_401 }],
    ['a host that is not an address of this machine', { host: '192.0.2.1', readOnly: true }],
  ])('refuses to start with %s', async (_l, opts) => {
    await expect(start(makeRepo(), opts)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('refuses a port in use with INVALID_INPUT', async () => {
    const repo = makeRepo();
    const first = await start(repo);
    try {
      await expect(start(repo, { port: first.port })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('in use') });
    } finally {
      await first.close();
    }
  });

  it('serves a public address read-only without a token, reads open to all', async () => {
    const srv = await start(makeRepo(), { host: '0.0.0.0', readOnly: true });
    try {
      expect((await request(`http://127.0.0.1:${srv.port}/`, 'GET', '/api/status')).status).toBe(200);
      expect((await request(`http://127.0.0.1:${srv.port}/`, 'GET', '/api/health')).json).toMatchObject({ read_only: true, token_required: false, reads_need_token: false });
    } finally {
      await srv.close();
    }
  });

  it('shows work pushed from another clone after a fetch, without a restart', async () => {
    const { clones } = makeCluster(2);
    cli(['ws', 'create', 'w'], { cwd: clones[0] });
    const srv = await serve({ port: 0, fetchInterval: 1, open: { repo: clones[1] } });
    try {
      cli(['t', 'add', 'w', 'pushed elsewhere'], { cwd: clones[0] });
      const deadline = Date.now() + 5000;
      let titles: string[] = [];
      while (Date.now() < deadline) {
        titles = ((await request(srv.url, 'GET', '/api/workstreams/w/tasks')).json ?? []).map((t: { title: string }) => t.title);
        if (titles.length) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(titles).toEqual(['pushed elsewhere']);
    } finally {
      await srv.close();
    }
  });

  it('the serve command prints the URL and stops on SIGTERM', async () => {
    const repo = makeRepo();
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('./helpers/cli.js');
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { cwd: repo });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
        const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    expect((await request(url, 'GET', '/api/health')).json).toMatchObject({ ok: true, branch: 'orchestrator' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
