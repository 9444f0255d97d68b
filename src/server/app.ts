/**
 * The HTTP server: the original REST API and the live dashboard, rendered
 * from the coordination branch tip. Reads come from the local branch
 * (parsed once per commit and cached); the remote is fetched on an
 * interval. Writes go through the library, like the CLI's.
 *
 * Safe by default: it binds 127.0.0.1; it refuses a non-loopback address
 * without a token unless read-only; writes need `Authorization: Bearer` when
 * a token is set, a JSON body, and no foreign Origin; requests for other
 * host names are refused (DNS rebinding); no CORS header unless asked for;
 * bodies are limited to 1 MiB.
 */
import { timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Express, NextFunction, Request, Response } from 'express';
import { openOrchestrator, type OpenOptions, type Orchestrator, type Where } from '../api.js';
import { OrchestratorError, toOrchestratorError } from '../errors.js';
import { BranchWatcher } from './watcher.js';
import { sessionOf } from '../api/orchestrator.js';
import { apiRoutes } from './routes.js';

export interface ServeOptions {
  port?: number;
  host?: string;
  readOnly?: boolean;
  token?: string;
  /** Seconds between fetches of the remote; 0 = never. */
  fetchInterval?: number;
  /** An origin allowed to call the API from a browser (CORS). */
  cors?: string;
  /** Where the branch is (the library's options). */
  open?: OpenOptions;
  /** Log requests and errors (default: errors only, to stderr). */
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  where: Where;
  watcher: BranchWatcher;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The dashboard's directory: web/ at the package root. */
export function webRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, 'web');
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new OrchestratorError('INTERNAL', 'the dashboard files (web/index.html) are missing from this installation');
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const WRITE = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

export function createApp(orc: Orchestrator, watcher: BranchWatcher, opts: ServeOptions, express: typeof import('express')): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const host = opts.host ?? '127.0.0.1';
  // On loopback, only loopback names: a page under another name that resolves here is DNS rebinding.
  const checkHost = isLoopback(host);

  app.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    const hostname = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (checkHost && !LOOPBACK.has(hostname) && hostname !== host && hostname !== `[${host}]`) {
      throw new OrchestratorError('FORBIDDEN', `this server does not answer for host "${hostname}"`);
    }
    const origin = req.headers.origin;
    if (opts.cors && origin === opts.cors) {
      res.setHeader('Access-Control-Allow-Origin', opts.cors);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
    }
    if (WRITE.has(req.method)) {
      if (opts.readOnly) throw new OrchestratorError('READ_ONLY', 'this server is read-only (started with --read-only)');
      // A browser sends Origin; only this server's own pages (and the CORS origin) may write.
      if (origin && origin !== opts.cors) {
        let originHost = '';
        try {
          originHost = new URL(origin).host;
        } catch {
          originHost = '';
        }
        if (originHost !== req.headers.host) throw new OrchestratorError('FORBIDDEN', `writes from origin ${origin} are not allowed (see --cors)`);
      }
      if (opts.token) {
        const auth = req.headers.authorization ?? '';
        const m = /^Bearer\s+(.+)$/i.exec(auth);
        if (!m || !sameToken(m[1].trim(), opts.token)) {
          res.setHeader('WWW-Authenticate', 'Bearer');
          throw new OrchestratorError('UNAUTHORIZED', 'this server needs "Authorization: Bearer <token>" for writes');
        }
      }
      const length = Number(req.headers['content-length'] ?? 0);
      if ((length > 0 || req.headers['transfer-encoding']) && !req.is('application/json')) {
        throw new OrchestratorError('UNSUPPORTED_MEDIA_TYPE', 'request bodies must be JSON (Content-Type: application/json)');
      }
    }
    next();
  });

  app.use('/api', express.json({ limit: '1mb', strict: true, type: 'application/json' }));
  app.use('/api', apiRoutes(orc, watcher, express, { readOnly: opts.readOnly, tokenRequired: !!opts.token, staleMs: opts.open?.staleMs }));
  app.use('/api', () => {
    throw new OrchestratorError('NOT_FOUND', 'no such endpoint (see the README for the API)');
  });

  const web = webRoot();
  app.use(
    express.static(web, {
      index: 'index.html',
      etag: true,
      setHeaders: (res) => {
        res.setHeader(
          'Content-Security-Policy',
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        );
      },
    }),
  );

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = bodyError(err) ?? toOrchestratorError(err);
    if (e.code === 'INTERNAL') opts.log?.(`error: ${err instanceof Error ? err.stack : String(err)}`);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(e.httpStatus).json(e.toJSON());
  });
  return app;
}

/** Translates body-parser's errors (too large, malformed) into ours. */
function bodyError(err: unknown): OrchestratorError | null {
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large') return new OrchestratorError('TOO_LARGE', 'request body is over the 1 MiB limit');
  if (e?.type === 'entity.parse.failed') return new OrchestratorError('INVALID_INPUT', `malformed JSON body: ${e.message}`);
  if (e?.type && e.status && e.status < 500) return new OrchestratorError('INVALID_INPUT', e.message ?? 'bad request body');
  return null;
}

/** Starts the server (the `serve` command). */
export async function serve(opts: ServeOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.token && !opts.readOnly) {
    throw new OrchestratorError('INVALID_INPUT', `refusing to serve on ${host} without a token: anyone who can reach it could change the board; pass --token (or ORCHESTRATOR_TOKEN) or --read-only`);
  }
  if (opts.token !== undefined && opts.token.length < 8) throw new OrchestratorError('INVALID_INPUT', 'the token must be at least 8 characters');
  if (opts.cors !== undefined && (opts.cors === '*' || !/^https?:\/\/[^/]+$/.test(opts.cors))) {
    throw new OrchestratorError('INVALID_INPUT', `--cors takes one origin like https://example.com, not ${JSON.stringify(opts.cors)}`);
  }
  const express = require('express') as typeof import('express');
  const orc = openOrchestrator({ ...opts.open, fetchOnRead: false });
  const session = sessionOf(orc);
  await session.ready();
  const watcher = new BranchWatcher(session, { fetchMs: (opts.fetchInterval ?? 5) * 1000, onError: (e) => opts.log?.(`watcher: ${e instanceof Error ? e.message : String(e)}`) });
  await watcher.start();
  const app = createApp(orc, watcher, opts, express);
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const s = app.listen(opts.port ?? 4000, host, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new OrchestratorError('INVALID_INPUT', `port ${opts.port ?? 4000} on ${host} is in use; pick another with --port`) : err),
    );
  });
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    where: await session.where(),
    watcher,
    close: () =>
      new Promise<void>((resolve) => {
        watcher.stop();
        server.closeAllConnections?.();
        server.close(() => resolve());
        orc.close();
      }),
  };
}

