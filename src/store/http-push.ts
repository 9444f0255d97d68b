/**
 * A push over smart HTTP in process: the same session as over ssh (see
 * push-session.ts), carried by two requests on one kept-alive connection.
 *
 * git push over https starts two processes (git, git-remote-https), opens a
 * connection (and a TLS session), asks for the ref list, often once more
 * with credentials after the server's 401, and only then sends the pack. A
 * session asks for the list ahead of time, on a connection it keeps, with
 * the credentials it learned the first time; its push is then one request.
 * The server judges it as it judges git push's: each ref's update names the
 * value the ref must still have, checked under the ref's lock.
 *
 * Used only where git would send the push to this very url and talk to it
 * the plain way: no pushurl or insteadOf, no `http.*` settings (proxies,
 * certificates, extra headers, cookies) and no proxy or TLS variables in
 * the environment. Credentials come from the url, else from git's
 * credential helpers (`git credential fill`, never prompting). Anything
 * else, and any answer this does not take before the push was sent (a
 * redirect, a 401 after credentials, a certificate Node does not trust),
 * leaves the push to git.
 */
import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { demux, judgeReport, PktReader, pushRequest, readAdvertisement, readReport, SESSION_IDLE_MS, type Advertisement, type ReceiveSession, type RefUpdate, type SessionOutcome } from './push-session.js';

/** Some servers speak the smart protocol only to clients that name themselves git. */
const USER_AGENT = 'git/orchestrator';
/** A push answered by nothing for this long is broken (the server may still take it). */
const PUSH_SILENCE_MS = 120_000;

/** Variables that make git's HTTP differ from a plain request: proxies, curl's own settings. */
const HTTP_VARIABLE = /^(https?_proxy|all_proxy|GIT_HTTP_|GIT_CURL_|GIT_PROXY_|GIT_TRACE_CURL$)/i;
/** Over TLS also: certificates of the client's own, no verification, other versions or ciphers (a CA file is taken: GIT_SSL_CAINFO). */
const TLS_VARIABLE = /^GIT_SSL_(?!CAINFO$)/;

/** Whether the environment changes how git speaks HTTP to this url (then git pushes itself). */
export function httpEnvironmentSet(env: NodeJS.ProcessEnv, https: boolean): boolean {
  if (Object.keys(env).some((k) => env[k] && (HTTP_VARIABLE.test(k) || (https && TLS_VARIABLE.test(k))))) return true;
  // `git -c http.x=...` and GIT_CONFIG_KEY_<n> reach git through the environment.
  if (/(^|\s)'http\./i.test(env.GIT_CONFIG_PARAMETERS ?? '')) return true;
  const count = Number(env.GIT_CONFIG_COUNT ?? 0);
  for (let i = 0; i < count && i < 1000; i++) if (/^http\./i.test(env[`GIT_CONFIG_KEY_${i}`] ?? '')) return true;
  return false;
}

/** Where a session sends its requests, and how it proves who it is. */
export class HttpEndpoint {
  /** The repository's url without credentials, query or trailing slash. */
  readonly base: string;
  readonly agent: Agent;
  private readonly mod: typeof import('node:http');
  /** The Authorization header: from the url, else once the server asked, from git's credential helpers. */
  private authorization: string | undefined;
  private asked: Promise<string | undefined> | null = null;

  /** null when `url` is not http(s) or cannot be parsed. */
  static of(url: string, credentials: (url: URL) => Promise<{ username: string; password: string } | null>): HttpEndpoint | null {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return null;
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash) return null;
    return new HttpEndpoint(u, credentials);
  }

  private constructor(
    url: URL,
    private readonly credentials: (url: URL) => Promise<{ username: string; password: string } | null>,
  ) {
    this.mod = require(url.protocol === 'https:' ? 'node:https' : 'node:http') as typeof import('node:http');
    if (url.password) this.authorization = basic(decodeURIComponent(url.username), decodeURIComponent(url.password));
    this.user = url.username ? decodeURIComponent(url.username) : '';
    const bare = new URL(url.href);
    bare.username = '';
    bare.password = '';
    this.base = bare.href.replace(/\/+$/, '');
    // One connection, kept between requests; an idle one is closed after a session's life. The
    // certificates git is told to trust (GIT_SSL_CAINFO) are the ones trusted here too.
    const caFile = url.protocol === 'https:' ? process.env.GIT_SSL_CAINFO : undefined;
    const ca = caFile ? (require('node:fs') as typeof import('node:fs')).readFileSync(caFile) : undefined;
    this.agent = new (this.mod.Agent as typeof import('node:https').Agent)({ keepAlive: true, maxSockets: 1, timeout: SESSION_IDLE_MS, ...(ca ? { ca } : {}) });
  }

  private readonly user: string;

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'User-Agent': USER_AGENT, Pragma: 'no-cache', ...(this.authorization ? { Authorization: this.authorization } : {}), ...extra };
  }

  /** After a 401 without credentials: asks git's credential helpers once; whether there are credentials to try now. */
  async learnCredentials(): Promise<boolean> {
    if (this.authorization) return false;
    this.asked ??= (async () => {
      const u = new URL(this.base);
      if (this.user) u.username = this.user;
      const c = await this.credentials(u).catch(() => null);
      return c ? basic(c.username, c.password) : undefined;
    })();
    this.authorization = await this.asked;
    return !!this.authorization;
  }

  request(method: 'GET' | 'POST', path: string, headers: Record<string, string>): ClientRequest {
    return this.mod.request(`${this.base}${path}`, { method, headers: this.headers(headers), agent: this.agent });
  }

  close(): void {
    this.agent.destroy();
  }
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** A request's response, or the error it failed with (and whether it went out on a kept connection). */
function send(req: ClientRequest, body?: Buffer): Promise<{ res: IncomingMessage } | { err: Error & { code?: string }; reused: boolean }> {
  return new Promise((resolve) => {
    req.once('response', (res) => resolve({ res }));
    req.once('error', (err) => resolve({ err, reused: req.reusedSocket }));
    req.end(body);
  });
}

/** The whole body of a response, fed to a pkt-line reader as it arrives. */
function feed(res: IncomingMessage, into: PktReader): Promise<void> {
  return new Promise((resolve) => {
    res.on('data', (c: Buffer) => into.add(c));
    const done = () => {
      into.end();
      resolve();
    };
    res.once('end', done);
    res.once('error', done);
    res.once('close', done);
  });
}

/** A response's media type, without parameters. */
function mediaType(res: IncomingMessage): string {
  return (res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * A failure that may pass (the network, a server restarting): this session
 * is lost, the next may work. Others (a certificate, a protocol error) will
 * not pass: git pushes from now on.
 */
function passing(err: Error & { code?: string }): boolean {
  // EPROTO: TLS could not be agreed on (a server that does not speak it on that port, no common version).
  return /^E[A-Z]+$/.test(err.code ?? '') && err.code !== 'EPROTO';
}

/** A session to receive-pack over smart HTTP (see the header). */
export class HttpPushSession implements ReceiveSession {
  private used = false;
  private readonly opened = Date.now();
  private readonly idle: NodeJS.Timeout;
  private readonly advertised: Promise<Advertisement | 'unsupported' | null>;
  /** The request asking for the ref list, and its socket (not holding the process while it waits). */
  private listing: ClientRequest | null = null;
  private listed = false;
  private socket: Socket | null = null;

  constructor(private readonly endpoint: HttpEndpoint) {
    this.advertised = this.advertise()
      .catch(() => null)
      .finally(() => (this.listed = true));
    this.idle = setTimeout(() => this.close(), SESSION_IDLE_MS);
    this.idle.unref();
  }

  private async advertise(): Promise<Advertisement | 'unsupported' | null> {
    for (let round = 0; ; round++) {
      const req = this.endpoint.request('GET', '/info/refs?service=git-receive-pack', { Accept: '*/*' });
      // A list that does not come within a session's life: this session is lost (the next may do better).
      req.setTimeout(SESSION_IDLE_MS, () => req.destroy(Object.assign(new Error('no ref list from the server'), { code: 'ETIMEDOUT' })));
      this.listing = req;
      req.on('socket', (s) => {
        this.socket = s;
        if (!this.used) s.unref();
      });
      const r = await send(req);
      if ('err' in r) return passing(r.err) ? null : 'unsupported';
      const { res } = r;
      if (res.statusCode === 401 && round === 0 && (await this.endpoint.learnCredentials())) {
        res.resume();
        continue;
      }
      if (res.statusCode !== 200 || mediaType(res) !== 'application/x-git-receive-pack-advertisement') {
        res.resume();
        // A server error may pass; anything else (a redirect, no access, a dumb server) is git's to handle.
        return (res.statusCode ?? 0) >= 500 ? null : 'unsupported';
      }
      const reader = new PktReader();
      const body = feed(res, reader);
      const adv = await readAdvertisement(reader, true).catch(() => null);
      await body;
      // A list cut short (the connection broke) may pass; one the server sent whole but we cannot use will not.
      return adv ?? (res.complete ? 'unsupported' : null);
    }
  }

  usable(): boolean {
    return !this.used && Date.now() - this.opened < SESSION_IDLE_MS;
  }

  async push(updates: RefUpdate[], pack: Buffer): Promise<SessionOutcome> {
    if (!this.usable()) return { kind: 'closed' };
    this.used = true;
    clearTimeout(this.idle);
    // The list may still be on its way: its connection now holds the process.
    this.socket?.ref();
    const adv = await this.advertised;
    if (adv === 'unsupported') return { kind: 'unsupported' };
    if (!adv) return { kind: 'closed' };
    const request = pushRequest(adv, updates, pack, { sideband: true });
    if ('kind' in request) return request;
    const headers = { 'Content-Type': 'application/x-git-receive-pack-request', Accept: 'application/x-git-receive-pack-result', 'Content-Length': String(request.body.length) };
    let r = await this.post(headers, request.body);
    // A kept connection the server had closed as the request went out: it read nothing; once more on a new one.
    // (A reset does not prove that it read nothing: a refusal of the second is judged below.)
    const again = 'err' in r && r.reused && (r.err.code === 'ECONNRESET' || r.err.code === 'EPIPE');
    if (again) r = await this.post(headers, request.body);
    if ('err' in r) return { kind: 'broken', stderr: r.err.message };
    const { res } = r;
    if (res.statusCode !== 200 || mediaType(res) !== 'application/x-git-receive-pack-result') {
      res.resume();
      // Refused before receive-pack ran (credentials, access, size): git push says why; a server error may have run it.
      return (res.statusCode ?? 0) >= 500 ? { kind: 'broken', stderr: `HTTP ${res.statusCode}` } : { kind: 'unsupported' };
    }
    const outer = new PktReader();
    const body = feed(res, outer);
    let said = '';
    let reader = outer;
    if (request.sideband) {
      reader = new PktReader();
      void demux(outer, reader, (text) => (said += text));
    }
    const report = await readReport(reader, request.sendsPack);
    const outcome = await judgeReport(report, request.updates, request.sendsPack, async () => {
      await body;
      return said;
    });
    // The first request may have reached the server before its connection broke (a proxy or a server
    // that died after receive-pack ran): a refusal of the second then only says that the refs moved,
    // maybe by the first. Taken for a race, it would be planned and pushed again: the refs decide.
    if (again && outcome.kind === 'report' && !outcome.ok) return this.landedBefore(request.updates, outcome.stderr);
    return outcome;
  }

  /**
   * After a retried push was refused: ok when the server's refs hold every
   * update (the first request landed: the branch is at our own commit);
   * else broken, as the first request's connection was (it may still land).
   */
  private async landedBefore(updates: RefUpdate[], stderr: string): Promise<SessionOutcome> {
    const adv = await this.advertise().catch(() => null);
    if (adv && adv !== 'unsupported' && updates.every((u) => (adv.refs.get(u.ref) ?? null) === u.new)) {
      return judgeReport({ unpack: 'ok', verdicts: new Map(updates.map((u) => [u.ref, 'ok'])) }, updates, true, async () => '');
    }
    return { kind: 'broken', stderr: stderr || 'the connection closed before the server reported, and the push sent again was refused' };
  }

  private post(headers: Record<string, string>, body: Buffer) {
    const req = this.endpoint.request('POST', '/git-receive-pack', headers);
    req.setTimeout(PUSH_SILENCE_MS, () => req.destroy(new Error(`no answer from the server in ${PUSH_SILENCE_MS / 1000} s`)));
    return send(req, body);
  }

  close(): void {
    clearTimeout(this.idle);
    if (this.used) return;
    this.used = true;
    // A list still on its way is not waited for.
    if (this.listing && !this.listed) this.listing.destroy();
  }
}
