/**
 * What every command of one CLI run shares: the I/O seam, the global
 * options, the session they open (once per run) and the printer.
 */
import type { Command } from 'commander';
import { OrchestratorError, withoutOfflineHint } from '../errors.js';
import { parseIntStrict } from '../domain/rules.js';
import { Session, type OpenOptions } from '../api/session.js';

export interface GlobalOptions {
  repo?: string;
  branch?: string;
  remote?: string;
  offline?: boolean;
  allowOffline?: boolean;
  as?: string;
  json?: boolean;
  maxAttempts?: string;
  staleAfter?: string;
}

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin: () => Promise<string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Path of this CLI's entry script (to start more of itself). */
  bin: string;
  /** Whether standard output is a terminal (the serve command shows its token only there). */
  isTTY?: boolean;
  /** Told by a command that keeps running (serve, mcp): its output must never block the process. */
  keepsRunning?: () => void;
}

/** What an action produced: the JSON value and the text for people. */
export interface Output {
  json: unknown;
  text: string;
}

/** An exit status without another message (the command printed its own). */
export class ExitQuietly {
  constructor(readonly code: number) {}
}

/** An integer option within its range: `--port 99999` is refused naming the range (INVALID_INPUT, exit 2). */
export function intOption(value: string, label: string, min: number, max: number, unit = ''): number {
  const n = parseIntStrict(value, label);
  if (n < min || n > max) throw new OrchestratorError('INVALID_INPUT', `${label} ${n} is out of range: use ${min}-${max}${unit}`, { field: label, min, max });
  return n;
}

/** Attempts under contention: at least one, at most a thousand. */
export const MAX_ATTEMPTS = 1000;
/** The longest stale window, in seconds: a hundred years (longer ones overflow the arithmetic of dates). */
export const MAX_STALE_SECONDS = 100 * 365 * 24 * 3600;

/** Seconds on the command line, milliseconds inside. */
export function staleMs(seconds: string | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  return intOption(seconds, 'stale-after', 1, MAX_STALE_SECONDS, ' seconds (a hundred years)') * 1000;
}

export class CliContext {
  private opened: Session | null = null;

  constructor(
    readonly io: Io,
    readonly program: Command,
  ) {}

  globals(): GlobalOptions {
    return this.program.opts<GlobalOptions>();
  }

  get json(): boolean {
    return !!this.globals().json;
  }

  /** The library's options from the global flags and the environment (every command, serve included). */
  openOptions(): OpenOptions {
    const g = this.globals();
    const env = this.io.env;
    const remote = g.remote ?? env.ORCHESTRATOR_REMOTE;
    const flag = (v: string | undefined) => v === '1' || v === 'true';
    return {
      // ORCHESTRATOR_DIR: the original's data directory variable, honoured as the repository holding it.
      repo: g.repo ?? env.ORCHESTRATOR_REPO ?? env.ORCHESTRATOR_DIR ?? this.io.cwd,
      branch: g.branch ?? env.ORCHESTRATOR_BRANCH,
      remote: remote === undefined ? undefined : remote === 'none' ? null : remote,
      agent: g.as,
      env,
      offline: g.offline ?? flag(env.ORCHESTRATOR_OFFLINE),
      allowOffline: g.allowOffline ?? flag(env.ORCHESTRATOR_ALLOW_OFFLINE),
      onWarning: (message) => this.io.stderr(`warning: ${message}\n`),
      onOffline: (reason) => this.io.stderr(`warning: working offline (${withoutOfflineHint(reason)}); run "orchestrator sync" when the remote is back\n`),
      maxAttempts: g.maxAttempts !== undefined ? intOption(g.maxAttempts, 'max-attempts', 1, MAX_ATTEMPTS) : undefined,
      staleMs: staleMs(g.staleAfter ?? env.ORCHESTRATOR_STALE_AFTER),
    };
  }

  /** The session of this run (opened on first use). */
  session(extra: Partial<OpenOptions> = {}): Session {
    this.opened ??= new Session({ ...this.openOptions(), oneShot: !extra.longRunning, ...extra });
    return this.opened;
  }

  /** How to call this CLI again on the same branch, for briefs (no paths). */
  selfCommand(): string {
    const branch = this.globals().branch ?? this.io.env.ORCHESTRATOR_BRANCH;
    return `orchestrator${branch && branch !== 'orchestrator' ? ` --branch ${branch}` : ''}`;
  }

  print(out: Output): void {
    if (this.json) this.io.stdout(JSON.stringify(out.json, null, 2) + '\n');
    else if (out.text) this.io.stdout(out.text.endsWith('\n') ? out.text : out.text + '\n');
  }

  close(): void {
    this.opened?.close();
  }
}
