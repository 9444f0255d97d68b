/**
 * The REST API: the original's endpoints with its bodies and success shapes,
 * plus the audit trail (/api/log) and a Server-Sent Events stream of tip
 * changes (/api/stream). Every handler calls one library function.
 */
import { createHash } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import type { Orchestrator } from '../api.js';
import { OrchestratorError } from '../errors.js';
import { parseIntStrict } from '../domain/rules.js';
import { DEFAULT_STALE_MS, statusText } from '../domain/queries.js';
import type { BranchWatcher } from './watcher.js';
import { sessionOf } from '../api/orchestrator.js';

type Body = Record<string, unknown>;

function body(req: Request): Body {
  const b = req.body as unknown;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new OrchestratorError('INVALID_INPUT', 'the request body must be a JSON object');
  return b as Body;
}

function str(b: Body, key: string, required: true): string;
function str(b: Body, key: string, required?: false): string | undefined;
function str(b: Body, key: string, required = false): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) {
    if (required) throw new OrchestratorError('INVALID_INPUT', `${key} is required`, { field: key });
    return undefined;
  }
  if (typeof v !== 'string') throw new OrchestratorError('INVALID_INPUT', `${key} must be a string`, { field: key });
  return v;
}

function int(b: Body, key: string): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') return parseIntStrict(v, key);
  throw new OrchestratorError('INVALID_INPUT', `${key} ${JSON.stringify(v)} is invalid: must be an integer`, { field: key });
}

function strings(b: Body, key: string): string[] | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new OrchestratorError('INVALID_INPUT', `${key} must be a list of strings`, { field: key });
}

function query(req: Request, key: string): string | undefined {
  const v = req.query[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new OrchestratorError('INVALID_INPUT', `query parameter ${key} must be given once`, { field: key });
  return v;
}

/**
 * Cached JSON bodies, one per commit and query, recomputed at most once a
 * second (time-dependent fields: stale agents, lock expiry). Answers
 * If-None-Match with 304.
 */
class ResponseCache {
  private entries = new Map<string, { body: Buffer; etag: string; at: number }>();
  constructor(
    watcher: BranchWatcher,
    private readonly tip: () => Promise<string | null>,
  ) {
    watcher.subscribe(() => this.entries.clear());
  }

  async send(req: Request, res: Response, key: string, compute: () => Promise<unknown>): Promise<void> {
    const now = Date.now();
    // Keyed by the tip read now (a ref read), not the watcher's last poll: a body never carries another commit's key.
    const tip = await this.tip();
    const full = `${tip ?? 'none'} ${key}`;
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
    res.setHeader('X-Orchestrator-Commit', tip ?? '');
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
  tokenRequired?: boolean;
  staleMs?: number;
}

export function apiRoutes(orc: Orchestrator, watcher: BranchWatcher, express: typeof import('express'), opts: RouteOptions = {}): Router {
  const r = express.Router();
  const cache = new ResponseCache(watcher, () => sessionOf(orc).tip());

  /** After a write the stream hears of the new tip at once. */
  const wrote = async (res: Response, status: number, result: unknown) => {
    await watcher.check();
    res.status(status).json(result);
  };

  r.get('/status', (req, res) => cache.send(req, res, 'status', () => orc.status()));
  r.get('/status/text', async (_req, res) => {
    res.type('text/plain').send(statusText(await orc.status()));
  });
  r.get('/health', async (_req, res) => {
    const w = await orc.where();
    res.json({
      ok: true,
      commit: watcher.current,
      branch: w.branch,
      remote: w.remote,
      read_only: !!opts.readOnly,
      token_required: !!opts.tokenRequired,
      fetch_error: watcher.lastFetchError,
      server_time: new Date().toISOString(),
      stale_after_ms: opts.staleMs ?? DEFAULT_STALE_MS,
    });
  });

  r.get('/workstreams', (req, res) => cache.send(req, res, 'workstreams', () => orc.listWorkstreams()));
  r.post('/workstreams', async (req, res) => {
    const b = body(req);
    const ws = await orc.createWorkstream(str(b, 'name', true), { description: str(b, 'description') ?? '', priority: int(b, 'priority') ?? 5 }, str(b, 'agent'));
    await wrote(res, 201, ws);
  });

  r.get('/workstreams/:name/tasks', (req, res) => cache.send(req, res, `tasks ${req.params.name}`, () => orc.listTasks(String(req.params.name))));
  r.post('/workstreams/:name/tasks', async (req, res) => {
    const b = body(req);
    const task = await orc.addTask(
      String(req.params.name),
      {
        title: str(b, 'title', true),
        description: str(b, 'description') ?? '',
        priority: int(b, 'priority') ?? 5,
        estimate: str(b, 'estimate') ?? null,
        after: strings(b, 'after'),
        needs: strings(b, 'needs'),
      },
      str(b, 'agent'),
    );
    await wrote(res, 201, task);
  });
  r.get('/workstreams/:name/tasks/:id', (req, res) =>
    cache.send(req, res, `task ${req.params.name} ${req.params.id}`, () => orc.showTask(String(req.params.name), String(req.params.id))),
  );
  r.get('/archive', (req, res) => {
    const last = query(req, 'last');
    const filter = { workstream: query(req, 'workstream'), last: last !== undefined ? parseIntStrict(last, 'last') : 100 };
    return cache.send(req, res, `archive ${JSON.stringify(filter)}`, () => orc.archivedTasks(filter));
  });
  r.get('/plan', (req, res) => cache.send(req, res, 'plan', () => orc.plan()));
  r.post('/workstreams/:name/tasks/:id/claim', async (req, res) => {
    const task = await orc.claimTask(String(req.params.name), String(req.params.id), str(body(req), 'agent', true));
    await wrote(res, 200, task);
  });
  r.post('/workstreams/:name/tasks/:id/complete', async (req, res) => {
    const b = body(req);
    const task = await orc.completeTask(String(req.params.name), String(req.params.id), str(b, 'result') ?? null, str(b, 'agent'));
    await wrote(res, 200, task);
  });
  r.post('/workstreams/:name/tasks/:id/fail', async (req, res) => {
    const b = body(req);
    const task = await orc.failTask(String(req.params.name), String(req.params.id), str(b, 'reason', true), str(b, 'agent'));
    await wrote(res, 200, task);
  });
  r.post('/workstreams/:name/tasks/:id/release', async (req, res) => {
    const task = await orc.releaseTask(String(req.params.name), String(req.params.id), str(body(req), 'agent'));
    await wrote(res, 200, task);
  });
  r.post('/workstreams/:name/next', async (req, res) => {
    const task = await orc.getNextTask(String(req.params.name), str(body(req), 'agent', true));
    await wrote(res, 200, task ?? { message: 'No pending tasks' });
  });

  r.get('/agents', (req, res) => cache.send(req, res, 'agents', () => orc.listAgents()));
  r.post('/agents', async (req, res) => {
    const b = body(req);
    const agent = await orc.registerAgent(str(b, 'id', true), { type: str(b, 'type') ?? 'general', capabilities: strings(b, 'capabilities') ?? [] });
    await wrote(res, 201, agent);
  });
  r.post('/agents/:id/heartbeat', async (req, res) => {
    const agent = await orc.heartbeat(String(req.params.id));
    await wrote(res, 200, { ok: true, ...agent });
  });

  /** ?agent&action&since&last, shared by the event log and the audit trail. */
  const historyFilter = (req: Request, defaultLast?: number) => {
    const last = query(req, 'last');
    return {
      agent: query(req, 'agent'),
      action: query(req, 'action'),
      since: query(req, 'since'),
      last: last !== undefined ? parseIntStrict(last, 'last') : defaultLast,
    };
  };

  r.get('/events', (req, res) => {
    const filter = { ...historyFilter(req), workstream: query(req, 'workstream') };
    return cache.send(req, res, `events ${JSON.stringify(filter)}`, () => orc.getEvents(filter));
  });

  r.get('/log', (req, res) => {
    const filter = historyFilter(req, 50);
    return cache.send(req, res, `log ${JSON.stringify(filter)}`, () => orc.log(filter));
  });

  r.get('/knowledge', (req, res) => cache.send(req, res, 'knowledge', () => orc.listKnowledge()));
  r.get('/knowledge/:topic', (req, res) => {
    const topic = String(req.params.topic);
    return cache.send(req, res, `topic ${topic}`, async () => {
      const content = await orc.readKnowledge(topic);
      if (content === null) throw new OrchestratorError('NOT_FOUND', `topic "${topic}" not found`, { topic });
      return { topic, content };
    });
  });
  r.put('/knowledge/:topic', async (req, res) => {
    const b = body(req);
    const content = str(b, 'content', true);
    const out = await orc.writeKnowledge(String(req.params.topic), content, str(b, 'agent') ?? query(req, 'agent') ?? 'api');
    await wrote(res, 200, { ok: true, ...out });
  });
  r.delete('/knowledge/:topic', async (req, res) => {
    const topic = String(req.params.topic);
    const deleted = await orc.deleteKnowledge(topic, str(body(req), 'agent') ?? query(req, 'agent') ?? 'api');
    if (!deleted) throw new OrchestratorError('NOT_FOUND', `topic "${topic}" not found`, { topic });
    await wrote(res, 200, { ok: true });
  });

  r.get('/locks', (req, res) => cache.send(req, res, 'locks', () => orc.listLocks()));
  r.post('/locks', async (req, res) => {
    const b = body(req);
    const resource = str(b, 'resource', true);
    const agent = str(b, 'agent', true);
    try {
      const lock = await orc.lock(resource, agent, { ttlMs: int(b, 'ttl') ?? int(b, 'ttl_ms') ?? 60_000 });
      await wrote(res, 200, { acquired: true, ...lock });
    } catch (err) {
      if (err instanceof OrchestratorError && err.code === 'LOCK_HELD') {
        res.status(409).json({ acquired: false, ...err.toJSON(), holder: err.data.holder, expires_at: err.data.expires_at });
        return;
      }
      throw err;
    }
  });
  r.delete('/locks/:resource', async (req, res) => {
    const b = body(req);
    const out = await orc.unlock(String(req.params.resource), str(b, 'agent', true), { force: b.force === true });
    await wrote(res, 200, out);
  });

  r.get('/stream', (req, res) => {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
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

  return r;
}
