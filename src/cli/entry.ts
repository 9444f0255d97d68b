/** Process entry of the CLI bundle: runs main() with the real process streams. */
import { lastRun, main } from './main.js';
import { originalArgv, RUNNER_USAGE, type OriginalCommand } from './original.js';
import { readStdinText } from '../read-stdin.js';
import { usedStateCache } from '../api/session.js';
import { pendingStreams, stdoutIsTTY, useStreams, writeFd } from './fd-output.js';

export function run(argv: string[] = process.argv.slice(2)): Promise<number> {
  return main(argv, {
    stdout: (s) => writeFd(1, s),
    stderr: (s) => writeFd(2, s),
    stdin: readStdinText,
    env: process.env,
    cwd: process.cwd(),
    bin: process.argv[1],
    get isTTY() {
      return stdoutIsTTY();
    },
    keepsRunning: useStreams,
  });
}

/** `orchestrator-runner` and `orchestrator-server`: the original's commands (see original.ts). */
export async function runOriginal(kind: OriginalCommand, argv: string[] = process.argv.slice(2)): Promise<number> {
  const ours = originalArgv(kind, argv);
  if (!ours) {
    writeFd(1, RUNNER_USAGE);
    return 0;
  }
  return run(ours);
}

/**
 * Which code this run went through, for the launcher's code cache: the
 * command, and whether a large board's cache was used (other code paths);
 * undefined when no command ran (usage errors, help).
 */
export function codeCacheKey(): string | undefined {
  return lastRun.command && `${lastRun.command}${usedStateCache() ? ' large' : ''}`;
}

/** Output still on its way, for the launcher to wait for before the process exits. */
export { pendingStreams };

/** The CLI with an I/O seam of its own, and how standard input is read (tests run it in process). */
export { main } from './main.js';
export { decodeUtf8 } from '../domain/text.js';
