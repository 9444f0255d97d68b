/**
 * The REST API, built from the operations' declarations (their `rest`
 * bindings: method, path, status, answer shape); plus the server's own
 * endpoints: /health and a Server-Sent Events stream of tip changes
 * (/api/stream). A read answers from one view: the tip is read once, and
 * the cache key, the ETag, X-Orchestrator-Commit and the body all come from
 * that commit.
 */
import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response, Router } from 'express';
import { OrchestratorError } from '../errors.js';
import { DEFAULT_STALE_MS } from '../domain/queries.js';
import { offered, restBindings, type AnyDeclaration, type FieldDef, type RestBinding } from '../api/declare.js';
import { invoke, type Raw } from '../api/invoke.js';
import { DECLARATIONS } from '../api/ops/index.js';
import type { Session } from '../api/session.js';
import type { View } from '../api/view.js';
import type { BranchWatcher } from './watcher.js';
import { methodNotAllowed } from './middleware/index.js';
import { apiRouteTable, type RouteTable } from './route-table.js';

function body(req: Request): Raw {
  const b = req.body as unknown;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new OrchestratorError('INVALID_INPUT', 'the request body must be a JSON object');
  return b as Raw;
}

function query(req: Request): Raw {
  const out: Raw = {};
  for (const [key, v] of Object.entries(req.query)) {
    if (typeof v !== 'string') throw new OrchestratorError('INVALID_INPUT', `query parameter ${key} must be given once`, { field: key });
    out[key] = v;
  }
  return out;
}

/** The fields each write accepts over REST (with their aliases), worked out once per declaration. */
const restFields = new WeakMap<AnyDeclaration, Set<string>>();

/**
 * A write's body names only fields the operation takes: a misspelt or
 * unknown one is refused, not dropped (a write would otherwise do less than
 * asked, or refuse with "nothing to change").
 */
function refuseUnknownFields(d: AnyDeclaration, req: Request): void {
  const b = req.body as unknown;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return;
  let known = restFields.get(d);
  if (!known) {
    known = new Set<string>();
    for (const [name, field] of Object.entries(d.input)) {
      const def = (field as { def: FieldDef }).def;
      if (!offered(def, 'rest')) continue;
      known.add(name);
      for (const alias of def.alias ?? []) known.add(alias);
    }
    restFields.set(d, known);
  }
  for (const key of Object.keys(b)) {
    if (!known.has(key)) throw new OrchestratorError('INVALID_INPUT', `unknown field "${key}" for ${d.name} (fields: ${[...known].join(', ') || 'none'})`, { field: key });
  }
}

/** A request's raw input: the query, the JSON body, the path parameters (which win). */
function rawInput(req: Request, b: RestBinding): Raw {
  const raw: Raw = { ...query(req), ...body(req), ...(req.params as Raw) };
  for (const [field, value] of Object.entries(b.fill ?? {})) if (raw[field] === undefined || raw[field] === null) raw[field] = value;
  return raw;
}

/**
 * Cached JSON bodies, one per commit and request, recomputed at most once a
 * second (time-dependent fields: stale agents, lock expiry). Answers
 * If-None-Match with 304.
 */
class ResponseCache {
  private entries = new Map<string, { body: Buffer; etag: string; at: number }>();
  constructor(watcher: BranchWatcher) {
    watcher.subscribe(() => this.entries.clear());
  }

  async send(req: Request, res: Response, commit: string | null, key: string, compute: () => Promise<unknown>): Promise<void> {
    const now = Date.now();
    const full = `${commit ?? 'none'} ${key}`;
    let e = this.entries.get(full);
    if (!e || now - e.at >= 1000) {
      const body = Buffer.from(JSON.stringify(await compute()));
      const etag = `"${createHash('sha1').update(full).update(body).digest('base64url').slice(0, 27)}"`;
      e = { body, etag, at: now };
      this.entries.set(full, e);
      if (this.entries.size > 200) this.entries.delete(this.entries.keys().next().value as string);
    }
    res.setHeader('ETag', e.etag);
    res.setHeader('Cache-Control', 'no-cache');
    // Which commit the answer comes from, so a page can tell responses of different commits apart.
    res.setHeader('X-Orchestrator-Commit', commit ?? '');
    if (req.headers['if-none-match'] === e.etag) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', e.body.length);
    res.end(e.body);
  }
}

export interface RouteOptions {
  readOnly?: boolean;
  /** The server has a token (writes need it). */
  tokenRequired?: boolean;
  /** Reads need the token too: /api/health then says only that to a request without it. */
  readsNeedToken?: boolean;
  staleMs?: number;
  /** The paths and their methods (default: built from the declarations). */
  routes?: RouteTable;
}

type Handler = (req: Request, res: Response) => Promise<void>;

export function apiRoutes(session: Session, watcher: BranchWatcher, express: typeof import('express'), opts: RouteOptions = {}): Router {
  const r = express.Router();
  const cache = new ResponseCache(watcher);

  /** A declared read: one view, its commit keys the cache. */
  const read =
    (d: AnyDeclaration, b: RestBinding): Handler =>
    async (req, res) => {
      const raw = rawInput(req, b);
      const view: View = await session.view();
      const run = () => invoke(session, d, raw, 'rest', { view });
      if (b.text) {
        res.type('text/plain').send(b.text(await run()));
        return;
      }
      await cache.send(req, res, view.commit, `${req.path} ${JSON.stringify(raw)}`, async () => (b.answer ? b.answer(await run()) : run()));
    };

  /** A declared write; after it, the stream hears of the new tip at once. */
  const write =
    (d: AnyDeclaration, b: RestBinding): Handler =>
    async (req, res) => {
      let result: unknown;
      try {
        refuseUnknownFields(d, req);
        result = await invoke(session, d, rawInput(req, b), 'rest');
      } catch (err) {
        const answer = err instanceof OrchestratorError ? b.answered?.[err.code] : undefined;
        if (answer) {
          res.status(200).json(answer((err as OrchestratorError).data));
          return;
        }
        const extra = err instanceof OrchestratorError ? b.refused?.[err.code] : undefined;
        if (extra) Object.assign(err as object, { body: extra((err as OrchestratorError).data) });
        throw err;
      }
      await watcher.check();
      res.status(b.status ?? 200).json(b.answer ? b.answer(result) : result);
    };

  for (const d of DECLARATIONS as readonly AnyDeclaration[]) {
    for (const b of restBindings(d)) {
      const handler = d.kind === 'read' ? read(d, b) : write(d, b);
      const route = (req: Request, res: Response, next: NextFunction) => handler(req, res).catch(next);
      r[b.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](b.path, route);
    }
  }

  r.get('/health', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    // Without the token, only what the page needs to know that it must ask for it.
    if (opts.readsNeedToken && res.locals.authorized !== true) {
      res.json({ ok: true, read_only: !!opts.readOnly, token_required: true, reads_need_token: true });
      return;
    }
    const w = await session.where();
    res.json({
      ok: true,
      commit: watcher.current,
      branch: w.branch,
      remote: w.remote,
      read_only: !!opts.readOnly,
      token_required: !!opts.tokenRequired,
      reads_need_token: !!opts.readsNeedToken,
      fetch_error: watcher.lastFetchError,
      server_time: new Date().toISOString(),
      stale_after_ms: opts.staleMs ?? DEFAULT_STALE_MS,
    });
  });

  r.get('/stream', (req, res) => {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // HEAD: the headers only (a stream that never ends would leave it waiting).
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const send = (commit: string | null) => res.write(`event: commit\ndata: ${JSON.stringify({ commit })}\n\n`);
    res.write('retry: 2000\n\n');
    send(watcher.current);
    const unsubscribe = watcher.subscribe(send);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
  });

  // Last in the router: a known path asked with a method it does not take (and OPTIONS, which the router would answer its own way).
  const table = opts.routes ?? apiRouteTable();
  r.use(methodNotAllowed((req) => table.allow(req.path)));
  return r;
}
