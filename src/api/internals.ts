/**
 * The engine behind a library object, for this package's tests and
 * benchmarks (which forge commits and drive the mutation loop directly).
 * Not exported by the package: the library's users never see the engine or
 * the store.
 */
import type { Engine } from '../engine.js';
import { sessionOf, type Orchestrator } from './orchestrator.js';
import { engineOf } from './session.js';

export function engineBehind(orc: Orchestrator): Promise<Engine> {
  return engineOf(sessionOf(orc));
}
