/**
 * The remotes configured in a repository's config file, read the way git
 * reads the file itself (sections, quoted subsections, values with quotes,
 * escapes and comments), following includes. Reading it here costs a
 * file read, where a git process or a general git library costs start-up
 * time on every command.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

// [section "subsection"] with an optional comment; section names are case-insensitive.
const SECTION_LINE = /^\[([A-Za-z0-9-.]+)(?:[ \t]+"((?:[^"\\]|\\.)*)")?\][ \t]*(?:[#;].*)?$/;
// A header with a variable after it on the same line: [section "sub"] name = value.
const HEADER_THEN_VARIABLE = /^(\[[A-Za-z0-9-.]+(?:[ \t]+"(?:[^"\\]|\\.)*")?\])[ \t]*([A-Za-z].*)$/;
// name = value, or a bare name (true); names are case-insensitive.
const VARIABLE_LINE = /^([A-Za-z][A-Za-z0-9-]*)(?:\s*=\s*(.*))?$/;
const ESCAPES: Record<string, string> = { t: '\t', b: '\b', n: '\n', '\\': '\\', '"': '"' };

/** A value as git's parse_value reads it: quotes removed, comments cut, escapes replaced, trailing blanks trimmed. */
export function parseConfigValue(raw: string): string {
  let value = '';
  let pending = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (!quoted && /[ \t\r\v\f]/.test(c)) {
      if (value !== '') pending += c;
      continue;
    }
    if (!quoted && (c === '#' || c === ';')) break;
    value += pending;
    pending = '';
    if (c === '\\' && raw[i + 1] !== undefined && ESCAPES[raw[i + 1]] !== undefined) value += ESCAPES[raw[++i]];
    else if (c === '"') quoted = !quoted;
    else value += c;
  }
  return value;
}

/** A configured remote: its name, the url git fetches from, and whether that url may be used as it is. */
export interface ConfiguredRemote {
  remote: string;
  url: string;
  /**
   * False when git would push elsewhere than `url` (a pushurl, or an
   * insteadOf rule that rewrites it): only git's own push may be used then.
   */
  direct: boolean;
}

/**
 * The remotes of the repository whose config lives in `commondir` that have
 * a url, as git reads them: from the system's, the user's and then the
 * repository's config files, following their includes, in the order they
 * first appear; a remote's url is the first one given (the one `git fetch`
 * uses), and an empty `url =` clears those given before it (as git does
 * since 2.46; earlier versions refuse to fetch).
 */
export function listRemotes(commondir: string, gitdir = commondir): ConfiguredRemote[] {
  const remotes = new Map<string, { url?: string; pushurl: boolean }>();
  const rewrites: string[] = [];
  for (const file of [...configFiles(commondir)].reverse()) {
    readEntries(file, gitdir, 0, (section, sub, key, value) => {
      if (section === 'url' && sub !== undefined && (key === 'insteadof' || key === 'pushinsteadof') && value) rewrites.push(value);
      if (section !== 'remote' || sub === undefined) return;
      let r = remotes.get(sub);
      if (!r) remotes.set(sub, (r = { pushurl: false }));
      if (key === 'url') {
        if (value === '') r.url = undefined;
        else r.url ??= value;
      } else if (key === 'pushurl') r.pushurl = value !== '';
    });
  }
  const out: ConfiguredRemote[] = [];
  for (const [remote, { url, pushurl }] of remotes) {
    if (url !== undefined) out.push({ remote, url, direct: !pushurl && !rewrites.some((prefix) => url.startsWith(prefix)) });
  }
  return out;
}

/** Whether any variable of `section` (with or without a subsection: `http.proxy`, `http.<url>.extraHeader`) is set in the repository's config files. */
export function sectionSet(commondir: string, section: string, gitdir = commondir): boolean {
  let found = false;
  for (const file of configFiles(commondir)) {
    readEntries(file, gitdir, 0, (s) => {
      if (s === section) found = true;
    });
    if (found) return true;
  }
  return false;
}

// git stops following includes this deep (a file that includes itself).
const MAX_INCLUDE_DEPTH = 10;

/**
 * The last value of `section.key` (no subsection) in one config file and the
 * files it includes (`[include] path`, and `[includeIf "gitdir:..."] path`
 * when `gitdir`, the repository's git directory, matches), read in git's
 * order; undefined when unset.
 */
export function configValue(file: string, section: string, key: string, gitdir?: string): string | undefined {
  return readValues(file, section, key, gitdir, 0);
}

function readValues(file: string, section: string, key: string, gitdir: string | undefined, depth: number): string | undefined {
  let value: string | undefined;
  readEntries(file, gitdir, depth, (s, sub, k, v) => {
    if (s === section && sub === undefined && k === key) value = v;
  });
  return value;
}

/**
 * Visits every variable of one config file in order (section and key lower
 * case, the subsection as written), an included file's where its include
 * stands. A file that cannot be read has none.
 */
function readEntries(file: string, gitdir: string | undefined, depth: number, visit: (section: string, sub: string | undefined, key: string, value: string) => void): void {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return;
  }
  let section = '';
  let sub: string | undefined;
  // Where an include applies: 'always', or the condition of an includeIf.
  let include: string | null = null;
  for (const line of text.split('\n')) {
    let trimmed = line.trim();
    // A variable may follow its section header on the same line.
    const header = HEADER_THEN_VARIABLE.exec(trimmed);
    const s = SECTION_LINE.exec(header ? header[1] : trimmed);
    if (s) {
      section = s[1].toLowerCase();
      sub = s[2] === undefined ? undefined : s[2].replace(/\\(.)/g, '$1');
      // The old form [section.subsection]: the subsection is case-insensitive.
      const dot = section.indexOf('.');
      if (sub === undefined && dot > 0) {
        sub = section.slice(dot + 1);
        section = section.slice(0, dot);
      }
      include = section === 'include' && sub === undefined ? 'always' : section === 'includeif' && sub !== undefined ? sub : null;
      if (!header) continue;
      trimmed = header[2];
    }
    const v = VARIABLE_LINE.exec(trimmed);
    if (!v) continue;
    const name = v[1].toLowerCase();
    if (include !== null && name === 'path') {
      const target = v[2] === undefined ? '' : parseConfigValue(v[2]);
      if (depth < MAX_INCLUDE_DEPTH && target && (include === 'always' || includeApplies(include, gitdir, file))) readEntries(includePath(target, file), gitdir, depth + 1, visit);
      continue;
    }
    visit(section, sub, name, parseConfigValue(v[2] ?? 'true'));
  }
}

function home(): string {
  return process.env.HOME ?? (require('node:os') as typeof import('node:os')).homedir();
}

/** An include's path: "~/" is the home directory, a relative path is relative to the including file. */
function includePath(target: string, from: string): string {
  if (target === '~' || target.startsWith('~/')) return path.join(home(), target.slice(1));
  return path.resolve(path.dirname(from), target);
}

/** Whether an includeIf condition holds: "gitdir:" and "gitdir/i:" are judged, others (onbranch:, hasconfig:) are not met. */
function includeApplies(condition: string, gitdir: string | undefined, from: string): boolean {
  const m = /^gitdir(\/i)?:(.*)$/s.exec(condition);
  if (!m || gitdir === undefined) return false;
  let pattern = m[2];
  // (path.join keeps a trailing slash.)
  if (pattern.startsWith('~/')) pattern = path.join(home(), pattern.slice(2));
  else if (pattern.startsWith('./')) pattern = path.join(path.dirname(from), pattern.slice(2));
  if (!path.isAbsolute(pattern)) pattern = '**/' + pattern;
  if (pattern.endsWith('/')) pattern += '**';
  const re = globRegExp(pattern, !!m[1]);
  const candidates = [gitdir];
  try {
    candidates.push(fs.realpathSync(gitdir));
  } catch {
    /* judged on the path as given */
  }
  return candidates.some((d) => re.test(d));
}

/** A wildmatch pattern as git uses it for paths: "**" crosses directories, "*" and "?" do not. */
function globRegExp(pattern: string, ignoreCase: boolean): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      const slashAfter = pattern[i + 2] === '/';
      re += slashAfter ? '(?:.*/)?' : '.*';
      i += slashAfter ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        re += '[' + pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp('^' + re + '$', ignoreCase ? 'i' : '');
}

/** A boolean environment variable as git reads it (unset, empty, 0, false, no, off: false). */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && !/^(|0|false|no|off)$/i.test(value.trim());
}

/** The config files git reads for a repository, strongest first: its own, then the user's, then the system's. */
export function configFiles(commondir: string): string[] {
  const xdg = process.env.XDG_CONFIG_HOME ?? path.join(home(), '.config');
  const files = [path.join(commondir, 'config')];
  if (process.env.GIT_CONFIG_GLOBAL !== undefined) files.push(process.env.GIT_CONFIG_GLOBAL);
  else files.push(path.join(home(), '.gitconfig'), path.join(xdg, 'git', 'config'));
  if (!isTrue(process.env.GIT_CONFIG_NOSYSTEM)) files.push(process.env.GIT_CONFIG_SYSTEM ?? '/etc/gitconfig');
  return files;
}

/**
 * Who this clone is, as git would sign a commit made here: GIT_COMMITTER_NAME
 * and GIT_COMMITTER_EMAIL, else user.name and user.email from the strongest
 * config file that sets them, else the login and host names.
 */
export function committerIdentity(commondir: string, gitdir = commondir): { name: string; email: string } {
  const files = configFiles(commondir);
  const first = (key: string) => {
    for (const f of files) {
      const v = configValue(f, 'user', key, gitdir);
      if (v !== undefined && v !== '') return v;
    }
    return undefined;
  };
  const os = require('node:os') as typeof import('node:os');
  let login = 'orchestrator';
  try {
    login = os.userInfo().username || login;
  } catch {
    /* no user entry (a container) */
  }
  // Angle brackets and newlines would break the commit header; git strips them too.
  const clean = (s: string) => s.replace(/[<>\n\r]/g, '').trim();
  const name = clean(process.env.GIT_COMMITTER_NAME ?? first('name') ?? login) || login;
  const email = clean(process.env.GIT_COMMITTER_EMAIL ?? first('email') ?? process.env.EMAIL ?? `${login}@${os.hostname()}`);
  return { name, email };
}
