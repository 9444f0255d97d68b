/**
 * node:zlib, loaded on first use. It brings Node's stream modules (a few
 * milliseconds of a CLI call's start-up), which a command that reads what
 * it needs from the snapshot cache never uses (see snapshot-cache.ts).
 */
let loaded: typeof import('node:zlib') | undefined;

export function zlib(): typeof import('node:zlib') {
  return (loaded ??= require('node:zlib') as typeof import('node:zlib'));
}
