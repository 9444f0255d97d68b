/**
 * The command line: the original CLI's commands, aliases and positional
 * arguments, with `--json` on every command and exit statuses from the one
 * error table (src/errors.ts). The commands live in rooms, one file per
 * group (src/cli/commands), built from the operations' declarations.
 */
import { Command, CommanderError } from 'commander';
import { toOrchestratorError } from '../errors.js';
import { CliContext, ExitQuietly, type Io } from './context.js';
import { addRoom, addUnclaimed, roomWords, unclaimedWords, type Room } from './room.js';
import { DECLARATIONS } from '../api/ops/index.js';
import type { AnyDeclaration } from '../api/declare.js';
import board from './commands/board.js';
import workstream from './commands/workstream.js';
import task from './commands/task.js';
import agent from './commands/agent.js';
import lock from './commands/lock.js';
import knowledge from './commands/knowledge.js';
import events from './commands/events.js';
import history from './commands/history.js';
import hooks from './commands/hooks.js';
import runner from './commands/runner.js';
import branch from './commands/branch.js';
import agentLoop from './commands/agent-loop.js';
import serve from './commands/serve.js';
import demo from './commands/demo.js';

export type { Io, GlobalOptions, Output } from './context.js';
export { ExitQuietly } from './context.js';

/** Every exit status, for the top-level help (each command's help lists its own). */
const EXIT_HELP = `
Exit status:
  0  ok
  1  unexpected failure (a bug, or data this version cannot read)
  2  invalid input or usage (AMBIGUOUS too: name the task)
  3  not found (workstream, task, agent, topic, lock, commit)
  4  refused by the board: task not pending or held by another agent, lock
     held, already exists, local operations need sync, verification failed
  5  remote failure (unreachable, push refused for a reason other than a race)
  6  gave up after retries under contention (--max-attempts)
With --json, a failure prints {"error", "code"}; the codes are stable.

Acting agent: --as, else ORCHESTRATOR_AGENT, else git config orchestrator.agent.`;

/** In the order `--help` lists them. */
const ROOMS: Room[] = [branch, board, workstream, task, agent, lock, knowledge, events, history, hooks, runner, agentLoop, demo, serve];

/** The command this process ran (for the launcher's code cache), once it starts. */
export const lastRun: { command?: string } = {};

/**
 * The command word of a command line: its first word that is neither an
 * option nor the value of one of the program's options (`valued`);
 * undefined when there is none.
 */
function commandWord(argv: readonly string[], valued: ReadonlySet<string>): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return argv[i + 1];
    if (!a.startsWith('-')) return a;
    // Help before the command is the program's help: it lists every command.
    if (a === '-h' || a === '--help') return undefined;
    if (valued.has(a)) i++;
  }
  return undefined;
}

/**
 * The program. With `argv`, a command line naming a known command builds
 * only the commands it can reach (every call is a new process, and building
 * all fifty commands is a measurable part of start-up); anything else (no
 * command, `help`, an unknown word) builds them all, so help and the
 * suggestions for a mistyped command are the same.
 */
export function buildProgram(io: Io, argv?: readonly string[]): { program: Command; ctx: CliContext } {
  const program = new Command();
  const ctx = new CliContext(io, program);
  program
    .name('orchestrator')
    .description('Coordinate agents through a git branch: tasks, agents, locks, events and knowledge.')
    .option('--repo <path>', 'repository to use (default: the one holding the current directory; env ORCHESTRATOR_REPO, or the original\'s ORCHESTRATOR_DIR)')
    .option('--branch <name>', 'coordination branch (default: orchestrator; env ORCHESTRATOR_BRANCH)')
    .option('--remote <name>', 'remote to coordinate through, or "none" (default: origin when it exists; env ORCHESTRATOR_REMOTE)')
    .option('--offline', 'do not fetch or push: read and commit locally (env ORCHESTRATOR_OFFLINE=1)')
    .option('--allow-offline', 'when the remote cannot be reached, commit locally instead of failing (then: sync)')
    .option('--as <agent>', 'acting agent for commands that do not name one: commit author (else env ORCHESTRATOR_AGENT, else git config orchestrator.agent)')
    .option('--max-attempts <n>', 'attempts under contention before giving up (exit 6)')
    .option('--stale-after <seconds>', 'an agent is stale after this long without a sign of life (default 300; env ORCHESTRATOR_STALE_AFTER)')
    .option('--json', 'print exactly one JSON value: the result, or {"error", "code"}')
    .version('0.1.0', '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride();
  program.addHelpText('after', EXIT_HELP);
  const claimed = new Set<string>();
  const valued = new Set(program.options.filter((o) => o.required || o.optional).map((o) => o.long!));
  const word = argv && commandWord(argv, valued);
  const room = word === undefined ? undefined : ROOMS.find((r) => roomWords(r).includes(word));
  if (room) addRoom(program, room, ctx, claimed);
  else if (word !== undefined && (DECLARATIONS as readonly AnyDeclaration[]).some((d) => unclaimedWords(d).includes(word))) addUnclaimed(program, ctx, claimed, word);
  else {
    for (const room of ROOMS) addRoom(program, room, ctx, claimed);
    addUnclaimed(program, ctx, claimed);
  }
  program.hook('preAction', (_program, action) => {
    const words: string[] = [];
    for (let c: Command | null = action; c && c !== program; c = c.parent) words.unshift(c.name());
    lastRun.command = words.join(' ');
  });
  program.hook('postAction', () => ctx.close());
  return { program, ctx };
}

/** Runs the CLI; returns the exit status (only the bin shim exits). */
export async function main(argv: string[], io: Io): Promise<number> {
  const { program, ctx } = buildProgram(io, argv);
  const wantsJson = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    ctx.close();
    if (err instanceof ExitQuietly) return err.code;
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0.
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      if (wantsJson) io.stdout(JSON.stringify({ error: err.message.replace(/^error: /, ''), code: 'INVALID_INPUT' }) + '\n');
      return 2;
    }
    const e = toOrchestratorError(err);
    if (wantsJson) io.stdout(JSON.stringify(e.toJSON(), null, 2) + '\n');
    else io.stderr(`Error: ${e.message}\n`);
    if (e.code === 'INTERNAL' && io.env.ORCHESTRATOR_DEBUG && err instanceof Error) io.stderr(String(err.stack) + '\n');
    return e.exitCode;
  }
}
