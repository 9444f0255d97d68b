/**
 * A real smart-HTTP git server for a test, as an https remote behaves (with
 * `tls`, over TLS too): nginx on a free 127.0.0.1 port with basic auth in front of
 * `git http-backend`, run through fcgiwrap on a unix socket of the run. Push
 * is enabled (http-backend allows receive-pack once nginx has authenticated
 * the user: REMOTE_USER). No system service files: nginx gets its own
 * prefix, pid file, error log and temp directories in a temp directory and
 * runs in the foreground; as root its workers run as root too, so they can
 * reach fcgiwrap's socket.
 *
 * With `tls`, openssl makes a throwaway CA and a certificate for 127.0.0.1
 * (an IP address in its subjectAltName) in the temp directory, nginx speaks
 * TLS on its port, `url()` is https and `env` has GIT_SSL_CAINFO, so that
 * git (and an in-process push, which takes the same variable) trusts it.
 *
 * Hooks: a hook written into `repoPath(name)/hooks/` runs on push, with
 * cwd = the bare repository, HOME = the server's temp directory, the test
 * process's PATH and REMOTE_USER = the authenticated user.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cloneInto, requireBinary, run, serverDir, serverEnv, serversAvailable, startDaemon, withFreePort, type Availability, type Daemon } from './daemon.js';
import { startLatencyProxy, type LatencyProxy } from './latency-proxy.js';

export { ServerUnavailableError, serversAvailable, type Availability } from './daemon.js';

export const HTTP_TEST_USER = 'test';

export interface HttpServerOptions {
  /** One-way delay of a latency proxy in front of nginx, in ms; `url()` then goes through it. */
  delayMs?: number;
  /** Put the latency proxy in front even with no delay (to count connections). */
  proxy?: boolean;
  /** fcgiwrap processes, i.e. git requests served at once (default 16). */
  workers?: number;
  /** Serve https with a certificate of a CA made for the run (see the header); needs openssl. */
  tls?: boolean;
}

/** The files of a TLS server: its CA's certificate (what clients trust), its own certificate and key. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface HttpServer {
  readonly kind: 'http';
  /** nginx's own port on 127.0.0.1. */
  readonly port: number;
  /** The latency proxy in front of nginx, when one was asked for; `url()` goes through it. */
  readonly proxy: LatencyProxy | null;
  readonly root: string;
  readonly username: string;
  /** Made for the run. */
  readonly password: string;
  /** Environment for git clients: never prompt for a password; with TLS, trust the run's CA. */
  readonly env: Record<string, string>;
  /** With `tls`: the CA, certificate and key files (a proxy in front may serve the same certificate). */
  readonly tls: TlsFiles | null;
  /**
   * `http://test:<password>@127.0.0.1:<port>/<repo>.git` (https with `tls`), through the proxy
   * when there is one; `{ auth: false }` leaves the credentials out.
   */
  url(repo: string, opts?: { auth?: boolean }): string;
  /** Creates an empty bare repository (HEAD -> main); resolves to its url. */
  createRepo(name: string): Promise<string>;
  /** The bare repository on disk (to install a hook or inspect refs). */
  repoPath(name: string): string;
  /**
   * Clones a repository into `dir` (credentials in its remote url, so git
   * and the library in it need no environment); a fixed identity, no
   * automatic gc. Resolves to `dir`.
   */
  clone(repo: string, dir: string): Promise<string>;
  /** What nginx and fcgiwrap printed (errors, a hook's stderr goes to the client instead). */
  log(): string;
  /** Stops nginx, fcgiwrap and the proxy; removes the temp directory. */
  close(): Promise<void>;
}

const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

function checkName(name: string): string {
  if (!REPO_NAME.test(name) || name.includes('..') || name.endsWith('.git') || name.endsWith('/')) {
    throw new Error(`repository name ${JSON.stringify(name)} is not valid here (letters, digits, . _ - /; no .git suffix)`);
  }
  return name;
}

/** An htpasswd line nginx accepts, without an external tool: salted SHA-1 ({SSHA}). */
function htpasswdLine(user: string, password: string): string {
  const salt = crypto.randomBytes(8);
  const digest = crypto.createHash('sha1').update(password).update(salt).digest();
  return `${user}:{SSHA}${Buffer.concat([digest, salt]).toString('base64')}\n`;
}

/**
 * Starts nginx + fcgiwrap + git http-backend on 127.0.0.1 (see the header).
 * Throws ServerUnavailableError when a program is missing.
 */
export async function startHttpServer(opts: HttpServerOptions = {}): Promise<HttpServer> {
  const nginx = requireBinary('http', 'nginx');
  const fcgiwrap = requireBinary('http', 'fcgiwrap');
  const backend = requireBinary('http', 'git-http-backend');
  const git = requireBinary('http', 'git');
  const openssl = opts.tls ? requireBinary('http', 'openssl') : null;

  const root = serverDir('orc-httpd-');
  const env = serverEnv(root);
  const daemons: Daemon[] = [];
  let proxy: LatencyProxy | null = null;
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await proxy?.close();
      // nginx first: no new requests reach fcgiwrap while it stops.
      for (const d of [...daemons].reverse()) await d.stop();
      fs.rmSync(root, { recursive: true, force: true });
    })());
  try {
    const repos = path.join(root, 'repositories');
    const temp = path.join(root, 'nginx-temp');
    fs.mkdirSync(repos);
    fs.mkdirSync(temp);
    fs.writeFileSync(path.join(root, '.gitconfig'), '[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n[receive]\n\tautogc = false\n');
    const password = crypto.randomBytes(12).toString('hex');
    const htpasswd = path.join(root, 'htpasswd');
    fs.writeFileSync(htpasswd, htpasswdLine(HTTP_TEST_USER, password));
    const tls = openssl ? await makeCertificates(openssl, root, env) : null;

    // fcgiwrap hands a CGI only the FastCGI parameters nginx sends (below), not its own environment.
    const socket = path.join(root, 'fcgiwrap.sock');
    daemons.push(
      await startDaemon({
        name: 'fcgiwrap',
        command: fcgiwrap,
        args: ['-f', '-c', String(opts.workers ?? 16), '-s', `unix:${socket}`],
        env,
        cwd: root,
        socket,
      }),
    );

    const asRoot = process.getuid?.() === 0;
    const params: Array<[string, string]> = [
      ['SCRIPT_FILENAME', backend],
      ['GIT_PROJECT_ROOT', repos],
      ['GIT_HTTP_EXPORT_ALL', '1'],
      ['PATH_INFO', '$uri'],
      ['QUERY_STRING', '$query_string'],
      ['REQUEST_METHOD', '$request_method'],
      ['CONTENT_TYPE', '$content_type'],
      ['CONTENT_LENGTH', '$content_length'],
      ['REMOTE_USER', '$remote_user'],
      ['REMOTE_ADDR', '$remote_addr'],
      ['SERVER_PROTOCOL', '$server_protocol'],
      ['GATEWAY_INTERFACE', 'CGI/1.1'],
      ['HOME', root],
      ['PATH', process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'],
      ['GIT_CONFIG_NOSYSTEM', '1'],
      ['LC_ALL', 'C'],
    ];
    const q = (v: string) => `"${v.replace(/["\\]/g, '\\$&')}"`;
    const configFile = path.join(root, 'nginx.conf');
    const started = await withFreePort(async (port) => {
      fs.writeFileSync(
        configFile,
        `# nginx for one test run: everything under ${root}
${asRoot ? 'user root root;\n' : ''}daemon off;
master_process on;
worker_processes 2;
pid ${q(path.join(root, 'nginx.pid'))};
error_log stderr notice;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${q(path.join(temp, 'body'))};
    proxy_temp_path ${q(path.join(temp, 'proxy'))};
    fastcgi_temp_path ${q(path.join(temp, 'fastcgi'))};
    uwsgi_temp_path ${q(path.join(temp, 'uwsgi'))};
    scgi_temp_path ${q(path.join(temp, 'scgi'))};
    # A push is one request body of any size.
    client_max_body_size 0;
    server {
        listen 127.0.0.1:${port}${tls ? ' ssl' : ''};
        server_name localhost;${tls ? `\n        ssl_certificate ${q(tls.cert)};\n        ssl_certificate_key ${q(tls.key)};` : ''}
        location / {
            auth_basic "git";
            auth_basic_user_file ${q(htpasswd)};
            fastcgi_pass unix:${socket};
            fastcgi_read_timeout 300s;
${params.map(([k, v]) => `            fastcgi_param ${k} ${v.startsWith('$') ? v : q(v)};`).join('\n')}
        }
    }
}
`,
      );
      const d = await startDaemon({
        name: 'nginx',
        command: nginx,
        args: ['-p', `${root}/`, '-c', configFile, '-e', 'stderr'],
        env,
        cwd: root,
        port,
        readyOutput: /start worker process/,
        portInUse: /Address already in use/,
      });
      return { port, daemon: d };
    });
    daemons.push(started.daemon);
    const port = started.port;
    if (opts.proxy || (opts.delayMs ?? 0) > 0) proxy = await startLatencyProxy({ target: port, delayMs: opts.delayMs ?? 0 });

    const repoPath = (name: string) => path.join(repos, `${checkName(name)}.git`);
    const server: HttpServer = {
      kind: 'http',
      port,
      proxy,
      root,
      username: HTTP_TEST_USER,
      password,
      env: { GIT_TERMINAL_PROMPT: '0', ...(tls ? { GIT_SSL_CAINFO: tls.ca } : {}) },
      tls,
      url(repo, o = {}) {
        const auth = o.auth === false ? '' : `${HTTP_TEST_USER}:${password}@`;
        return `${tls ? 'https' : 'http'}://${auth}127.0.0.1:${proxy ? proxy.port : port}/${checkName(repo)}.git`;
      },
      async createRepo(name) {
        const dir = repoPath(name);
        if (fs.existsSync(dir)) throw new Error(`repository ${name} already exists at ${dir}`);
        fs.mkdirSync(path.dirname(dir), { recursive: true });
        await run(git, ['init', '-q', '--bare', '-b', 'main', dir], { env });
        return server.url(name);
      },
      repoPath,
      clone: (repo, dir) => cloneInto(server.url(repo), dir, server.env),
      log: () => daemons.map((d) => `--- ${d.name}\n${d.output()}`).join('\n'),
      close: stop,
    };
    return server;
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A CA made for the run and a certificate it signed for 127.0.0.1 (as an IP
 * address: clients check the address against the subjectAltName), in `dir`.
 * EC keys: made at once.
 */
async function makeCertificates(openssl: string, dir: string, env: NodeJS.ProcessEnv): Promise<TlsFiles> {
  const file = (name: string) => path.join(dir, name);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(openssl, ['req', '-x509', ...key, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '7', '-subj', '/CN=orchestrator test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { env, cwd: dir });
  await run(openssl, ['req', ...key, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1'], { env, cwd: dir });
  fs.writeFileSync(file('server.ext'), 'subjectAltName = IP:127.0.0.1\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\n');
  const serial = `0x${crypto.randomBytes(8).toString('hex')}`;
  await run(openssl, ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-set_serial', serial, '-days', '7', '-extfile', file('server.ext'), '-out', file('server.pem')], { env, cwd: dir });
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

/** Whether nginx + fcgiwrap + git http-backend (and with `tls`, openssl) can run here (see Availability.skip for tests). */
export function httpServerAvailable(opts: { tls?: boolean } = {}): Availability {
  return serversAvailable('http', opts.tls ? ['openssl'] : []);
}
