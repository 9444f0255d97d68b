/**
 * Runs a declared operation from any surface: reads the raw values the way
 * the surface gives them (CLI strings, JSON bodies, library arguments),
 * fills defaults and the acting agent, checks input rules, then runs it.
 */
import { OrchestratorError } from '../errors.js';
import { check, LIMITS, parseIntStrict } from '../domain/rules.js';
import { offered, type AnyDeclaration, type FieldDef, type Surface, type Who } from './declare.js';
import type { Ctx } from './context.js';
import { HOW_TO_SET } from './identity.js';
import type { Session } from './session.js';
import type { View } from './view.js';

export type Raw = Record<string, unknown>;

const invalid = (message: string, field: string) => new OrchestratorError('INVALID_INPUT', message, { field });

/** "7d", "12h", "30m", "45s" or plain seconds, in milliseconds. */
export function parseDuration(text: string, label = 'duration'): number {
  const m = /^(\d+)\s*(d|h|m|s)?$/.exec(text.trim());
  if (!m) throw invalid(`${label} ${JSON.stringify(text)} is invalid: use a number with d, h, m or s (7d, 12h)`, label);
  return Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[(m[2] ?? 's') as 'd' | 'h' | 'm' | 's'];
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** One raw value as the field's kind. The library's values pass as given: the operation checks them. */
function coerce(def: FieldDef, v: unknown, surface: Surface, label: string): unknown {
  if (surface === 'library' || def.kind === 'callback') return v;
  const cli = surface === 'cli';
  switch (def.kind) {
    case 'int': {
      const n = parseIntStrict(v, label);
      if (def.min !== undefined && n < def.min) throw invalid(`${label} ${n} is invalid: must be at least ${def.min}`, label);
      return n;
    }
    case 'bool':
      return v === true || v === 'true';
    case 'list':
      if (typeof v === 'string') return splitList(v);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
      throw invalid(`${label} must be a list of strings`, label);
    case 'duration':
      if (typeof v === 'number' && !cli) return v;
      if (typeof v === 'string') return parseDuration(v, label);
      throw invalid(`${label} must be a duration (milliseconds, or 7d, 12h, 30m, 45s)`, label);
    case 'json':
      if (typeof v === 'string' && cli) {
        try {
          return JSON.parse(v) as unknown;
        } catch (err) {
          throw invalid(`${label} is not valid JSON: ${(err as Error).message}`, label);
        }
      }
      return v;
    default:
      if (cli && Array.isArray(v)) return v.join(' ');
      if (typeof v !== 'string') throw invalid(`${label} must be a string`, label);
      return v;
  }
}

/**
 * JSON input nested deeper than LIMITS.eventDepth is refused before
 * anything recursive reads it (a copy, JSON.stringify when a waiting
 * operation is left for another writer): deeper JSON overflows the stack.
 * Iterative; a cyclic library value ends at the limit too.
 */
function checkDepth(value: unknown, label: string): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > LIMITS.eventDepth) throw invalid(`${label} nests deeper than ${LIMITS.eventDepth} levels`, label);
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, depth + 1]);
  }
}

/** The input an operation runs with, from a surface's raw values. */
export function normalize(decl: AnyDeclaration, raw: Raw, surface: Surface, actor: string | undefined): Raw {
  const out: Raw = {};
  for (const [name, field] of Object.entries(decl.input)) {
    const def = (field as { def: FieldDef }).def;
    const label = def.label ?? name;
    let v = offered(def, surface) ? raw[name] : undefined;
    for (const alias of def.alias ?? []) if (v === undefined || v === null) v = raw[alias];
    if (v === null && surface !== 'library') v = undefined;
    if (v === undefined) {
      if (def.defaults && surface in def.defaults) v = def.defaults[surface];
      else if ('default' in def) v = def.default;
      if (v === undefined && def.kind === 'agent') v = actor;
      if (v === undefined && (!def.optional || def.needed)) {
        const hint = def.kind === 'agent' ? ` (or set the acting agent: ${HOW_TO_SET})` : '';
        throw invalid(`${label} is required${hint}`, label);
      }
      // Defaults are already values of their kind.
      if (v !== undefined) {
        out[name] = v;
        continue;
      }
    }
    if (v !== undefined) v = coerce(def, v, surface, label);
    if (def.kind === 'json' && v !== undefined) checkDepth(v, label);
    if (def.rule && v !== undefined) check(def.rule, v);
    out[name] = v;
  }
  return out;
}

export interface InvokeOptions {
  /** The view reads answer from (REST: one per request); default: a fresh one. */
  view?: View;
}

/** Runs a declaration with raw input from a surface. */
export async function invoke(session: Session, decl: AnyDeclaration, raw: Raw, surface: Surface, opts: InvokeOptions = {}): Promise<unknown> {
  // Finding the identity may start git (its configuration): only calls that can use it ask.
  const actor = decl.kind === 'write' || Object.values(decl.input).some((f) => (f as { def: FieldDef }).def.kind === 'agent') ? await session.actor() : undefined;
  const input = normalize(decl, raw, surface, actor);
  let view: Promise<View> | undefined = opts.view ? Promise.resolve(opts.view) : undefined;
  const ctx: Ctx = {
    session,
    surface,
    actor,
    view: () => (view ??= session.view()),
  };
  if (decl.plan) {
    // Also as data (the declaration's name, the input, who acts): the writer whose turn it is may carry it.
    const who: Who = { actor, staleMs: session.staleMs };
    return session.run((world, c) => decl.plan!(world, c, input as never, who), { intent: { name: decl.name, input: { input, who } } });
  }
  return decl.run!(ctx, input as never);
}
