/**
 * The library: `openOrchestrator()` returns an object with the original
 * orchestrator's functions (async), backed by the coordination branch of a
 * git repository. Each function is built from an operation's declaration
 * (src/api/ops): its arguments are mapped to the declared input, the
 * declaration fills the defaults and the operation runs. See the README for
 * the list and CONTRIBUTING.md for adding one.
 */
import { OrchestratorError } from '../errors.js';
import type { AnyDeclaration, ArgSpec, Declaration, Field, Fields, LibraryBinding } from './declare.js';
import { invoke, type Raw } from './invoke.js';
import { DECLARATIONS, type DeclarationOf } from './ops/index.js';
import { Session, type OpenOptions, type Where } from './session.js';

// --- The facade's types, derived from the declarations ------------------------

type FieldOf<F, K> = K extends keyof F ? F[K] : never;
type ValueOf<Fd> = Fd extends Field<infer T, infer C, boolean> ? (C extends true ? T | undefined : T) : never;
type CallerOptional<Fd> = Fd extends Field<unknown, infer C, boolean> ? C : false;

type BagKeys<F, A> = A extends readonly (infer K)[] ? { [P in K & string]: P } : A extends Readonly<Record<string, string>> ? A : never;
type Bag<F, M> = { [P in keyof M as CallerOptional<FieldOf<F, M[P]>> extends true ? never : P]: ValueOf<FieldOf<F, M[P]>> } & {
  [P in keyof M as CallerOptional<FieldOf<F, M[P]>> extends true ? P : never]?: ValueOf<FieldOf<F, M[P]>>;
};
type ArgType<F, A> = A extends string ? ValueOf<FieldOf<F, A>> : Bag<F, BagKeys<F, A>>;
type ArgOptional<F, A> = A extends string ? CallerOptional<FieldOf<F, A>> : {} extends Bag<F, BagKeys<F, A>> ? true : false;
type AllOptional<F, L> = L extends readonly [infer H, ...infer T] ? (ArgOptional<F, H> extends true ? AllOptional<F, T> : false) : true;
/** Positional parameters: an argument may be left out when it and all after it may be. */
type Params<F, L> = L extends readonly [infer H, ...infer T]
  ? ArgOptional<F, H> extends true
    ? AllOptional<F, T> extends true
      ? [arg?: ArgType<F, H>, ...Params<F, T>]
      : [arg: ArgType<F, H>, ...Params<F, T>]
    : [arg: ArgType<F, H>, ...Params<F, T>]
  : [];
type Returns<B, R> = (B extends { map: (r: never) => infer M } ? M : R) | (B extends { refused: infer X } ? X[keyof X] : never);
type Functions<D> = D extends Declaration<infer F, infer R, infer L>
  ? { [N in keyof L]: L[N] extends LibraryBinding<F, R> ? (...args: Params<F, L[N]['args']>) => Promise<Returns<L[N], R>> : never }
  : never;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Every library function of every declaration. */
export type Functions_ = UnionToIntersection<Functions<DeclarationOf>>;

// --- Arguments to input ------------------------------------------------------------

function toInput(spec: readonly ArgSpec<Fields>[], args: unknown[], fn: string): Raw {
  const raw: Raw = {};
  spec.forEach((s, i) => {
    const arg = args[i];
    if (typeof s === 'string') {
      raw[s] = arg;
      return;
    }
    if (arg === undefined || arg === null) return;
    if (typeof arg !== 'object' || Array.isArray(arg)) {
      throw new OrchestratorError('INVALID_INPUT', `${fn}: argument ${i + 1} must be an object with ${(Array.isArray(s) ? s : Object.keys(s)).join(', ')}`, { argument: i + 1 });
    }
    const bag = arg as Record<string, unknown>;
    if (Array.isArray(s)) for (const key of s as string[]) raw[key] = bag[key];
    else for (const [key, field] of Object.entries(s as Record<string, string>)) raw[field] = bag[key];
  });
  return raw;
}

function libraryFunction(session: Session, decl: AnyDeclaration, fn: string, binding: LibraryBinding) {
  return async (...args: unknown[]): Promise<unknown> => {
    try {
      const result = await invoke(session, decl, toInput(binding.args, args, fn), 'library');
      return binding.map ? binding.map(result) : result;
    } catch (err) {
      if (err instanceof OrchestratorError && binding.refused && err.code in binding.refused) return binding.refused[err.code];
      throw err;
    }
  };
}

// --- The facade ------------------------------------------------------------------

export interface Orchestrator extends Functions_ {}

export class Orchestrator {
  /** @internal the session behind the facade (for the package's own modules) */
  readonly #session: Session;

  constructor(options: OpenOptions = {}) {
    this.#session = new Session(options);
    for (const decl of DECLARATIONS as readonly AnyDeclaration[]) {
      for (const [fn, binding] of Object.entries(decl.library ?? {})) {
        Object.defineProperty(this, fn, { value: libraryFunction(this.#session, decl, fn, binding as LibraryBinding), enumerable: false });
      }
    }
    sessions.set(this, this.#session);
  }

  get options(): Readonly<OpenOptions> {
    return this.#session.options;
  }
  /** The commit of the last read or write. */
  get lastCommit(): string | null {
    return this.#session.lastCommit;
  }
  /** Attempts the last write needed (1 when nobody raced it). */
  get lastAttempts(): number {
    return this.#session.lastAttempts;
  }

  /** Where this orchestrator keeps its data. */
  where(): Promise<Where> {
    return this.#session.where();
  }

  close(): void {
    this.#session.close();
  }
}

const sessions = new WeakMap<Orchestrator, Session>();

/** The session behind a facade: for the package's own modules and tests, never exported by the package. */
export function sessionOf(orc: Orchestrator): Session {
  return sessions.get(orc)!;
}

/**
 * Opens the coordination branch of the repository holding `opts.repo` (or
 * the current directory). Nothing is read until the first call.
 * @example
 *   const orc = openOrchestrator({ agent: 'agent-1' });
 *   const task = await orc.getNextTask('revenue', 'agent-1');
 */
export function openOrchestrator(opts: OpenOptions = {}): Orchestrator {
  return new Orchestrator(opts);
}
