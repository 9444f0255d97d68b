/**
 * Reuse of ssh connections. Opening an ssh connection (key exchange, the
 * server forking a session) costs more than the git work of a small push;
 * OpenSSH's connection sharing (ControlMaster) lets every fetch and push of
 * every orchestrator process run as a channel over one connection that
 * stays open for a minute after its last use.
 *
 * The options are added to the user's own ssh command (GIT_SSH_COMMAND, or
 * core.sshCommand), unless that command sets its own Control options or is
 * not OpenSSH. The sockets live in a private directory of this user.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Does git reach this remote URL through ssh? */
export function isSshUrl(url: string): boolean {
  if (/^(ssh|git\+ssh|ssh\+git):\/\//i.test(url)) return true;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) return false;
  // scp-like "[user@]host:path" (a colon before any slash, and not a drive letter).
  const colon = url.indexOf(':');
  const slash = url.indexOf('/');
  return colon > 1 && (slash < 0 || colon < slash);
}

/** A directory only this user can use, for control sockets; null when none can be made safely. */
export function controlDir(): string | null {
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  const base = process.env.XDG_RUNTIME_DIR && path.isAbsolute(process.env.XDG_RUNTIME_DIR) ? process.env.XDG_RUNTIME_DIR : (require('node:os') as typeof import('node:os')).tmpdir();
  const dir = path.join(base, `orchestrator-ssh-${uid < 0 ? 'user' : uid}`);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return null;
  }
  try {
    const st = fs.lstatSync(dir);
    // Not a symlink, ours, and nobody else may enter: anyone who can reach a socket can use the connection.
    if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o077) !== 0) return null;
  } catch {
    return null;
  }
  // Unix socket paths are short (about 104 bytes): %C is a 40-character hash.
  return dir.length + 41 < 100 ? dir : null;
}

/**
 * The ssh command git should use: `base` (the user's, or plain ssh) with
 * connection sharing added, or null to leave git's own choice alone.
 */
export function sharingSshCommand(base: string | undefined, dir: string | null): string | null {
  if (!dir) return null;
  const command = base?.trim() || 'ssh';
  if (/\bControl(Master|Path|Persist)\b/i.test(command)) return null;
  // Only OpenSSH takes -o options: the first word must name ssh itself.
  const program = /^(?:'([^']*)'|"([^"]*)"|(\S+))/.exec(command);
  const name = path.basename(program?.[1] ?? program?.[2] ?? program?.[3] ?? '');
  if (name !== 'ssh') return null;
  const quoted = `'${dir.replace(/'/g, `'\\''`)}/%C'`;
  return `${command} -o ControlMaster=auto -o ControlPersist=60 -o ControlPath=${quoted}`;
}
