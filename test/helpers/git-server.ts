/**
 * Either real git server behind one call, for tests and benchmarks that run
 * the same scenario over ssh (sshd + gitolite) and smart HTTP (nginx).
 */
import { startHttpServer, type HttpServer, type HttpServerOptions } from './http-server.js';
import { startSshServer, type SshServer, type SshServerOptions } from './ssh-server.js';

export { serversAvailable, ServerUnavailableError, type Availability, type ServerKind } from './daemon.js';
export type { LatencyProxy } from './latency-proxy.js';
export type { HttpServer, SshServer };

export type GitServer = SshServer | HttpServer;

/** Starts the ssh or the http git server; both share kind, port, proxy, env, url, createRepo, repoPath, clone, log and close. */
export function startGitServer(kind: 'ssh', opts?: SshServerOptions): Promise<SshServer>;
export function startGitServer(kind: 'http', opts?: HttpServerOptions): Promise<HttpServer>;
export function startGitServer(kind: 'ssh' | 'http', opts?: SshServerOptions & HttpServerOptions): Promise<GitServer>;
export function startGitServer(kind: 'ssh' | 'http', opts: SshServerOptions & HttpServerOptions = {}): Promise<GitServer> {
  return kind === 'ssh' ? startSshServer(opts) : startHttpServer(opts);
}
