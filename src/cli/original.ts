/**
 * The original package's two other commands, `orchestrator-runner` and
 * `orchestrator-server`, as command lines of this CLI. They accept what the
 * original's runner.js and server.js accepted: `plan`/`p`, `brief`/`b <ws>`,
 * `collect`/`c` (anything else prints the usage and exits 0, as the
 * original did), and for the server `PORT` (and ORCHESTRATOR_DIR, like
 * every command: see context.ts); options of `serve` pass through.
 */

export type OriginalCommand = 'runner' | 'server';

export const RUNNER_USAGE = `Orchestrator Runner
  orchestrator-runner plan        - Generate cycle plan (JSON)
  orchestrator-runner brief <ws>  - Generate agent brief
  orchestrator-runner collect     - Collect cycle results (JSON)
(each is also a command of orchestrator: orchestrator plan|brief|collect --help)
`;

const RUNNER: Record<string, string> = { plan: 'plan', p: 'plan', brief: 'brief', b: 'brief', collect: 'collect', c: 'collect' };

/** This CLI's arguments for an original command's, or null: print the runner's usage. */
export function originalArgv(kind: OriginalCommand, args: string[]): string[] | null {
  if (kind === 'server') return ['serve', ...args];
  const [cmd, ...rest] = args;
  const ours = cmd === undefined ? undefined : RUNNER[cmd];
  return ours ? [ours, ...rest] : null;
}
