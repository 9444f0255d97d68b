/**
 * zod, loaded on first use. Schemas are built when an operation is first
 * validated, so a command that validates nothing (`status`, a list) never
 * evaluates zod's modules at start-up. Only the functions listed in
 * zod-functions.ts exist here (the type checker holds every use to that list).
 */
import type * as ZodFunctions from './zod-functions.js';

type Functions = typeof ZodFunctions;

let loaded: Functions | undefined;

function load(): Functions {
  try {
    return require('./zod-functions.js') as Functions;
  } catch (err) {
    // Sources run as TypeScript (the test runner), where the file is zod-functions.ts: zod itself has them all
    // (named by a variable, which the bundler leaves alone: the bundle has the file above).
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    const zod = 'zod/mini';
    return require(zod) as Functions;
  }
}

export const z: Functions = new Proxy({} as Functions, {
  get: (_, key) => (loaded ??= load())[key as keyof Functions],
});
