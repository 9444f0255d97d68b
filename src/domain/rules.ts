/**
 * Input rules for every name and value that reaches the branch. One schema per
 * kind of field, used by the api (arguments), the server (bodies), replay
 * (recorded operations) and import. Names that become file paths are checked
 * here, so nothing can escape `knowledge/` or `locks/`.
 */
import { z } from './zod.js';
import type * as Zod from 'zod/mini';
import { OrchestratorError } from '../errors.js';
import { BIDI_OR_SEPARATOR } from './text.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const AGENT = /^[A-Za-z0-9][A-Za-z0-9._@+:-]*$/;
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const ACTION = /^[A-Za-z][A-Za-z0-9_.:-]*$/;
// C0/C1 controls and lone surrogates never round-trip as printable text.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_EXCEPT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// Knowledge is text: NUL and the other C0 controls but tab, newline, form feed and
// carriage return mark binary content (or terminal escapes, shown by `kb read`).
const BINARY_CONTROL = /[\u0000-\u0008\u000b\u000e-\u001f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const LIMITS = {
  name: 64,
  topic: 100,
  resource: 200,
  title: 500,
  text: 64 * 1024,
  estimate: 100,
  knowledge: 1024 * 1024,
  eventData: 64 * 1024,
  /** Levels of nesting in event data (deeper JSON overflows recursive readers). */
  eventDepth: 100,
  capabilities: 50,
  dependencies: 100,
  minTtl: 1,
  maxTtl: 7 * 24 * 60 * 60 * 1000,
  minPriority: 0,
  maxPriority: 999,
} as const;

const noLoneSurrogates = () => z.refine<string>((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode text');
// One-line fields (title, estimate, resource) are shown inside a line of output.
const noBidi = () =>
  z.refine<string>(
    (s) => !BIDI_OR_SEPARATOR.test(s),
    'must not contain bidirectional formatting characters or line separators (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C, U+2028, U+2029)',
  );

function pattern(re: RegExp, max: number, describe: string) {
  return z.string('must be a string').check(
    z.minLength(1, 'must not be empty'),
    z.maxLength(max, `must be at most ${max} characters`),
    z.regex(re, describe),
  );
}

const BUILD = {
  workstream: () => pattern(NAME, LIMITS.name, 'use letters, digits, ".", "_" or "-", starting with a letter or digit'),
  agent: () => pattern(AGENT, LIMITS.name, 'use letters, digits, ".", "_", "@", "+", ":" or "-", starting with a letter or digit'),
  taskId: () => pattern(TASK_ID, LIMITS.name, 'use letters, digits, "_" or "-"'),
  topic: () => pattern(NAME, LIMITS.topic, 'use letters, digits, ".", "_" or "-", starting with a letter or digit (no "/")'),
  agentType: () => pattern(NAME, LIMITS.name, 'use letters, digits, ".", "_" or "-", starting with a letter or digit'),
  capability: () => pattern(NAME, LIMITS.name, 'use letters, digits, ".", "_" or "-", starting with a letter or digit'),
  action: () => pattern(ACTION, LIMITS.name, 'use letters, digits, "_", ".", ":" or "-", starting with a letter'),
  resource: () => z.string('must be a string').check(
    z.minLength(1, 'must not be empty'),
    z.maxLength(LIMITS.resource, `must be at most ${LIMITS.resource} characters`),
    z.refine((s: string) => !CONTROL.test(s), 'must not contain control characters'),
    noBidi(),
    noLoneSurrogates(),
  ),
  title: () => z.string('must be a string').check(
    z.refine((s: string) => s.trim().length > 0, 'must not be empty'),
    z.maxLength(LIMITS.title, `must be at most ${LIMITS.title} characters`),
    z.refine((s: string) => !CONTROL.test(s), 'must be one line without control characters'),
    noBidi(),
    noLoneSurrogates(),
  ),
  text: () => z.string('must be a string').check(
    z.maxLength(LIMITS.text, `must be at most ${LIMITS.text} characters`),
    z.refine((s: string) => !CONTROL_EXCEPT_WHITESPACE.test(s), 'must not contain control characters'),
    noLoneSurrogates(),
  ),
  knowledge: () => z.string('must be a string').check(
    z.maxLength(LIMITS.knowledge, `must be at most ${LIMITS.knowledge} characters`),
    z.refine((s: string) => !BINARY_CONTROL.test(s), 'must be text: it contains NUL or another control character (binary content is not stored)'),
    noLoneSurrogates(),
  ),
  estimate: () => z.nullable(
    z.string('must be a string').check(
      z.maxLength(LIMITS.estimate, `must be at most ${LIMITS.estimate} characters`),
      z.refine((s: string) => !CONTROL.test(s), 'must not contain control characters'),
      noBidi(),
      noLoneSurrogates(),
    ),
  ),
  priority: () => z.int('must be an integer').check(
    z.gte(LIMITS.minPriority, `must be at least ${LIMITS.minPriority}`),
    z.lte(LIMITS.maxPriority, `must be at most ${LIMITS.maxPriority}`),
  ),
  ttl: () => z.int('must be a whole number of milliseconds').check(
    z.gte(LIMITS.minTtl, `must be at least ${LIMITS.minTtl} ms`),
    z.lte(LIMITS.maxTtl, `must be at most ${LIMITS.maxTtl} ms (7 days)`),
  ),
  time: () => z.string('must be an ISO time').check(
    z.refine((s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(s) && !Number.isNaN(Date.parse(s)), 'must be an ISO time like 2026-01-31T12:00:00.000Z'),
  ),
};

type Rules = { readonly [K in keyof typeof BUILD]: ReturnType<(typeof BUILD)[K]> };

/**
 * One schema per kind of field, each built on first use: a command that
 * validates nothing (a read) does not pay for building them at start-up.
 */
export const rules = {} as Rules;
for (const key of Object.keys(BUILD) as Array<keyof typeof BUILD>) {
  Object.defineProperty(rules, key, {
    enumerable: true,
    get() {
      const schema = BUILD[key]();
      Object.defineProperty(rules, key, { value: schema, enumerable: true });
      return schema;
    },
    configurable: true,
  });
}

export type Rule = keyof typeof rules;

const LABELS: Record<Rule, string> = {
  workstream: 'workstream name',
  agent: 'agent id',
  taskId: 'task id',
  topic: 'topic',
  agentType: 'agent type',
  capability: 'capability',
  action: 'action',
  resource: 'resource',
  title: 'title',
  text: 'text',
  knowledge: 'content',
  estimate: 'estimate',
  priority: 'priority',
  ttl: 'ttl',
  time: 'time',
};

function show(value: unknown): string {
  if (typeof value === 'string') {
    const s = JSON.stringify(value.length > 80 ? value.slice(0, 77) + '...' : value);
    return s;
  }
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value)?.slice(0, 80) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Checks one value against a rule and returns it typed, or throws
 * INVALID_INPUT naming the field, the value and what is allowed:
 * `workstream name "a/b" is invalid: use letters, digits, ...`.
 */
export function check<K extends Rule>(rule: K, value: unknown, label: string = LABELS[rule]): Zod.infer<(typeof rules)[K]> {
  const r = (rules[rule] as Zod.ZodMiniType).safeParse(value);
  if (r.success) return r.data as Zod.infer<(typeof rules)[K]>;
  const message = r.error.issues[0]?.message ?? 'is invalid';
  throw new OrchestratorError('INVALID_INPUT', `${label} ${show(value)} is invalid: ${message}`, { field: label, value: typeof value === 'string' ? value.slice(0, 200) : value });
}

/** Parses a CLI or query-string integer strictly ("12" ok; "12abc", "1.5", "" are not). */
export function parseIntStrict(value: unknown, label: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^[+-]?\d+$/.test(value.trim())) return Number(value.trim());
  throw new OrchestratorError('INVALID_INPUT', `${label} ${show(value)} is invalid: must be an integer`, { field: label });
}

/** Resource names become file names: an exact, reversible encoding that stays inside `locks/`. */
export function resourceToFile(resource: string): string {
  let out = '';
  for (const byte of Buffer.from(resource, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.-]/.test(c) && byte < 0x80 ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  // A leading dot would make ".", ".." or hidden names; encode it.
  if (out.startsWith('.')) out = '%2E' + out.slice(1);
  return out + '.json';
}

export function fileToResource(file: string): string {
  if (!file.endsWith('.json')) throw new OrchestratorError('CORRUPT', `unexpected file in locks/: ${JSON.stringify(file)}`);
  const stem = file.slice(0, -5);
  const bytes: number[] = [];
  for (let i = 0; i < stem.length; i++) {
    if (stem[i] === '%') {
      bytes.push(parseInt(stem.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(stem.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}
