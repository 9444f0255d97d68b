/**
 * The shape every operation shares. An operation is plain data: its type, the
 * time it happened (`at`), who did it (`by`) and its parameters. It is
 * recorded verbatim in the commit that applied it, so applying it again to
 * the parent's state reproduces the commit's tree byte for byte.
 */
import { z } from './zod.js';
import type * as Zod from 'zod/mini';
import { OrchestratorError } from '../errors.js';
import { rules } from './rules.js';
import type { Effect, World } from './types.js';

export interface OpBase {
  op: string;
  /** ISO time of the operation; every timestamp it writes is this one. */
  at: string;
  /** The acting agent, or "system". */
  by: string;
  /**
   * The operation's own identity (16 hex digits), recorded in its commit:
   * a writer that carried it, or a resumed sync, is recognised by it, so
   * nothing is applied twice. Absent in operations recorded before it existed.
   */
  op_id?: string;
}

/** An operation that decided nothing needs to change: no commit is made. */
export interface NoChange<R> {
  noop: true;
  result: R;
}

export interface OpSpec<O extends OpBase = OpBase, R = unknown> {
  type: O['op'];
  /** Field -> what to call it in error messages, when not the rule's name. */
  labels?: Record<string, string>;
  /** Schema of the operation's parameters (without op/at/by). */
  params: () => Zod.ZodMiniObject;
  /** Applies the operation; throws OrchestratorError when refused. Must not mutate `world`. */
  apply(world: World, op: O): Effect<R> | NoChange<R>;
  /** Commit subject, in words: `task claim revenue/1a2b3c4d by agent-1`. */
  subject(op: O): string;
}

export function isNoChange<R>(x: object): x is NoChange<R> {
  return (x as NoChange<R>).noop === true;
}

const base = () => ({ op: z.string(), at: rules.time, by: z.union([z.literal('system'), rules.agent]), op_id: z.optional(z.string().check(z.regex(/^[0-9a-f]{16}$/, 'must be 16 hex digits'))) });

const DEFAULT_LABELS: Record<string, string> = {
  workstream: 'workstream name',
  name: 'workstream name',
  id: 'task id',
  agent: 'agent id',
  by: 'agent id',
  ttl_ms: 'ttl',
  at: 'time',
};

/**
 * Validates an operation against its spec, throwing INVALID_INPUT that names
 * the field and value: `priority "x" is invalid: must be an integer`.
 */
const schemas = new WeakMap<object, Zod.ZodMiniType>();

export function validateOp<O extends OpBase>(spec: OpSpec<O, unknown>, op: unknown): O {
  let schema = schemas.get(spec);
  if (!schema) {
    schema = z.strictObject({ ...base(), ...spec.params().def.shape });
    schemas.set(spec, schema);
  }
  const r = schema.safeParse(op);
  if (r.success) return r.data as unknown as O;
  const issue = r.error.issues[0];
  const field = String(issue?.path?.[0] ?? 'operation');
  const label = spec.labels?.[field] ?? DEFAULT_LABELS[field] ?? field.replace(/_/g, ' ');
  let value: unknown = op;
  for (const key of issue?.path ?? []) value = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 80 ? value.slice(0, 77) + '...' : value) : JSON.stringify(value) ?? 'nothing';
  const message =
    issue?.code === 'unrecognized_keys' ? `unknown field ${(issue as { keys?: string[] }).keys?.map((k) => JSON.stringify(k)).join(', ')}` : issue?.message ?? 'is invalid';
  throw new OrchestratorError('INVALID_INPUT', issue?.code === 'unrecognized_keys' ? `${spec.type}: ${message}` : `${label} ${shown} is invalid: ${message}`, {
    field,
    op: spec.type,
  });
}
