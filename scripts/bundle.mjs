// Bundles the CLI into one file: one read and one compile at start-up
// instead of hundreds of module lookups (start-up is measured in bench).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

rmSync(new URL('../dist/.cache', import.meta.url), { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The server's and the MCP server's dependencies load only for `serve` and `mcp`, from node_modules
  // (isomorphic-git too: those long-running processes read packed objects with it).
  external: ['express', 'playwright-core', '@modelcontextprotocol/sdk', 'isomorphic-git'],
  mainFields: ['module', 'main'],
  plugins: [
    {
      name: 'lean-deps',
      setup(b) {
        // commander loads child_process only to run external subcommands,
        // which we do not use; loading it costs ~5 ms on every start.
        b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
          /[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'lazy' } : undefined,
        );
        b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
          contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
          loader: 'js',
        }));
        // `import * as fs from 'node:fs'` makes a copy of the module's namespace
        // in every file that says it (~0.3 ms each at start-up); one shared
        // module re-exports each builtin once instead.
        b.onResolve({ filter: /^node:(fs|path|os)$/ }, (args) => (args.namespace === 'shared-builtin' ? undefined : { path: args.path, namespace: 'shared-builtin' }));
        b.onLoad({ filter: /.*/, namespace: 'shared-builtin' }, (args) => ({ contents: `export * from '${args.path}';`, loader: 'js' }));
      },
    },
  ],
  sourcemap: 'linked',
  minifySyntax: true,
  keepNames: false,
  legalComments: 'none',
  logLevel: 'warning',
  // Non-ASCII characters escaped: the launcher reads a bundle as Latin-1, faster than decoding UTF-8.
  charset: 'ascii',
};
await build({ ...common, entryPoints: ['src/cli/entry.ts'], outfile: 'dist/cli.bundle.cjs' });
// The pre-receive check starts on every push: a bundle of its own, without the CLI.
await build({ ...common, entryPoints: ['src/hooks/entry.ts'], outfile: 'dist/hook.bundle.cjs' });
for (const file of ['dist/cli.bundle.cjs', 'dist/hook.bundle.cjs']) {
  const at = readFileSync(file).findIndex((b) => b > 0x7f);
  if (at >= 0) throw new Error(`${file} has a non-ASCII byte at ${at}: the launcher reads bundles as Latin-1`);
}
// The benchmark runs from source too, bundled the same way.
await build({ ...common, entryPoints: ['bench/run.ts'], outfile: 'dist/bench.cjs', sourcemap: false, external: [...common.external, 'autocannon'] });
