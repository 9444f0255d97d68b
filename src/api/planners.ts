/**
 * The engine's planners by name: every declared write with a pure plan.
 * A writer of this clone whose turn it is runs them for the operations
 * other processes left waiting (group commit, see engine.ts).
 */
import type { Planner } from '../engine.js';
import type { AnyDeclaration, Who } from './declare.js';
import { DECLARATIONS } from './ops/index.js';

let byName: Map<string, AnyDeclaration> | null = null;

export function plannerOf(name: string): Planner | undefined {
  byName ??= new Map((DECLARATIONS as readonly AnyDeclaration[]).filter((d) => d.plan).map((d) => [d.name, d]));
  const d = byName.get(name);
  if (!d) return undefined;
  return (world, ctx, carried: { input: never; who: Who }) => d.plan!(world, ctx, carried.input, carried.who);
}
