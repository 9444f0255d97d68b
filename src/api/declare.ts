/**
 * How an operation is declared: once, with its name, inputs (kinds,
 * defaults, help), result, one-line summary, the refusals it can give and
 * whether it reads or writes. The library facade, the CLI commands, the REST
 * routes and the MCP tools are all built from these declarations (see
 * CONTRIBUTING.md), so a name, a default or an error mapping is written in
 * one place only.
 */
import type { ErrorCode } from '../errors.js';
import type { Rule } from '../domain/rules.js';
import { AGENT_ARGS_OPTIONAL } from './identity.js';
import type { Ctx } from './context.js';
import type { Ctx as WriteCtx } from '../engine.js';
import type { NoChange, OpBase } from '../domain/op.js';
import type { World } from '../domain/types.js';

/** What a planner knows of the call besides its input: who acts, and the session's stale window. */
export interface Who {
  actor: string | undefined;
  staleMs: number;
}

/**
 * A write as one pure step: the operation to record, built from the newest
 * state, the input and who acts (or NoChange). Being pure data in and out,
 * another process of the clone can run it for this one (group commit).
 */
export type Planner<I, R> = (world: World, c: WriteCtx, input: I, who: Who) => OpBase | NoChange<R>;

/** A result's name, carrying its type. */
export type Shape<T> = string & { readonly __result?: T };
export const returns = <T>(name: string): Shape<T> => name as Shape<T>;

/** Who a change is recorded as: the agent named, else the acting agent, else "system". */
export function byWho(who: Who, agent?: string | null): string {
  return agent ?? who.actor ?? 'system';
}

/** Where a call comes from: each surface reads its raw values its own way. */
export type Surface = 'library' | 'cli' | 'rest' | 'mcp';

/**
 * The kinds of input value. Each surface turns its raw values into these:
 * the CLI parses strings, REST and MCP take JSON (numbers also as strings,
 * lists also comma-separated), the library takes them as they are.
 */
export type Kind = 'string' | 'int' | 'bool' | 'list' | 'json' | 'duration' | 'agent' | 'callback';

export interface FieldDef {
  kind: Kind;
  /** Help: a CLI option's description, an MCP property's description. */
  summary: string;
  /** May the caller leave it out? (then: the default, the acting agent for agents, or undefined) */
  optional: boolean;
  /** Must it have a value once defaults are filled? (an agent argument left out with no acting agent is refused) */
  needed?: boolean;
  default?: unknown;
  /** A default that differs on one surface (`undefined`: none there). */
  defaults?: Partial<Record<Surface, unknown>>;
  /** A domain rule checked on input (reads; writes are checked by their operation). */
  rule?: Rule;
  /** Its name in CLI usage, when not the field's (`<taskId>`). */
  arg?: string;
  /** Offered on these surfaces only. */
  only?: Surface[];
  /** For `int`: the smallest value. */
  min?: number;
  /** Other names it is accepted under (REST bodies: `ttl_ms` for `ttl`). */
  alias?: string[];
  /** Its name in error messages, when not the field's. */
  label?: string;
  /** Filled by the surface itself (a CLI hook, a progress callback), never offered as an option or property. */
  internal?: boolean;
}

/**
 * A field builder. `T` is the value's type; `C` whether a caller may leave
 * it out; `R` whether it may still be undefined once defaults are filled.
 */
export class Field<T = unknown, C extends boolean = boolean, R extends boolean = boolean> {
  declare readonly _t: T;
  declare readonly _c: C;
  declare readonly _r: R;
  constructor(readonly def: FieldDef) {}

  private with<T2 = T, C2 extends boolean = C, R2 extends boolean = R>(patch: Partial<FieldDef>): Field<T2, C2, R2> {
    return new Field<T2, C2, R2>({ ...this.def, ...patch });
  }
  /** The caller may leave it out; it then stays undefined. */
  optional(): Field<T, true, true> {
    return this.with({ optional: true, needed: false });
  }
  /** The caller may leave it out; it then takes this value. */
  default(value: T): Field<T, true, false> {
    return this.with({ optional: true, default: value });
  }
  /** A default that differs on some surfaces (`undefined`: none there). */
  on(defaults: Partial<Record<Surface, T | undefined>>): Field<T, true, true> {
    return this.with({ optional: true, defaults: { ...this.def.defaults, ...defaults } });
  }
  rule(rule: Rule): Field<T, C, R> {
    return this.with({ rule });
  }
  /** The name shown in CLI usage. */
  arg(name: string): Field<T, C, R> {
    return this.with({ arg: name });
  }
  only(...surfaces: Surface[]): Field<T, C, R> {
    return this.with({ only: surfaces });
  }
  min(n: number): Field<T, C, R> {
    return this.with({ min: n });
  }
  alias(...names: string[]): Field<T, C, R> {
    return this.with({ alias: names });
  }
  label(label: string): Field<T, C, R> {
    return this.with({ label });
  }
  /** Filled by the surface itself, never offered as an option or property. */
  internal(): Field<T, C, R> {
    return this.with({ internal: true });
  }
}

const field = <T>(kind: Kind, summary: string) => new Field<T, false, false>({ kind, summary, optional: false });

/** Field builders: `f.string('the workstream').rule('workstream')`, `f.int('priority').default(5)`. */
export const f = {
  string: (summary: string) => field<string>('string', summary),
  /** A string that may be null (null clears it). */
  nullable: (summary: string) => field<string | null>('string', summary),
  int: (summary: string) => field<number>('int', summary),
  bool: (summary: string) => field<boolean>('bool', summary).default(false),
  list: (summary: string) => field<string[]>('list', summary),
  json: <T = Record<string, unknown>>(summary: string) => field<T>('json', summary),
  /** Milliseconds; the CLI and REST also take `7d`, `12h`, `30m`, `45s`. */
  duration: (summary: string) => field<number>('duration', summary),
  /** A function the library or the CLI passes (progress reports); internal. */
  callback: <T>(summary: string) => field<T>('callback', summary).internal().optional(),
  /**
   * An agent argument. Left out, it is the acting agent (`--as`,
   * ORCHESTRATOR_AGENT, git config orchestrator.agent, the library's `agent`
   * option: see identity.ts); with none, it is refused unless `.optional()`
   * (then the change is recorded as "system").
   */
  agent: (summary: string) => new Field<string, typeof AGENT_ARGS_OPTIONAL, false>({ kind: 'agent', summary, optional: AGENT_ARGS_OPTIONAL, needed: true }),
};

export type Fields = Record<string, Field>;

type Req<F extends Fields, Opt extends boolean, Which extends '_c' | '_r'> = {
  [K in keyof F as F[K][Which] extends Opt ? K : never]: F[K]['_t'];
};
/** The input a caller gives (optional fields may be left out). */
export type CallerInput<F extends Fields> = Req<F, false, '_c'> & Partial<Req<F, true, '_c'>>;
/** The input an operation runs with (defaults filled). */
export type Input<F extends Fields> = Req<F, false, '_r'> & Partial<Req<F, true, '_r'>>;

/**
 * How a library function maps its positional arguments to the input: each
 * entry is a field name, or an options object given as the list of its keys
 * (`['title', 'priority']`) or a map from its keys to fields (`{ ttlMs: 'ttl' }`).
 */
export type ArgSpec<F> = keyof F & string | ReadonlyArray<keyof F & string> | Readonly<Record<string, keyof F & string>>;

export interface LibraryBinding<F = Fields, R = unknown> {
  args: readonly ArgSpec<F>[];
  /** What the function returns instead of the result (`acquireLock` returns true). */
  map?: (result: R) => unknown;
  /** Refusals it answers with a value instead of throwing (`acquireLock`: LOCK_HELD -> false). */
  refused?: Partial<Record<ErrorCode, unknown>>;
}

export interface CliBinding {
  /** The command group (`task`), or none for a top-level command. */
  group?: string;
  /** Command name, with its aliases: `['list', 'ls']`. */
  name: string | readonly string[];
  /** Positional arguments by field; `reason...` takes the rest of the line. */
  args?: readonly string[];
  /** Fields offered as options although positional too (`--priority`). */
  options?: readonly string[];
  /** Runs when no subcommand of the group is named (`events` lists). */
  isDefault?: boolean;
}

export interface RestBinding<R = unknown> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Express path under /api; its parameters are fields (`:name` -> `workstream` via `params`). */
  path: string;
  /** Path parameter -> field, when the names differ. */
  params?: Record<string, string>;
  /** Success status (default 200). */
  status?: number;
  /** The body answered instead of the result. */
  answer?: (result: R) => unknown;
  /** A text/plain answer instead of JSON. */
  text?: (result: R) => string;
  /** Extra fields on the error body of a refusal (LOCK_HELD -> holder, expires_at). */
  refused?: Partial<Record<ErrorCode, (data: Record<string, unknown>) => Record<string, unknown>>>;
  /**
   * Refusals this route answers as a success (200) with this body, where
   * the original answered so (`{released: false}` for a lock not held).
   */
  answered?: Partial<Record<ErrorCode, (data: Record<string, unknown>) => unknown>>;
  /** Field values this route fills when the request gives none (the original's `agent: 'api'`). */
  fill?: Record<string, unknown>;
}

export interface McpBinding {
  /** Tool name. Declarations naming the same tool are one tool; a call runs the one whose required inputs it gives. */
  tool: string;
}

export interface Declaration<F extends Fields = Fields, R = unknown, L extends Record<string, LibraryBinding<F, R>> = Record<string, LibraryBinding<F, R>>> {
  /** `task.claim`: the domain operation's name when it records one. */
  name: string;
  kind: 'read' | 'write';
  /** One line, in the imperative: it is the help text everywhere. */
  summary: string;
  input: F;
  /** What it returns, named for the reference (`returns<Task>('Task')` also types it). */
  result: Shape<R>;
  /** Codes it refuses with, besides INVALID_INPUT and the remote's (REMOTE, CONTENTION, NEEDS_SYNC). */
  refusals: readonly ErrorCode[];
  /** Runs it (a use case). A write that is one operation built from the state declares `plan` instead. */
  run?(ctx: Ctx, input: Input<F>): Promise<R>;
  /**
   * A write as one pure step: the operation to record, built from the
   * newest state, the input and the acting agent (or NoChange). Retried on
   * a new tip by the engine like any mutation.
   */
  plan?: Planner<Input<F>, R>;
  /** The library functions it is offered as (the original's names and signatures). */
  library?: L;
  cli?: CliBinding;
  rest?: RestBinding<R> | readonly RestBinding<R>[];
  mcp?: McpBinding;
}

// Declarations are kept in one heterogeneous list.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDeclaration = Declaration<any, any, any>;

/** Declares an operation (keeps its literal types for the library facade). */
export function declare<const F extends Fields, R, const L extends Record<string, LibraryBinding<F, R>> = {}>(d: Declaration<F, R, L>): Declaration<F, R, L> {
  return d;
}

export function restBindings(d: AnyDeclaration): readonly RestBinding[] {
  return d.rest === undefined ? [] : Array.isArray(d.rest) ? d.rest : [d.rest as RestBinding];
}

export function offered(def: FieldDef, surface: Surface): boolean {
  return !def.only || def.only.includes(surface);
}

/**
 * A declared command as the CLI takes it: `task next <workstream> <agent>`;
 * with `agent`, agent arguments are filled in.
 */
export function cliUsage(d: AnyDeclaration, agent?: string): string {
  const cli = d.cli!;
  const name = typeof cli.name === 'string' ? cli.name : cli.name[0];
  const args = (cli.args ?? []).map((a) => {
    const field = a.replace(/\.\.\.$/, '');
    const def = (d.input as Record<string, { def: FieldDef }>)[field].def;
    if (def.kind === 'agent' && agent) return agent;
    const shown = `${def.arg ?? field}${a.endsWith('...') ? '...' : ''}`;
    return def.optional ? `[${shown}]` : `<${shown}>`;
  });
  return [cli.group, name, ...args].filter(Boolean).join(' ');
}
