/**
 * A real ssh git server for a test: OpenSSH's sshd on a free 127.0.0.1 port
 * serving bare repositories through gitolite, the access-control layer many
 * teams run, with host and user keys made for the run. It needs no user of
 * its own: gitolite's home is a temp directory (HOME for `gitolite setup`,
 * `SetEnv HOME` for the sessions sshd starts) and sshd lets the current user
 * log in with the generated key, whose authorized_keys line gitolite wrote
 * (a forced `gitolite-shell test` command: the key is gitolite user "test").
 *
 * Repositories are gitolite "wild" repos: `createRepo` creates one as user
 * "test" (`gitolite create`), who has RW+ on it; clients reach it as
 * `ssh://<login>@127.0.0.1:<port>/<name>`.
 *
 * Server-side hooks on a gitolite-managed repository (gitolite3 3.6 as
 * Debian ships it; both ways are proven in test/servers.test.ts):
 *  - A hook written straight into the bare repository (`hooks/pre-receive`,
 *    `hooks/post-receive`, ...) is run and left alone: gitolite only manages
 *    `hooks/update` (its access check, a symlink into ~/.gitolite/hooks/
 *    common) and whatever the admin puts in $LOCAL_CODE/hooks/common, and
 *    `gitolite setup` re-links only those. Such a hook runs with cwd = the
 *    bare repository, GIT_DIR=., HOME = gitolite's home, GL_USER (the
 *    gitolite user), GL_REPO and a PATH of /usr/lib/git-core, gitolite's
 *    bin directory and the system directories (not the client's PATH).
 *  - gitolite's own way, "repo-specific hooks": the rc file names
 *    LOCAL_CODE and enables 'repo-specific-hooks'; the script goes in
 *    $LOCAL_CODE/hooks/repo-specific/<name>; gitolite.conf says
 *    `repo <repo>` / `option hook.pre-receive = <name>`; `gitolite setup`
 *    (or compile + trigger POST_COMPILE) installs it. gitolite then REPLACES
 *    hooks/pre-receive with a symlink to its multi-hook driver, which runs
 *    each listed hook (`hooks/pre-receive.h00-<name>`, $0 is that link) and
 *    refuses the push when one fails: a hook written straight into the
 *    repository is lost on such a repo. `addRepoHook` does this.
 * The pre-receive hook runs before gitolite's update hook, so it also sees
 * pushes that gitolite's rules would refuse.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cloneInto, requireBinary, run, serverDir, serverEnv, shellQuote, startDaemon, withFreePort, serversAvailable, type Availability, type Daemon } from './daemon.js';
import { startLatencyProxy, type LatencyProxy } from './latency-proxy.js';

export { ServerUnavailableError, serversAvailable, type Availability } from './daemon.js';

/** The gitolite user whose key the clients use. */
export const SSH_TEST_USER = 'test';

export interface SshServerOptions {
  /**
   * One-way delay of a latency proxy in front of sshd, in ms. With a delay
   * above 0, `url()` goes through the proxy (`server.proxy`), whose delay
   * can be changed while running.
   */
  delayMs?: number;
  /** Put the latency proxy in front even with no delay (to count connections). */
  proxy?: boolean;
  /**
   * sshd's limits on connections not yet logged in (MaxStartups) and on
   * sessions over one connection (MaxSessions). The suite's bursts of 16+
   * clients get raised ones (256) unless told: 'stock' keeps sshd's own
   * (10:30:100 and 10), as a stock server has.
   */
  limits?: 'stock' | { maxStartups: string; maxSessions: number };
}

export interface SshServer {
  readonly kind: 'ssh';
  /** sshd's own port on 127.0.0.1. */
  readonly port: number;
  /** The latency proxy in front of sshd, when one was asked for; `url()` goes through it. */
  readonly proxy: LatencyProxy | null;
  /** The login name in urls (the user the tests run as: sshd can only let that one in). */
  readonly login: string;
  /** The server's temp directory (gitolite's home: .gitolite.rc, .gitolite/, repositories/). */
  readonly root: string;
  /**
   * A GIT_SSH_COMMAND for git clients: the run's client key, the run's
   * known_hosts (the host key is pinned: no prompt, no trust on first use),
   * BatchMode, no user or system ssh config. Append options to it freely
   * (`${sshCommand} -o ControlMaster=auto ...`).
   */
  readonly sshCommand: string;
  /** Environment for git clients: `{ GIT_SSH_COMMAND: sshCommand }`. */
  readonly env: Record<string, string>;
  /** Private key of gitolite user "test" (0600). */
  readonly clientKey: string;
  /** `ssh://<login>@127.0.0.1:<port>/<repo>`, through the proxy when there is one. */
  url(repo: string): string;
  /** Creates an empty bare repository (HEAD -> main) where user "test" has RW+; resolves to its url. */
  createRepo(name: string): Promise<string>;
  /** The bare repository on disk (to install a hook or inspect refs). */
  repoPath(name: string): string;
  /**
   * Clones a repository into `dir` and sets the clone's core.sshCommand to
   * `sshCommand`, so git (and the library) in it need no environment; a
   * fixed identity, no automatic gc. Resolves to `dir`.
   */
  clone(repo: string, dir: string): Promise<string>;
  /**
   * Adds a server-side hook the way gitolite means it (repo-specific hooks,
   * see the header): `script` is the hook's text (with its #! line).
   */
  addRepoHook(repo: string, hook: 'pre-receive' | 'post-receive' | 'post-update', name: string, script: string): Promise<void>;
  /** Runs `gitolite <args>` on the server side as its admin (e.g. `setup` to re-link every hook). */
  gitolite(...args: string[]): Promise<string>;
  /** What sshd printed (connections, errors). */
  log(): string;
  /** Stops sshd, its sessions and the proxy; removes the temp directory. */
  close(): Promise<void>;
}

const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

function checkName(name: string): string {
  if (!REPO_NAME.test(name) || name.includes('..') || name.endsWith('.git') || name.endsWith('/')) {
    throw new Error(`repository name ${JSON.stringify(name)} is not valid here (letters, digits, . _ - /; no .git suffix)`);
  }
  return name;
}

// gitolite's rc, trimmed to what the tests use: each enabled feature adds
// perl processes to every setup and repo creation (gitweb, daemon and
// git-config triggers cost seconds on a busy machine).
const RC = `%RC = (
    UMASK                   =>  0077,
    GIT_CONFIG_KEYS         =>  '',
    LOG_EXTRA               =>  1,
    ROLES                   =>  { READERS => 1, WRITERS => 1 },
    LOCAL_CODE              =>  "$ENV{HOME}/local",
    ENABLE                  =>  [ 'help', 'info', 'create', 'ssh-authkeys', 'repo-specific-hooks' ],
);
1;
`;

const CONF = `repo gitolite-admin
    RW+     =   ${SSH_TEST_USER}

repo [a-zA-Z0-9].*
    C       =   ${SSH_TEST_USER}
    RW+     =   CREATOR
`;

/**
 * Starts sshd + gitolite on 127.0.0.1 (see the header).
 * Throws ServerUnavailableError when a program is missing.
 */
export async function startSshServer(opts: SshServerOptions = {}): Promise<SshServer> {
  const sshd = requireBinary('ssh', 'sshd');
  const ssh = requireBinary('ssh', 'ssh');
  const keygen = requireBinary('ssh', 'ssh-keygen');
  const gitolite = requireBinary('ssh', 'gitolite');
  requireBinary('ssh', 'git');

  const root = serverDir('orc-sshd-');
  const env = serverEnv(root);
  let daemon: Daemon | null = null;
  let proxy: LatencyProxy | null = null;
  try {
    // gitolite's home, prepared before `gitolite setup` so it keeps our rc and conf.
    fs.mkdirSync(path.join(root, '.gitolite', 'conf'), { recursive: true });
    fs.mkdirSync(path.join(root, '.gitolite', 'logs'), { recursive: true });
    fs.mkdirSync(path.join(root, 'local', 'hooks', 'repo-specific'), { recursive: true });
    fs.writeFileSync(path.join(root, '.gitolite.rc'), RC);
    fs.writeFileSync(path.join(root, '.gitolite', 'conf', 'gitolite.conf'), CONF);
    // Server-side git reads this (HOME): new repos on main, no background gc in tests.
    fs.writeFileSync(path.join(root, '.gitconfig'), '[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n[receive]\n\tautogc = false\n');

    const keys = path.join(root, 'keys');
    fs.mkdirSync(keys);
    const hostKey = path.join(keys, 'host');
    const clientKey = path.join(keys, SSH_TEST_USER);
    await Promise.all([
      run(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'orchestrator-test-host', '-f', hostKey], { env }),
      run(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', SSH_TEST_USER, '-f', clientKey], { env }),
    ]);
    // Writes .ssh/authorized_keys with gitolite-shell as the key's forced command.
    await run(gitolite, ['setup', '-pk', `${clientKey}.pub`], { cwd: root, env });
    const authorizedKeys = path.join(root, '.ssh', 'authorized_keys');
    if (!fs.existsSync(authorizedKeys)) throw new Error(`gitolite setup did not write ${authorizedKeys}`);

    const alias = 'orchestrator-test-sshd';
    const knownHosts = path.join(keys, 'known_hosts');
    fs.writeFileSync(knownHosts, `${alias} ${fs.readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    // Pinned to the run's host key whatever port (sshd's or the proxy's) the client dials.
    const sshCommand = [
      ssh,
      '-F', 'none',
      '-i', clientKey,
      '-o', 'IdentitiesOnly=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', `HostKeyAlias=${alias}`,
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes',
      '-o', 'LogLevel=ERROR',
    ].map(shellQuote).join(' ');

    const asRoot = process.getuid?.() === 0;
    // sshd as root insists on its privilege separation directory.
    if (asRoot) fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const login = os.userInfo().username;
    const configFile = path.join(root, 'sshd_config');
    const started = await withFreePort(async (port) => {
      fs.writeFileSync(
        configFile,
        [
          `ListenAddress 127.0.0.1`,
          `Port ${port}`,
          `HostKey ${hostKey}`,
          `PidFile ${path.join(root, 'sshd.pid')}`,
          `AuthorizedKeysFile ${authorizedKeys}`,
          `AllowUsers ${login}`,
          `PubkeyAuthentication yes`,
          `PasswordAuthentication no`,
          `KbdInteractiveAuthentication no`,
          `UsePAM no`,
          // The temp directory's modes are not sshd's business here.
          `StrictModes no`,
          `PermitRootLogin prohibit-password`,
          // gitolite-shell finds its rc and repositories through HOME.
          `SetEnv HOME=${root}`,
          `PermitUserEnvironment no`,
          `UseDNS no`,
          `PrintMotd no`,
          // Bursts of 16+ clients connect at once; reused connections multiplex sessions.
          ...(opts.limits === 'stock'
            ? []
            : opts.limits
              ? [`MaxStartups ${opts.limits.maxStartups}`, `MaxSessions ${opts.limits.maxSessions}`]
              : [`MaxStartups 256:30:512`, `MaxSessions 256`]),
          `MaxAuthTries 3`,
          `LoginGraceTime 30`,
          `LogLevel INFO`,
          '',
        ].join('\n'),
      );
      const d = await startDaemon({
        name: 'sshd',
        command: sshd,
        args: ['-D', '-e', '-f', configFile],
        env: serverEnv(root),
        port,
        readyOutput: /Server listening on 127\.0\.0\.1 port/,
        portInUse: /Address already in use|Cannot bind any address/,
      });
      return { port, daemon: d };
    });
    daemon = started.daemon;
    const port = started.port;
    if (opts.proxy || (opts.delayMs ?? 0) > 0) proxy = await startLatencyProxy({ target: port, delayMs: opts.delayMs ?? 0 });

    const repoPath = (name: string) => path.join(root, 'repositories', `${checkName(name)}.git`);
    const glEnv = { ...env, GL_USER: SSH_TEST_USER };
    let closing: Promise<void> | null = null;
    const server: SshServer = {
      kind: 'ssh',
      port,
      proxy,
      login,
      root,
      sshCommand,
      env: { GIT_SSH_COMMAND: sshCommand },
      clientKey,
      url: (repo) => `ssh://${login}@127.0.0.1:${proxy ? proxy.port : port}/${checkName(repo)}`,
      async createRepo(name) {
        const dir = repoPath(name);
        if (fs.existsSync(dir)) throw new Error(`repository ${name} already exists at ${dir}`);
        // A wild repo, created by "test" as gitolite would on `ssh ... create <name>`.
        await run(gitolite, ['create', name], { cwd: root, env: glEnv });
        if (!fs.existsSync(path.join(dir, 'HEAD'))) throw new Error(`gitolite create ${name} made no repository at ${dir}`);
        return server.url(name);
      },
      repoPath,
      clone: (repo, dir) => cloneInto(server.url(repo), dir, server.env, { 'core.sshCommand': sshCommand }),
      async addRepoHook(repo, hook, name, script) {
        if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) throw new Error(`hook name ${JSON.stringify(name)} is not valid (letters, digits, _ -)`);
        const file = path.join(root, 'local', 'hooks', 'repo-specific', name);
        fs.writeFileSync(file, script, { mode: 0o755 });
        fs.appendFileSync(path.join(root, '.gitolite', 'conf', 'gitolite.conf'), `\nrepo ${checkName(repo)}\n    option hook.${hook} = ${name}\n`);
        await run(gitolite, ['setup'], { cwd: root, env });
      },
      gitolite: (...args) => run(gitolite, args, { cwd: root, env }),
      log: () => daemon!.output(),
      close() {
        closing ??= (async () => {
          await proxy?.close();
          await daemon!.stop();
          fs.rmSync(root, { recursive: true, force: true });
        })();
        return closing;
      },
    };
    return server;
  } catch (err) {
    await proxy?.close();
    await daemon?.stop();
    fs.rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

/**
 * `sshCommand` with OpenSSH connection reuse: the first command opens a
 * master connection (socket in `controlDir`, a short path: unix sockets
 * are limited to ~100 bytes) that later commands share, kept
 * `persistSeconds` after the last one. The master ends with the server.
 */
export function withControlMaster(sshCommand: string, controlDir: string, persistSeconds = 60): string {
  return `${sshCommand} -o ControlMaster=auto -o ${shellQuote(`ControlPath=${path.join(controlDir, '%C')}`)} -o ControlPersist=${persistSeconds}`;
}

/** Whether sshd + gitolite can run here (see Availability.skip for tests). */
export function sshServerAvailable(): Availability {
  return serversAvailable('ssh');
}
