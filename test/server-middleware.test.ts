/**
 * Each server middleware alone, in front of a handler that answers 200, in
 * a tiny app with the server's error handler: one concern, one test each.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { bearerToken, cors, errorHandler, hostCheck, jsonBodies, readOnly, sameOrigin, securityHeaders, WRITE } from '../src/server/middleware/index.js';

const express = require('express') as typeof import('express');
const servers: http.Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

async function app(mw: RequestHandler): Promise<string> {
  const a = express();
  a.use(mw);
  a.use((_req, res) => void res.json({ ok: true }));
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
  });

  it('jsonBodies: a write with a body must send JSON', async () => {
    const base = await app(jsonBodies(WRITE));
    expect((await request(base, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1')).json).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect((await request(base, 'POST', { 'content-type': 'application/json' }, '{}')).status).toBe(200);
    expect((await request(base, 'POST')).status).toBe(200);
  });
});
