/**
 * The remotes configured in a repository's config file, read the way git
 * reads the file itself (sections, quoted subsections, values with quotes,
 * escapes and comments); includes are not followed. Reading it here costs a
 * file read, where a git process or a general git library costs start-up
 * time on every command.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

// [section "subsection"] with an optional comment; section names are case-insensitive.
const SECTION_LINE = /^\[([A-Za-z0-9-.]+)(?:[ \t]+"((?:[^"\\]|\\.)*)")?\][ \t]*(?:[#;].*)?$/;
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

/** The remotes of the repository whose config lives in `commondir` that have a url (the last one given), in the order they appear. */
export function listRemotes(commondir: string): Array<{ remote: string; url: string }> {
  let text: string;
  try {
    text = fs.readFileSync(path.join(commondir, 'config'), 'utf8');
  } catch {
    return [];
  }
  const urls = new Map<string, string | undefined>();
  let remote: string | null = null;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    const section = SECTION_LINE.exec(trimmed);
    if (section) {
      remote = section[1].toLowerCase() === 'remote' && section[2] !== undefined ? section[2].replace(/\\(.)/g, '$1') : null;
      if (remote !== null && !urls.has(remote)) urls.set(remote, undefined);
      continue;
    }
    if (remote === null) continue;
    const variable = VARIABLE_LINE.exec(trimmed);
    if (variable && variable[1].toLowerCase() === 'url') urls.set(remote, parseConfigValue(variable[2] ?? 'true'));
  }
  return [...urls].filter((e): e is [string, string] => e[1] !== undefined).map(([name, url]) => ({ remote: name, url }));
}
