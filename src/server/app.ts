/**
 * The HTTP server: the original REST API and the live dashboard, rendered
 * from the coordination branch tip. Reads come from the local branch
 * (parsed once per commit and cached); the remote is fetched on an
 * interval. Writes run the same declared operations as the CLI.
 *
 * Safe by default: it binds 127.0.0.1; it refuses a non-loopback address
 * without a token unless read-only; with a token, every API request (reads
 * and the stream too, all but /api/health) needs `Authorization: Bearer`,
 * unless reading is made public (publicRead); writes need a JSON body and no
 * foreign Origin; requests for other host names are refused (DNS
 * rebinding); no CORS header unless asked for; bodies are limited to 1 MiB.
 * Each guard is a middleware of its own (./middleware).
 */
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Express, Request } from 'express';
import { OrchestratorError } from '../errors.js';
import { Session, type OpenOptions, type Where } from '../api/session.js';
import { BranchWatcher } from './watcher.js';
import { apiRoutes } from './routes.js';
import { apiRouteTable } from './route-table.js';
import { bearerToken, cors, errorHandler, hostCheck, isLoopback, jsonBodies, methodNotAllowed, readOnly, sameOrigin, securityHeaders, WRITE } from './middleware/index.js';

export { isLoopback };

/** The longest fetch interval, in seconds (a day; timers cannot wait much more than 24 days). */
export const MAX_FETCH_INTERVAL = 86_400;

export interface ServeOptions {
  port?: number;
  host?: string;
  readOnly?: boolean;
  /** Every API request but /api/health needs `Authorization: Bearer <token>` (only the writes with publicRead). */
  token?: string;
  /** With a token: reads are open to anyone who can reach the server, writes need the token. */
  publicRead?: boolean;
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

/** Is this URL path a file of the dashboard (what express.static would serve)? */
function isDashboardFile(root: string, urlPath: string): boolean {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return false;
  }
  const file = path.resolve(root, '.' + (rel.endsWith('/') ? rel + 'index.html' : rel));
  if (!file.startsWith(root + path.sep)) return false;
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

export function createApp(session: Session, watcher: BranchWatcher, opts: ServeOptions, express: typeof import('express')): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const root = webRoot();

  app.use(securityHeaders());
  app.use(hostCheck(opts.host ?? '127.0.0.1'));
  app.use(cors(opts.cors));
  const routes = apiRouteTable();
  const allowed = (req: Request) => (/^\/api\//i.test(req.path) ? routes.allow(req.path.slice(4)) : isDashboardFile(root, req.path) ? ['GET', 'HEAD', 'OPTIONS'] : null);
  app.use(readOnly(!!opts.readOnly, WRITE, allowed));
  app.use(sameOrigin(opts.cors, WRITE));
  // The token guards the API: every request but /api/health (which tells the page to ask for it), or only
  // the writes when reading is public. The dashboard's files carry no data and load without it.
  const readsNeedToken = !!opts.token && !opts.publicRead;
  const guarded = readsNeedToken ? (req: Request) => req.path !== '/health' : (req: Request) => WRITE.has(req.method);
  app.use('/api', bearerToken(opts.token, guarded, readsNeedToken ? 'reads and writes (see --public-read)' : 'writes'));
  app.use(jsonBodies(WRITE));

  app.use('/api', express.json({ limit: '1mb', strict: true, type: 'application/json' }));
  app.use('/api', apiRoutes(session, watcher, express, { readOnly: opts.readOnly, tokenRequired: !!opts.token, readsNeedToken, staleMs: opts.open?.staleMs, routes }));
  app.use('/api', () => {
    throw new OrchestratorError('NOT_FOUND', 'no such endpoint (see the README for the API)');
  });

  // As the original: browsers ask for it; the page names its own icon (favicon.svg).
  app.get('/favicon.ico', (_req, res) => void res.status(204).end());
  app.use(express.static(root, { index: 'index.html', etag: true, setHeaders: (res) => res.setHeader('Content-Security-Policy', CSP) }));
  // The dashboard's files are only read.
  app.use(methodNotAllowed(allowed));
  app.use(errorHandler(opts.log));
  return app;
}

/** Why the address cannot be listened on, in words (a bad --host or --port is the caller's error). */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const invalid = (message: string) => new OrchestratorError('INVALID_INPUT', message, { host, port, reason: err.code });
  switch (err.code) {
    case 'EADDRINUSE':
      return invalid(`port ${port} on ${host} is in use; pick another with --port`);
    case 'EACCES':
      return invalid(`not allowed to listen on port ${port} of ${host} (ports below 1024 need privileges); pick another with --port`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return invalid(`cannot listen on ${host}: it is not an address of this machine (${err.code}); see --host`);
    default:
      return err;
  }
}

/** Starts the server (the `serve` command). */
export async function serve(opts: ServeOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 4000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new OrchestratorError('INVALID_INPUT', `port ${port} is out of range: use 0-65535 (0: any free port)`, { field: 'port' });
  }
  const fetchInterval = opts.fetchInterval ?? 5;
  if (!Number.isInteger(fetchInterval) || fetchInterval < 0 || fetchInterval > MAX_FETCH_INTERVAL) {
    throw new OrchestratorError('INVALID_INPUT', `fetch interval ${fetchInterval} is out of range: use 0-${MAX_FETCH_INTERVAL} seconds (0: never fetch)`, { field: 'fetch-interval' });
  }
  if (!isLoopback(host) && !opts.token && !opts.readOnly) {
    throw new OrchestratorError('INVALID_INPUT', `refusing to serve on ${host} without a token: anyone who can reach it could change the board; pass --token (or ORCHESTRATOR_TOKEN) or --read-only`);
  }
  if (opts.publicRead && !opts.token) {
    throw new OrchestratorError('INVALID_INPUT', '--public-read opens the reads of a server whose writes need a token: pass --token too (without a token, reads are open already)');
  }
  if (opts.token !== undefined && opts.token.length < 8) throw new OrchestratorError('INVALID_INPUT', 'the token must be at least 8 characters');
  if (opts.cors !== undefined && (opts.cors === '*' || !/^https?:\/\/[^/]+$/.test(opts.cors))) {
    throw new OrchestratorError('INVALID_INPUT', `--cors takes one origin like https://example.com, not ${JSON.stringify(opts.cors)}`);
  }
  const express = require('express') as typeof import('express');
  const session = new Session({ ...opts.open, fetchOnRead: false, longRunning: true });
  await session.ready();
  const watcher = new BranchWatcher(session, { fetchMs: fetchInterval * 1000, onError: (e) => opts.log?.(`watcher: ${e instanceof Error ? e.message : String(e)}`) });
  await watcher.start();
  const app = createApp(session, watcher, opts, express);
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    // Express 5 calls back with the error too (and emits none).
    const s = app.listen(port, host, (err?: Error) => (err ? reject(listenError(err as NodeJS.ErrnoException, host, port)) : resolve(s)));
  });
  server.keepAliveTimeout = 65_000;
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}/`,
    port: bound,
    where: await session.where(),
    watcher,
    close: () =>
      new Promise<void>((resolve) => {
        watcher.stop();
        server.closeAllConnections?.();
        server.close(() => resolve());
        session.close();
      }),
  };
}
