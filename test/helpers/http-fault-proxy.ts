/**
 * An HTTP proxy on 127.0.0.1 in front of the test's nginx that can make a
 * chosen request misbehave, as a load balancer, a flaky network or a server
 * that restarts would: answer it itself, close the connection without an
 * answer, cut the server's answer short, close a kept-alive connection
 * under the client. Requests are told apart by method, path and
 * User-Agent: in-process pushes say `git/orchestrator`, git itself
 * `git/2.x`. Every request is recorded (what it asked, who asked, on which
 * connection, what was done to it), so that a test asserts what happened.
 *
 * Each request is forwarded with node:http (node:https in front of a TLS
 * server, serving the server's own certificate), bodies streamed both ways;
 * connections from clients are kept alive until they close them (a proxy
 * that closed idle ones itself would make the faults it is meant to make).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as fs from 'node:fs';
import type { Socket } from 'node:net';
import type { TlsFiles } from './http-server.js';

/** What a request asks for: the ref list for a push or a fetch, a push, a fetch. */
export type RequestKind = 'refs-receive' | 'refs-upload' | 'receive-pack' | 'upload-pack' | 'other';

/** Who asks: an in-process push (User-Agent git/orchestrator), git, anyone else. */
export type Asker = 'session' | 'git' | 'other';

export interface RequestMatch {
  kind?: RequestKind;
  by?: Asker;
  method?: string;
  /** Tested against the request's path and query. */
  path?: RegExp;
}

/**
 * What to do to a matching request:
 * - `status`: answer with this status (and headers, body) without forwarding;
 * - `close`: close the client's connection without an answer, before
 *   forwarding (the server never sees the request);
 * - `cut`: forward it, let the server answer in full (a push is applied),
 *   then send the client only the first `bytes` of the answer as it went on
 *   the wire (head and body; negative: all but the last -`bytes`) and close;
 * - `close-idle`: forward it and answer it, then close that kept-alive
 *   connection: `at-once` right after the answer (the client may notice
 *   before it sends again), `next-request` when the client's next request
 *   arrives on it, unread (a server closing an idle connection just as the
 *   request went out).
 */
export type Misbehaviour =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string | Buffer }
  | { kind: 'close' }
  | { kind: 'cut'; bytes: number }
  | { kind: 'close-idle'; when: 'at-once' | 'next-request' };

export interface RequestRecord {
  kind: RequestKind;
  by: Asker;
  method: string;
  path: string;
  agent: string;
  /** The request came on a connection that had carried one before. */
  reused: boolean;
  /** The misbehaviour applied to it (`closed-idle`: it arrived on a connection marked to close), or null. */
  fault: Misbehaviour['kind'] | 'closed-idle' | null;
  /** Whether the server got it. */
  forwarded: boolean;
}

export interface FaultProxy {
  readonly port: number;
  /** `url` (a url of the server) through this proxy. */
  url(url: string): string;
  /** The next `times` requests matching `match` misbehave as `what` (added after the ones already set). */
  fault(match: RequestMatch, what: Misbehaviour, times?: number): void;
  /** Forgets the misbehaviours not yet used. */
  clearFaults(): void;
  /** Every request since start (or `reset()`), in order of arrival. */
  readonly requests: readonly RequestRecord[];
  /** How many recorded requests match (and, given, were or were not forwarded, had a given fault). */
  count(match: RequestMatch & { forwarded?: boolean; fault?: RequestRecord['fault'] }): number;
  /** Forgets the record and the misbehaviours. */
  reset(): void;
  close(): Promise<void>;
}

export function kindOf(method: string, url: string): RequestKind {
  const [p, query = ''] = url.split('?');
  if (method === 'GET' && p.endsWith('/info/refs')) {
    if (/(^|&)service=git-receive-pack(&|$)/.test(query)) return 'refs-receive';
    if (/(^|&)service=git-upload-pack(&|$)/.test(query)) return 'refs-upload';
  }
  if (method === 'POST' && p.endsWith('/git-receive-pack')) return 'receive-pack';
  if (method === 'POST' && p.endsWith('/git-upload-pack')) return 'upload-pack';
  return 'other';
}

function askerOf(agent: string): Asker {
  if (/^git\/orchestrator\b/.test(agent)) return 'session';
  if (/^git\/\d/.test(agent)) return 'git';
  return 'other';
}

function matches(m: RequestMatch, r: Pick<RequestRecord, 'kind' | 'by' | 'method' | 'path'>): boolean {
  return (m.kind === undefined || m.kind === r.kind) && (m.by === undefined || m.by === r.by) && (m.method === undefined || m.method === r.method) && (m.path === undefined || m.path.test(r.path));
}

/** Headers that belong to one connection, not to the message (the proxy frames its own). */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'te', 'trailer', 'upgrade']);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
}

/** Starts a fault proxy in front of 127.0.0.1:`target` (over TLS with `tls`: the target's files). */
export async function startFaultProxy(opts: { target: number; tls?: TlsFiles | null }): Promise<FaultProxy> {
  const tls = opts.tls ?? null;
  const upstream = tls ? new https.Agent({ keepAlive: true, ca: fs.readFileSync(tls.ca) }) : new http.Agent({ keepAlive: true });
  const send = tls ? https.request : http.request;
  const faults: Array<{ match: RequestMatch; what: Misbehaviour; left: number }> = [];
  let records: RequestRecord[] = [];
  /** Requests served per client connection, and connections to close at their next request. */
  const served = new WeakMap<Socket, number>();
  const doomed = new WeakSet<Socket>();
  const sockets = new Set<Socket>();

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const agent = String(req.headers['user-agent'] ?? '');
    const n = served.get(socket) ?? 0;
    served.set(socket, n + 1);
    const rec: RequestRecord = { kind: kindOf(method, url), by: askerOf(agent), method, path: url, agent, reused: n > 0, fault: null, forwarded: false };
    records.push(rec);
    if (doomed.has(socket)) {
      rec.fault = 'closed-idle';
      socket.destroy();
      return;
    }
    const i = faults.findIndex((f) => f.left > 0 && matches(f.match, rec));
    const what = i >= 0 ? faults[i].what : null;
    if (i >= 0 && --faults[i].left === 0) faults.splice(i, 1);
    rec.fault = what?.kind ?? null;
    if (what?.kind === 'close') {
      socket.destroy();
      return;
    }
    if (what?.kind === 'status') {
      req.resume();
      res.writeHead(what.status, what.headers ?? {});
      res.end(what.body ?? '');
      return;
    }
    rec.forwarded = true;
    const up = send({ host: '127.0.0.1', port: opts.target, method, path: url, headers: endToEnd(req.headers), agent: upstream }, (ures) => {
      const status = ures.statusCode ?? 502;
      if (what?.kind === 'cut') {
        // The whole answer first (the server has done its part), then only its first bytes go out.
        const chunks: Buffer[] = [];
        ures.on('data', (c: Buffer) => chunks.push(c));
        ures.on('end', () => {
          const body = Buffer.concat(chunks);
          const head = [`HTTP/1.1 ${status} ${ures.statusMessage ?? ''}`, ...Object.entries(endToEnd(ures.headers)).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x}`)), `Content-Length: ${body.length}`, '', ''].join('\r\n');
          const wire = Buffer.concat([Buffer.from(head, 'latin1'), body]);
          const keep = what.bytes >= 0 ? what.bytes : Math.max(0, wire.length + what.bytes);
          if (keep > 0) socket.write(wire.subarray(0, Math.min(keep, wire.length)));
          socket.destroy();
        });
        return;
      }
      res.writeHead(status, ures.statusMessage, endToEnd(ures.headers));
      ures.pipe(res);
      if (what?.kind === 'close-idle') {
        res.on('finish', () => {
          if (what.when === 'at-once') socket.destroy();
          else doomed.add(socket);
        });
      }
    });
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`fault proxy: ${err.message}\n`);
    });
    req.pipe(up);
  };

  const server = tls ? https.createServer({ key: fs.readFileSync(tls.key), cert: fs.readFileSync(tls.cert) }, handle) : http.createServer(handle);
  // Idle connections stay until the client closes them; no deadline for slow requests either.
  server.keepAliveTimeout = 0;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // (Over TLS the socket a request sees is the TLS one: it is the one to record and close.)
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, s) => s.destroy());
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });

  let closing: Promise<void> | null = null;
  return {
    port,
    url(url) {
      const u = new URL(url);
      u.port = String(port);
      return u.href;
    },
    fault(match, what, times = 1) {
      faults.push({ match, what, left: times });
    },
    clearFaults() {
      faults.length = 0;
    },
    get requests() {
      return records;
    },
    count(m) {
      return records.filter((r) => matches(m, r) && (m.forwarded === undefined || m.forwarded === r.forwarded) && (m.fault === undefined || m.fault === r.fault)).length;
    },
    reset() {
      records = [];
      faults.length = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        upstream.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
