/**
 * Plumbing shared by the real servers the tests start (sshd + gitolite,
 * nginx + fcgiwrap): finding their binaries, a free loopback port, starting a
 * foreground daemon and waiting until it serves, and stopping it with every
 * process it forked. Plain Node (no test framework): benchmarks import it too.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** A server cannot start here: a program it needs is missing. */
export class ServerUnavailableError extends Error {
  readonly code = 'SERVER_UNAVAILABLE';
  constructor(
    readonly server: ServerKind,
    readonly missing: string[],
  ) {
    super(unavailableMessage(server, missing));
    this.name = 'ServerUnavailableError';
  }
}

export type ServerKind = 'ssh' | 'http';

/** The programs each server needs, and the Debian package that brings each one. */
const NEEDS: Record<ServerKind, Array<{ bin: string; pkg: string }>> = {
  ssh: [
    { bin: 'git', pkg: 'git' },
    { bin: 'sshd', pkg: 'openssh-server' },
    { bin: 'ssh', pkg: 'openssh-client' },
    { bin: 'ssh-keygen', pkg: 'openssh-client' },
    { bin: 'gitolite', pkg: 'gitolite3' },
  ],
  http: [
    { bin: 'git', pkg: 'git' },
    { bin: 'git-http-backend', pkg: 'git' },
    { bin: 'nginx', pkg: 'nginx' },
    { bin: 'fcgiwrap', pkg: 'fcgiwrap' },
  ],
};

/** Programs only some configurations need (the http server over TLS: openssl, for its certificates). */
const ALSO: Array<{ bin: string; pkg: string }> = [{ bin: 'openssl', pkg: 'openssl' }];

function unavailableMessage(server: ServerKind, missing: string[]): string {
  const pkgs = [...new Set([...NEEDS[server], ...ALSO].filter((n) => missing.includes(n.bin)).map((n) => n.pkg))];
  return `cannot start the ${server} git server: ${missing.join(', ')} not found (looked in PATH, /usr/sbin, /sbin and git --exec-path); install them with "apt-get install ${pkgs.join(' ')}" (as .ci/run does)`;
}

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
let gitExecPath: string | null | undefined;

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The absolute path of a program, or null. Looks in PATH and the sbin
 * directories (sshd, nginx and fcgiwrap live there, often outside a user's
 * PATH), and git's own exec path for git's helpers (git-http-backend).
 */
export function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SBIN];
  if (name.startsWith('git-')) {
    if (gitExecPath === undefined) {
      const git = findBinary('git');
      try {
        gitExecPath = git ? execFileSync(git, ['--exec-path'], { encoding: 'utf8' }).trim() : null;
      } catch {
        gitExecPath = null;
      }
    }
    if (gitExecPath) dirs.unshift(gitExecPath);
  }
  for (const dir of dirs) {
    const file = path.join(dir, name);
    if (executable(file)) return file;
  }
  return null;
}

/** The absolute path of a program a server needs; throws ServerUnavailableError without it. */
export function requireBinary(server: ServerKind, name: string): string {
  const found = findBinary(name);
  if (!found) throw new ServerUnavailableError(server, [name]);
  return found;
}

export interface Availability {
  /** Every program the server needs is here. */
  available: boolean;
  missing: string[];
  /** Why it cannot run (with how to install), or null. */
  reason: string | null;
  /**
   * A test may skip: programs are missing and this is not CI. In CI
   * (`CI` set) this is always false, so the suite runs and fails with
   * `reason` instead of skipping silently.
   */
  skip: boolean;
}

/** Whether the ssh or http server can start here, with the programs `also` (see ALSO) too (see `skip` for tests). */
export function serversAvailable(server: ServerKind, also: string[] = []): Availability {
  const missing = [...NEEDS[server].map((n) => n.bin), ...also].filter((bin) => !findBinary(bin));
  const reason = missing.length ? unavailableMessage(server, missing) : null;
  return { available: !reason, missing, reason, skip: !!reason && !process.env.CI };
}

/** A port on 127.0.0.1 nobody listens on (the kernel's pick; a daemon may lose it in a race, see `withFreePort`). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Thrown by `startDaemon` when the daemon could not bind its port. */
export class PortInUseError extends Error {}

/** Runs `start` on a free port, again on another one if the port was taken meanwhile. */
export async function withFreePort<T>(start: (port: number) => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start(await freePort());
    } catch (err) {
      if (!(err instanceof PortInUseError) || i >= attempts) throw err;
    }
  }
}

export interface DaemonOptions {
  /** For messages: "sshd", "nginx". */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Ready when this matches the daemon's output (stdout + stderr)... */
  readyOutput?: RegExp;
  /** ...and when a TCP connection to 127.0.0.1:port is accepted... */
  port?: number;
  /** ...and when this unix socket accepts a connection. */
  socket?: string;
  /** Output that means the port was taken (retry on another one). */
  portInUse?: RegExp;
  /** Give up after this long (default 15 s; the machines are shared). */
  timeoutMs?: number;
}

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  /** The last 64 KiB of what the daemon printed. */
  output(): string;
  /** Whether it is still running. */
  running(): boolean;
  /** Ends the daemon and every process it started (sessions, workers); waits for them. */
  stop(): Promise<void>;
}

const live = new Set<Daemon & { kill(): void }>();
let exitHookInstalled = false;

/** If the test process ends without close(), no server outlives it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const d of live) d.kill();
  });
}

/** Pids of every process below `pid` (Linux /proc), children first found first. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(e), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [child, parent] of parentOf) {
      if (parent === p && !out.includes(child)) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; it is gone for our purposes.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // already gone
    }
  }
}

function connects(opts: net.NetConnectOpts): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(opts);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a daemon in the foreground (never let it fork into the background)
 * and resolves once it serves. Rejects with its output when it exits first
 * (PortInUseError when its port was taken) or is not ready in time.
 */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  installExitHook();
  const child: ChildProcess = spawn(opts.command, opts.args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (c: Buffer) => {
    out += c.toString('utf8');
    if (out.length > 65536) out = out.slice(-65536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  let spawnError: Error | null = null;
  const exit = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      exited = true;
      resolve();
    });
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  const pid = child.pid ?? -1;
  let stopping: Promise<void> | null = null;
  const daemon = {
    name: opts.name,
    pid,
    output: () => out,
    running: () => !exited,
    kill() {
      signal([...descendants(pid), pid], 'SIGKILL');
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        live.delete(daemon);
        // Sessions and workers first found while the parent still links them.
        const tree = exited ? [] : descendants(pid);
        signal([pid, ...tree], 'SIGTERM');
        const deadline = Date.now() + 3000;
        while ((!exited || tree.some(alive)) && Date.now() < deadline) await sleep(10);
        const left = [...(exited ? [] : [pid]), ...tree.filter(alive)];
        if (left.length) {
          signal(left, 'SIGKILL');
          await Promise.race([exit, sleep(1000)]);
        }
      })();
      return stopping;
    },
  };
  live.add(daemon);

  const timeoutMs = opts.timeoutMs ?? 15_000;
  const started = Date.now();
  const failure = (why: string) => `${opts.name} ${why}:\n${out.trim() || '(no output)'}\n(command: ${opts.command} ${opts.args.join(' ')})`;
  for (;;) {
    if (exited) {
      live.delete(daemon);
      if (spawnError) throw new Error(failure(`could not start (${(spawnError as Error).message})`));
      if (opts.portInUse?.test(out)) throw new PortInUseError(failure('could not bind its port'));
      throw new Error(failure(`exited with status ${child.exitCode ?? child.signalCode} before it was ready`));
    }
    const ready =
      (!opts.readyOutput || opts.readyOutput.test(out)) &&
      (opts.port === undefined || (await connects({ host: '127.0.0.1', port: opts.port }))) &&
      (opts.socket === undefined || (fs.existsSync(opts.socket) && (await connects({ path: opts.socket }))));
    if (ready && !exited) return daemon;
    if (Date.now() - started > timeoutMs) {
      await daemon.stop();
      throw new Error(failure(`was not ready after ${timeoutMs} ms`));
    }
    await sleep(5);
  }
}

/** Runs a program to completion; rejects with its output on failure. */
export function run(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(command)} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`.trim()));
      else resolve(stdout);
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** A temp directory for one server's files (config, keys, repositories, logs). */
export function serverDir(prefix: string): string {
  // Real path: daemons compare paths in their configs with what they resolve.
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

/** Quotes a word for a POSIX shell (GIT_SSH_COMMAND is run through one). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\-+=.,/:@%]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Environment for server-side git and helpers: no user or system config leaks in. */
export function serverEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_') && !k.startsWith('SSH_')) env[k] = v;
  return { ...env, HOME: home, USER: os.userInfo().username, LC_ALL: 'C', GIT_CONFIG_NOSYSTEM: '1', ...extra };
}

/**
 * Clones `url` into `dir` (made if missing) with `env`, and configures the
 * clone for tests and for the library: a fixed identity, no automatic gc,
 * plus `config` (e.g. core.sshCommand, so later git commands need no env).
 */
export async function cloneInto(url: string, dir: string, env: Record<string, string>, config: Record<string, string> = {}): Promise<string> {
  const git = findBinary('git') ?? 'git';
  const childEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', ...env };
  await run(git, ['clone', '-q', url, dir], { env: childEnv });
  const settings = { 'user.name': 'Test', 'user.email': 'test@example.com', 'gc.auto': '0', 'maintenance.loose-objects.auto': '0', ...config };
  for (const [k, v] of Object.entries(settings)) await run(git, ['config', k, v], { cwd: dir, env: childEnv });
  return dir;
}
