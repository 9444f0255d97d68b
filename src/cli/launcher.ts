/**
 * Starts the CLI bundle with a V8 code cache. Every agent command is a new
 * process, so start-up is most of a CLI call's cost; compiling the bundle
 * from cached bytecode roughly halves the load time (see bench). The cache
 * is rebuilt whenever Node or the bundle changes, and kept in the user's
 * cache directory when the install is not writable for this user.
 *
 * One cache per command (`status`, `t add`, ...): a run compiles lazily only
 * the functions it calls, so a cache written after `status` lacks what
 * `t add` needs, and one cache holding every command's functions costs each
 * command more to load than the few it lacks (measured: 40 % more cache,
 * 6 ms more for `status`). This file must stand alone: `hooks install`
 * copies it beside the hook's bundle.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import Module from 'node:module';

type Entry = {
  run(argv?: string[]): Promise<number>;
  runOriginal(kind: 'runner' | 'server'): Promise<number>;
  /** Streams that still hold output (see fd-output.ts). */
  pendingStreams?(): NodeJS.WriteStream[];
  /** Which code this run went through (see entry.ts); undefined when no command ran. */
  codeCacheKey?(): string | undefined;
};

/** Command groups: their second word names the command. Kept equal to the CLI's rooms (a test checks). */
export const GROUP_WORDS: ReadonlySet<string> = new Set(['workstream', 'ws', 'task', 't', 'agent', 'a', 'lock', 'l', 'kb', 'knowledge', 'events', 'e', 'hooks']);
/** The CLI's global options that take a value (kept equal to the program's: a test checks). */
export const GLOBAL_VALUES: ReadonlySet<string> = new Set(['--repo', '--branch', '--remote', '--as', '--max-attempts', '--stale-after']);
/** At most this many caches per bundle: a new command beyond them runs without one. */
const MAX_CACHES = 40;

/**
 * The command a command line names, as a file name: `status`, `t-add`;
 * `none` without one. A group's command is the word right after the group
 * (`events --last 5` is `events`: the 5 is an option's value, and a key per
 * value would be a cache per call).
 */
export function commandKey(argv: readonly string[]): string {
  let first = -1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      first = i + 1 < argv.length ? i + 1 : -1;
      break;
    }
    if (!a.startsWith('-')) {
      first = i;
      break;
    }
    if (GLOBAL_VALUES.has(a)) i++;
  }
  if (first < 0) return 'none';
  const words = [argv[first]];
  const next = argv[first + 1];
  if (GROUP_WORDS.has(argv[first]) && next !== undefined && !next.startsWith('-')) words.push(next);
  return words.join('-').replace(/[^A-Za-z0-9-]+/g, '_').slice(0, 40) || 'none';
}

/**
 * The cache file: one line naming the code paths it holds (JSON), then V8's
 * cached data. A run through a path not listed writes the cache again after
 * it ran, and then it holds both (the functions it was loaded with stay
 * compiled). Paths and data are one file, renamed into place whole, so they
 * always agree.
 */
function readCache(cacheFile: string): { data: Buffer; paths: string[] } | undefined {
  try {
    const file = fs.readFileSync(cacheFile);
    const nl = file.indexOf(10);
    const paths = JSON.parse(file.toString('utf8', 0, nl)) as unknown;
    if (!Array.isArray(paths) || !paths.every((k) => typeof k === 'string')) return undefined;
    return { data: file.subarray(nl + 1), paths };
  } catch {
    return undefined;
  }
}

/**
 * Where the caches of `file` live: `.cache` beside it, or, when this user
 * cannot write there (a package installed by root, used by agents running
 * as themselves), a directory of the user's own cache named after where
 * the bundle is.
 */
function cacheDir(file: string): string {
  const own = path.join(path.dirname(file), '.cache');
  try {
    fs.accessSync(fs.existsSync(own) ? own : path.dirname(file), fs.constants.W_OK);
    return own;
  } catch {
    const home = process.env.HOME || (require('node:os') as typeof import('node:os')).homedir();
    const base = process.env.XDG_CACHE_HOME || path.join(home, '.cache');
    // FNV-1a of the bundle's directory: installs in different places keep apart.
    let h = 0x811c9dc5;
    const where = path.dirname(path.resolve(file));
    for (let i = 0; i < where.length; i++) h = Math.imul(h ^ where.charCodeAt(i), 0x01000193);
    return path.join(base, 'git-orchestrator', (h >>> 0).toString(16).padStart(8, '0'));
  }
}

function loadBundle(file: string, command: string): { entry: Entry; save: () => void } {
  // Bundles are ASCII (the build checks): read as Latin-1, without decoding UTF-8 (1-2 ms of 800 KB).
  const source = fs.readFileSync(file, 'latin1');
  const stat = fs.statSync(file);
  const dir = cacheDir(file);
  // The bundle as it is now (a copy that kept the mtime still has a new ctime): caches of others are stale.
  const prefix = `${path.basename(file)}-${process.version}-${process.arch}-${stat.size}-${Math.floor(stat.mtimeMs)}-${Math.floor(stat.ctimeMs)}-`;
  const cacheFile = path.join(dir, `${prefix}${command}.v8`);
  const cached = readCache(cacheFile);
  const wrapper = (Module as unknown as { wrap(s: string): string }).wrap(source);
  const script = new vm.Script(wrapper, { filename: file, cachedData: cached?.data });
  const fn = script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
  const mod = { exports: {} as Entry };
  const req = Module.createRequire(file);
  fn.call(mod.exports, mod.exports, req, mod, file, path.dirname(file));
  const save = () => {
    // A bundle without keys (the hook's) has one path; the CLI's only when a command ran (not for a typo).
    const key = mod.exports.codeCacheKey ? mod.exports.codeCacheKey() : '';
    if (key === undefined) return;
    const fresh = !cached || script.cachedDataRejected;
    if (!fresh && cached.paths.includes(key)) return;
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(dir, { recursive: true });
      if (!cached) {
        // A new cache: first remove those of earlier bundles or Node versions; at most MAX_CACHES of this one.
        const names = fs.readdirSync(dir);
        for (const n of names) if (!n.startsWith(prefix) && n.startsWith(path.basename(file) + '-')) fs.rmSync(path.join(dir, n), { force: true });
        if (names.filter((n) => n.startsWith(prefix) && n.endsWith('.v8')).length >= MAX_CACHES) return;
      }
      const paths = [...(fresh ? [] : cached.paths), key];
      fs.writeFileSync(tmp, Buffer.concat([Buffer.from(JSON.stringify(paths) + '\n'), script.createCachedData()]));
      fs.renameSync(tmp, cacheFile);
    } catch {
      /* read-only install (or a full disk): run without a cache */
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        /* nothing was written */
      }
    }
  };
  return { entry: mod.exports, save };
}

/** Runs the CLI, or with `original` one of the original package's other commands (orchestrator-runner, orchestrator-server). */
export function launch(bundle: string, original?: 'runner' | 'server'): void {
  const { entry, save } = loadBundle(bundle, original ?? commandKey(process.argv.slice(2)));
  (original ? entry.runOriginal(original) : entry.run()).then(
    (code) => {
      // After the run, the cache also holds the functions this command compiled lazily.
      save();
      const exit = () => process.exit(code);
      // The CLI writes to its descriptors and names the streams it fell back to; a bundle that
      // does not say (the hook's) may have used process.stdout.
      const pending = entry.pendingStreams ? entry.pendingStreams() : process.stdout.writableLength ? [process.stdout] : [];
      if (!pending.length) exit();
      else {
        // An empty write's callback runs once everything written before it is out ('drain' comes only
        // after a write that filled the buffer).
        let left = pending.length;
        for (const s of pending) s.write('', () => --left || exit());
      }
    },
    (err: unknown) => {
      process.stderr.write(`Error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
