/**
 * What the engine's parts share: the shapes of operations waiting to be
 * written and of a planned chain, the planning context, tracing.
 */
import type { OrchestratorError } from '../errors.js';
import type { NoChange, OpBase } from '../domain/op.js';
import type { Effect, World } from '../domain/types.js';
import type { GitStore } from '../store/git-store.js';
import type { Snapshot } from '../store/layout.js';
import type { Intent, SpoolEntry } from './spool.js';

export type { Intent };

export interface Ctx {
  /** The operation's time (ISO): the writer's own clock. */
  at: string;
  /** A fresh random 8-hex-digit id. */
  newId(): string;
}

/** Builds the operation from the newest world, or decides there is nothing to do. */
export type Prepare<R> = (world: World, ctx: Ctx) => OpBase | NoChange<R>;

/** A named, pure way to build an operation from its input: what lets another process carry it. */
export type Planner = (world: World, ctx: Ctx, input: any) => OpBase | NoChange<unknown>;

export interface MutationOutcome<R> {
  result: R;
  /** The commit that holds the result (the operation's own, or the tip when nothing changed). */
  commit: string | null;
  /** The recorded operation, or null when nothing changed. */
  op: OpBase | null;
  /** Pushes (or ref swaps) it took part in; 1 when nobody raced it. */
  attempts: number;
}

export interface MutateOptions {
  /**
   * The same operation as data (a planner's name and input), so that the
   * writer whose turn it is in another process can carry it.
   */
  intent?: Intent;
  /** Record the operation exactly as prepared, without an operation id (replay tools, tests). */
  raw?: boolean;
  /** The operation id to record (default: a new one): an operation that must land at most once across runs (sync). */
  opId?: string;
}

export interface EngineOptions {
  store: GitStore;
  /** Commit locally only; never fetch or push. */
  offline?: boolean;
  /**
   * When the remote cannot be reached, work offline instead of failing
   * (`orchestrator sync` pushes later). `onOffline` hears why, once.
   */
  allowOffline?: boolean;
  onOffline?: (reason: string) => void;
  /** Attempts before giving up with CONTENTION (default 30). */
  maxAttempts?: number;
  /** Milliseconds since the epoch (tests pass a fixed clock). */
  clock?: () => number;
  /** How long a writer waits for the clone's turn before racing without it. */
  mutexWaitMs?: number;
  /** Planners by intent name: lets this writer carry other processes' waiting operations. */
  planners?: (name: string) => Planner | undefined;
  /** Most operations in one chain (default 64). */
  maxBatch?: number;
}

export const REFUSALS = new Set(['NOT_FOUND', 'CONFLICT', 'LOCK_HELD', 'AMBIGUOUS']);
/** A competing writer seen this recently means: fetch before building (see runBatch). */
export const CONTENDED_MS = 2000;
/** How often a writer waiting for the turn looks whether its operation was carried. */
export const LANDED_POLL_MS = 10;

// ORCHESTRATOR_TRACE=1 prints each step to stderr (timings in ms).
const TRACE = !!process.env.ORCHESTRATOR_TRACE;
let traceT0 = 0;
export function trace(msg: string): void {
  if (!TRACE) return;
  const now = performance.now();
  const wall = (performance.timeOrigin + now) % 100_000;
  process.stderr.write(`[orchestrator ${process.pid} ${wall.toFixed(1)} +${(now - traceT0).toFixed(1)}ms] ${msg}\n`);
  traceT0 = now;
}

// node:crypto loads on first use: commands that only read never pay for it.
const randomHex = (bytes: number): string => (require('node:crypto') as typeof import('node:crypto')).randomBytes(bytes).toString('hex');
export const newOpId = (): string => randomHex(8);
export const newId = (): string => randomHex(4);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Milliseconds on a monotonic clock (from an arbitrary origin). Not
 * `performance.now()`: the `performance` global loads Node's perf_hooks
 * (ten modules, about 1.5 ms) the first time a process touches it, and
 * every write command would pay for it.
 */
export function monotonicMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

/** One operation waiting to be written: a caller's in this process, or another process's from the spool. */
export interface Item {
  opId: string | null;
  plan: (world: World, ctx: Ctx) => OpBase | NoChange<unknown>;
  intent?: Intent;
  /** The tip when it was left in the spool (it cannot have landed before); undefined: never left there. */
  publishedBase?: string | null;
  spoolFile?: string;
  /** Another writer's request (from the spool, or null: from the board): nobody here waits for it. */
  foreign?: SpoolEntry | null;
  /** Its request ref on the remote's board (ours once published, or the one we carry), and when it was published. */
  remote?: { ref: string; oid: string; created?: number };
  /** Races lost since it was published. */
  lost?: number;
  waiter?: { resolve: (o: MutationOutcome<unknown>) => void; reject: (e: unknown) => void };
  attempts: number;
}

export interface Planned {
  chain: Array<{ item: Item; op: OpBase; effect: Effect; snap: Snapshot }>;
  refused: Array<{ item: Item; err: OrchestratorError }>;
  unchanged: Array<{ item: Item; result: unknown }>;
  failed: Array<{ item: Item; err: unknown }>;
}

