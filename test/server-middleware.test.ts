/**
 * Each server middleware alone, in front of a handler that answers 200, in
 * a tiny app with the server's error handler: one concern, one test each.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { bearerToken, cors, errorHandler, hostCheck, jsonBodies, methodNotAllowed, readOnly, sameOrigin, securityHeaders, WRITE } from '../src/server/middleware/index.js';
import { RouteTable } from '../src/server/route-table.js';

const express = require('express') as typeof import('express');
const servers: http.Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

async function app(mw: RequestHandler): Promise<string> {
  const a = express();
  a.use(mw);
  a.use((_req, res) => void res.json({ ok: true, ...(res.locals.authorized !== undefined ? { authorized: res.locals.authorized } : {}) }));
  a.use(errorHandler());
  const s = await new Promise<http.Server>((resolve) => {
    const srv = a.listen(0, '127.0.0.1', () => resolve(srv));
  });
  servers.push(s);
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function request(base: string, method: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL('/x', base), { method, headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('server middleware', () => {
  it('securityHeaders: no sniffing, no referrer', async () => {
    const r = await request(await app(securityHeaders()), 'GET');
    expect(r.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
  });

  it('hostCheck: on loopback, other host names are refused (DNS rebinding)', async () => {
    const base = await app(hostCheck('127.0.0.1'));
    expect((await request(base, 'GET', { host: 'localhost:1' })).status).toBe(200);
    expect((await request(base, 'GET', { host: 'evil.example' })).json).toMatchObject({ code: 'FORBIDDEN' });
    expect((await request(await app(hostCheck('0.0.0.0')), 'GET', { host: 'board.example' })).status).toBe(200);
  });

  it('cors: exactly one origin, with its preflight', async () => {
    const base = await app(cors('https://board.example'));
    const pre = await request(base, 'OPTIONS', { origin: 'https://board.example' });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://board.example');
    expect((await request(base, 'GET', { origin: 'https://other.example' })).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('readOnly: writes get 405, reads pass', async () => {
    const base = await app(readOnly(true, WRITE));
    expect((await request(base, 'GET')).status).toBe(200);
    const w = await request(base, 'DELETE');
    expect([w.status, w.json.code]).toEqual([405, 'READ_ONLY']);
  });

  it('sameOrigin: a write from a foreign page is refused, its own and the CORS origin pass', async () => {
    const base = await app(sameOrigin('https://board.example', WRITE));
    const host = new URL(base).host;
    expect((await request(base, 'POST', { origin: 'https://evil.example' })).json).toMatchObject({ code: 'FORBIDDEN' });
    expect((await request(base, 'POST', { origin: `http://${host}` })).status).toBe(200);
    expect((await request(base, 'POST', { origin: 'https://board.example' })).status).toBe(200);
    expect((await request(base, 'GET', { origin: 'https://evil.example' })).status).toBe(200);
  });

  it('bearerToken: guards what it is told to, in constant time', async () => {
    const base = await app(bearerToken('sekrit-token-123', (req) => WRITE.has(req.method)));
    expect((await request(base, 'GET')).status).toBe(200);
    const no = await request(base, 'POST');
    expect([no.status, no.json.code, no.headers['www-authenticate']]).toEqual([401, 'UNAUTHORIZED', 'Bearer']);
    expect((await request(base, 'POST', { authorization: 'Bearer sekrit-token-12' })).status).toBe(401);
    expect((await request(base, 'POST', { authorization: 'Bearer sekrit-token-123' })).status).toBe(200);
    // Reads can be guarded too, by the same middleware.
    const all = await app(bearerToken('sekrit-token-123', () => true));
    expect((await request(all, 'GET')).status).toBe(401);
    expect((await request(all, 'GET', { authorization: 'bearer  sekrit-token-123 ' })).status).toBe(200);
    // An unguarded request that carries the token is marked, so an open route can say more to it.
    const open = await app(bearerToken('sekrit-token-123', () => false));
    expect((await request(open, 'GET')).json).toEqual({ ok: true, authorized: false });
    expect((await request(open, 'GET', { authorization: 'Bearer sekrit-token-123' })).json).toEqual({ ok: true, authorized: true });
    expect((await request(await app(bearerToken(undefined, () => true)), 'GET')).json).toEqual({ ok: true });
  });

  it('readOnly: its 405 says what the path still takes', async () => {
    const base = await app(readOnly(true, WRITE, () => ['GET', 'HEAD', 'POST', 'OPTIONS']));
    expect((await request(base, 'POST')).headers.allow).toBe('GET, HEAD, OPTIONS');
  });

  it('methodNotAllowed: 405 with Allow for a known path, 204 for OPTIONS, on for an unknown one', async () => {
    const table = new RouteTable([
      { method: 'GET', path: '/x' },
      { method: 'POST', path: '/x' },
    ]);
    const base = await app(methodNotAllowed((req) => table.allow(req.path)));
    const no = await request(base, 'DELETE');
    expect([no.status, no.json.code, no.headers.allow]).toEqual([405, 'METHOD_NOT_ALLOWED', 'GET, HEAD, POST, OPTIONS']);
    const options = await request(base, 'OPTIONS');
    expect([options.status, options.headers.allow]).toEqual([204, 'GET, HEAD, POST, OPTIONS']);
    expect((await request(await app(methodNotAllowed(() => null)), 'DELETE')).status).toBe(200);
  });

  it('RouteTable: paths match as the router matches them', () => {
    const table = new RouteTable([
      { method: 'GET', path: '/workstreams/:workstream/tasks' },
      { method: 'POST', path: '/workstreams/:workstream/tasks' },
      { method: 'DELETE', path: '/locks/:resource' },
      { method: 'POST', path: '/locks/:resource/renew' },
    ]);
    expect(table.allow('/workstreams/w/tasks')).toEqual(['GET', 'HEAD', 'POST', 'OPTIONS']);
    expect(table.allow('/Workstreams/W/TASKS/')).toEqual(['GET', 'HEAD', 'POST', 'OPTIONS']);
    expect(table.allow('/locks/a%2Fb')).toEqual(['DELETE', 'OPTIONS']);
    expect(table.allow('/workstreams//tasks')).toBeNull();
    expect(table.allow('/workstreams/w')).toBeNull();
    expect(table.allow('/locks/a/b')).toBeNull();
  });

  it('errorHandler: a malformed request is a 400, never a 500', async () => {
    const failing = (err: unknown): RequestHandler => () => {
      throw err;
    };
    const uri = Object.assign(new URIError("Failed to decode param '%E0%A4%A'"), { status: 400 });
    expect((await request(await app(failing(uri)), 'GET')).json).toMatchObject({ code: 'INVALID_INPUT' });
    // The body parser's errors (http-errors: a status it marks as safe to show).
    const zlib = Object.assign(new Error('incorrect header check'), { status: 400, expose: true, errno: -3 });
    const r = await request(await app(failing(zlib)), 'GET');
    expect([r.status, r.json.code]).toEqual([400, 'INVALID_INPUT']);
    const encoding = Object.assign(new Error('unsupported content encoding "x"'), { status: 415, expose: true, type: 'encoding.unsupported' });
    expect((await request(await app(failing(encoding)), 'GET')).status).toBe(415);
    // A raw body on a parse error is never echoed back.
    const parse = Object.assign(new SyntaxError('Unexpected token'), { status: 400, expose: true, type: 'entity.parse.failed', body: '{"secret": ' });
    const p = await request(await app(failing(parse)), 'GET');
    expect(p.json).toEqual({ error: expect.stringContaining('malformed JSON'), code: 'INVALID_INPUT' });
    // Anything else stays an internal error.
    expect((await request(await app(failing(new Error('boom'))), 'GET')).status).toBe(500);
    expect((await request(await app(failing(Object.assign(new Error('x'), { status: 404 }))), 'GET')).status).toBe(500);
  });

  it('jsonBodies: a write with a body must send JSON', async () => {
    const base = await app(jsonBodies(WRITE));
    expect((await request(base, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1')).json).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect((await request(base, 'POST', { 'content-type': 'application/json' }, '{}')).status).toBe(200);
    expect((await request(base, 'POST')).status).toBe(200);
  });
});
