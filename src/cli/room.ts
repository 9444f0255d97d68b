/**
 * A room: one command group of the CLI (`task`, `lock`, ...). Its commands
 * are built from the operations' declarations (name, aliases, positional
 * arguments, options with their defaults, help) plus what the room adds:
 * how each result reads as text, and the few command-line forms the
 * declarations cannot say (standard input, seconds, `--markdown`).
 * A declared operation with no entry in its room still gets its command,
 * printed as JSON.
 */
import { Command } from 'commander';
import { ERROR_CODES } from '../errors.js';
import type { AnyDeclaration, FieldDef } from '../api/declare.js';
import { offered } from '../api/declare.js';
import { invoke, type Raw } from '../api/invoke.js';
import { DECLARATIONS } from '../api/ops/index.js';
import type { CliContext, Output } from './context.js';
import { taskLine, taskList } from './format.js';
import type { Task } from '../domain/types.js';

export interface CommandSpec<R = any> {
  /** The result as text for people (default: JSON). */
  text?: (result: R, ctx: CliContext) => string;
  /** The JSON printed with --json (default: the result). */
  json?: (result: R) => unknown;
  /** Adds command-line options the declaration does not have. */
  extend?: (cmd: Command) => void;
  /** Fields not offered as options (the room reads them its own way). */
  skip?: string[];
  /** Adjusts the raw input from the command line (opts: everything commander parsed). */
  input?: (raw: Raw, opts: Record<string, unknown>, ctx: CliContext) => Raw | Promise<Raw>;
  /** Prints the result itself (then `text` and `json` are not used). */
  print?: (result: R, ctx: CliContext, opts: Record<string, unknown>) => void;
}

export interface Room {
  /** The group command (`task` with alias `t`), or none: its commands are top-level. */
  group?: { name: string; aliases?: string[]; description: string };
  /** Per declaration: what the room adds. Top-level rooms build only the declarations named here. */
  commands?: Record<string, CommandSpec>;
  /** Commands that are not declared operations (serve, hooks, demo). */
  custom?: (parent: Command, ctx: CliContext) => void;
  /** The top-level commands `custom` adds (a group's are under its name). */
  customNames?: string[];
}

export function room(r: Room): Room {
  return r;
}

const kebab = (s: string) => s.replace(/_/g, '-').replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
const camel = (s: string) => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

function defOf(d: AnyDeclaration, name: string): FieldDef {
  return (d.input as Record<string, { def: FieldDef }>)[name].def;
}

/** The CLI's default of a field, or undefined. */
function cliDefault(def: FieldDef): unknown {
  return def.defaults && 'cli' in def.defaults ? def.defaults.cli : def.default;
}

/** Exit statuses a command can end with, from its declared refusals. */
function exitHelp(d: AnyDeclaration): string {
  // A write is also refused while operations committed offline wait for sync.
  const codes = ['INVALID_INPUT', ...d.refusals, ...(d.kind === 'write' ? ['NEEDS_SYNC'] : [])] as Array<keyof typeof ERROR_CODES>;
  return `\nExit status: 0 ok; ${[...new Set(codes)].map((c) => `${ERROR_CODES[c].exit} ${c}`).join(', ')}; 5 REMOTE, 6 CONTENTION.`;
}

const isTask = (x: unknown): x is Task => !!x && typeof x === 'object' && 'id' in x && 'title' in x && 'status' in x;

/** A result with no text of its room's: a task as a line, tasks as lines, anything else as JSON. */
function defaultText(result: unknown): string {
  if (isTask(result)) return taskLine(result);
  if (Array.isArray(result) && result.length && result.every(isTask)) return taskList(result);
  return JSON.stringify(result, null, 2);
}

/** Builds one command from a declaration and its room spec. */
export function commandFor(parent: Command, d: AnyDeclaration, ctx: CliContext, spec: CommandSpec = {}): Command {
  const cli = d.cli!;
  const names = typeof cli.name === 'string' ? [cli.name] : [...cli.name];
  const positional = (cli.args ?? []).map((a) => ({ field: a.replace(/\.\.\.$/, ''), variadic: a.endsWith('...') }));
  const usage = positional.map(({ field, variadic }) => {
    const def = defOf(d, field);
    const name = `${def.arg ?? field}${variadic ? '...' : ''}`;
    return def.optional ? `[${name}]` : `<${name}>`;
  });
  const cmd = parent.command([names[0], ...usage].join(' '), cli.isDefault ? { isDefault: true } : undefined).description(d.summary);
  for (const alias of names.slice(1)) cmd.alias(alias);
  const inArgs = new Set(positional.map((p) => p.field));
  const asOption = Object.entries(d.input as Record<string, { def: FieldDef }>).filter(([name, { def }]) => {
    if (def.internal || !offered(def, 'cli') || spec.skip?.includes(name)) return false;
    if (cli.options?.includes(name)) return true;
    return !inArgs.has(name) && def.kind !== 'agent';
  });
  for (const [name, { def }] of asOption) {
    const flag = `--${kebab(name)}`;
    const dflt = cliDefault(def);
    if (def.kind === 'bool') cmd.option(dflt === true ? `--no-${kebab(name)}` : flag, def.summary);
    else {
      const list = def.kind === 'list' ? ', comma-separated' : '';
      const shown = dflt !== undefined && !(Array.isArray(dflt) && !dflt.length) ? `; default ${typeof dflt === 'string' ? dflt : JSON.stringify(dflt)}` : '';
      cmd.option(`${flag} <${def.arg ?? kebab(name)}>`, `${def.summary}${list || shown ? ` (${(list + shown).replace(/^[,;] /, '')})` : ''}`);
    }
  }
  spec.extend?.(cmd);
  cmd.addHelpText('after', exitHelp(d));
  cmd.action(async (...args: unknown[]) => {
    const opts = args[positional.length] as Record<string, unknown>;
    const raw: Raw = {};
    positional.forEach(({ field }, i) => {
      if (args[i] !== undefined && !(Array.isArray(args[i]) && !(args[i] as unknown[]).length)) raw[field] = args[i];
    });
    for (const [name, { def }] of asOption) {
      const v = opts[camel(kebab(name))];
      if (v !== undefined && (def.kind !== 'bool' || v !== cliDefault(def))) raw[name] = v;
    }
    const input = spec.input ? await spec.input(raw, opts, ctx) : raw;
    const result = await invoke(ctx.session(), d, input, 'cli');
    if (spec.print) return spec.print(result, ctx, opts);
    const out: Output = {
      json: spec.json ? spec.json(result) : result,
      text: spec.text ? spec.text(result, ctx) : defaultText(result),
    };
    ctx.print(out);
  });
  return cmd;
}

/**
 * The first words that reach a room's commands: its group's name and
 * aliases, or its top-level commands' names and aliases.
 */
export function roomWords(r: Room): string[] {
  if (r.group) return [r.group.name, ...(r.group.aliases ?? [])];
  const words = [...(r.customNames ?? [])];
  for (const d of DECLARATIONS as readonly AnyDeclaration[]) {
    if (d.cli && !d.cli.group && r.commands?.[d.name]) words.push(...(typeof d.cli.name === 'string' ? [d.cli.name] : d.cli.name));
  }
  return words;
}

/** The first words of declared top-level operations, by declaration. */
export function unclaimedWords(d: AnyDeclaration): string[] {
  return d.cli && !d.cli.group ? (typeof d.cli.name === 'string' ? [d.cli.name] : [...d.cli.name]) : [];
}

/** Adds a room's commands to the program. */
export function addRoom(program: Command, r: Room, ctx: CliContext, claimed: Set<string>): void {
  let parent = program;
  if (r.group) {
    parent = program.command(r.group.name).description(r.group.description);
    for (const a of r.group.aliases ?? []) parent.alias(a);
  }
  r.custom?.(parent, ctx);
  for (const d of DECLARATIONS as readonly AnyDeclaration[]) {
    if (!d.cli || claimed.has(d.name)) continue;
    const mine = r.group ? d.cli.group === r.group.name : !d.cli.group && !!r.commands?.[d.name];
    if (!mine) continue;
    claimed.add(d.name);
    commandFor(parent, d, ctx, r.commands?.[d.name]);
  }
}

/** Top-level declared operations no room named: still commands, printed as JSON. */
export function addUnclaimed(program: Command, ctx: CliContext, claimed: Set<string>, only?: string): void {
  for (const d of DECLARATIONS as readonly AnyDeclaration[]) {
    if (d.cli && !d.cli.group && !claimed.has(d.name) && (only === undefined || unclaimedWords(d).includes(only))) commandFor(program, d, ctx);
  }
}
