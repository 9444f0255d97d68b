/**
 * The command line: the original CLI's commands, aliases and positional
 * arguments, with `--json` on every command and exit statuses that say what
 * happened (see README). Each action calls one api function and prints.
 */
import { Command, CommanderError } from 'commander';
import { openOrchestrator, ensureRepository, type Orchestrator, type OpenOptions } from '../api.js';
import { OrchestratorError, toOrchestratorError } from '../errors.js';
import { parseIntStrict } from '../domain/rules.js';
import { DEFAULT_TTL_MS } from '../domain/locks.js';
import { statusText } from '../domain/queries.js';
import * as fmt from './format.js';

export interface GlobalOptions {
  repo?: string;
  branch?: string;
  remote?: string;
  offline?: boolean;
  as?: string;
  json?: boolean;
  maxAttempts?: string;
}

/** What an action produced: the JSON value and the text for people. */
export interface Output {
  json: unknown;
  text: string;
}

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin: () => Promise<string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function buildProgram(io: Io): { program: Command; result: { code: number } } {
  const result = { code: 0 };
  const program = new Command();
  let orc: Orchestrator | null = null;

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();

  const open = (extra: Partial<OpenOptions> = {}): Orchestrator => {
    if (orc) return orc;
    const g = globals();
    const env = io.env;
    const remote = g.remote ?? env.ORCHESTRATOR_REMOTE;
    orc = openOrchestrator({
      repo: g.repo ?? env.ORCHESTRATOR_REPO ?? io.cwd,
      branch: g.branch ?? env.ORCHESTRATOR_BRANCH,
      remote: remote === undefined ? undefined : remote === 'none' ? null : remote,
      agent: g.as ?? env.ORCHESTRATOR_AGENT,
      offline: g.offline ?? (env.ORCHESTRATOR_OFFLINE === '1' || env.ORCHESTRATOR_OFFLINE === 'true'),
      maxAttempts: g.maxAttempts !== undefined ? parseIntStrict(g.maxAttempts, 'max attempts') : undefined,
      ...extra,
    });
    return orc;
  };

  const print = (out: Output) => {
    if (globals().json) io.stdout(JSON.stringify(out.json, null, 2) + '\n');
    else if (out.text) io.stdout(out.text.endsWith('\n') ? out.text : out.text + '\n');
  };

  /** Wraps an action: runs it, prints its output; errors propagate to main(). */
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<Output>) =>
    async (...args: A) => {
      print(await fn(...args));
    };

  program
    .name('orchestrator')
    .description('Coordinate agents through a git branch: tasks, agents, locks, events and knowledge.')
    .option('--repo <path>', 'repository to use (default: the one holding the current directory; env ORCHESTRATOR_REPO)')
    .option('--branch <name>', 'coordination branch (default: orchestrator; env ORCHESTRATOR_BRANCH)')
    .option('--remote <name>', 'remote to coordinate through, or "none" (default: origin when it exists; env ORCHESTRATOR_REMOTE)')
    .option('--offline', 'do not fetch or push: read and commit locally (env ORCHESTRATOR_OFFLINE=1)')
    .option('--as <agent>', 'acting agent for commands that do not name one: commit author (env ORCHESTRATOR_AGENT)')
    .option('--max-attempts <n>', 'attempts under contention before giving up (exit 6)')
    .option('--json', 'print exactly one JSON value: the result, or {"error", "code"}')
    .version('0.1.0', '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride();

  // --- init / status ----------------------------------------------------------------
  program
    .command('init [dir]')
    .description('create the coordination branch (git init the directory first when it is not a repository; adopts the remote\'s branch when it has one)')
    .action(
      act(async (dir?: string) => {
        const repo = dir ? await ensureRepository(dir) : undefined;
        const o = open(repo ? { repo } : {});
        const out = await o.init();
        const where = await o.where();
        const text = out.created
          ? `Initialized branch ${where.branch} in ${where.repo}${where.remote ? ` (remote ${where.remote})` : ''}`
          : `Branch ${where.branch} already exists in ${where.repo} (at ${out.commit?.slice(0, 8)})`;
        return { json: { ...out, ...where }, text };
      }),
    );

  program
    .command('status')
    .alias('s')
    .description('show workstreams, agents, locks, recent events and knowledge')
    .action(
      act(async () => {
        const o = open();
        const s = await o.status();
        return { json: s, text: statusText(s) };
      }),
    );

  // --- workstreams ------------------------------------------------------------------
  const ws = program.command('workstream').alias('ws').description('create and list workstreams');
  ws.command('create <name> [description] [priority]')
    .description('create a workstream (priority: lower is more urgent, default 5)')
    .action(
      act(async (name: string, description?: string, priority?: string) => {
        const w = await open().createWorkstream(name, {
          description: description ?? '',
          priority: priority !== undefined ? parseIntStrict(priority, 'priority') : 5,
        });
        return { json: w, text: `Created workstream: ${w.name}` };
      }),
    );
  ws.command('list')
    .alias('ls')
    .description('list workstreams with task counts')
    .action(
      act(async () => {
        const l = await open().listWorkstreams();
        return { json: l, text: fmt.workstreamList(l) };
      }),
    );

  // --- tasks ------------------------------------------------------------------------
  const task = program.command('task').alias('t').description('add, claim, complete and list tasks');
  task
    .command('add <workstream> <title> [description] [priority]')
    .description('add a pending task')
    .option('--estimate <text>', 'estimate, e.g. "2h"')
    .option('--after <ids>', 'comma-separated ids of tasks (any workstream) that must be done first')
    .option('--needs <resources>', 'comma-separated resources the task needs (never planned in parallel)')
    .option('--priority <n>', 'priority (instead of the positional one)')
    .action(
      act(async (workstream: string, title: string, description: string | undefined, priority: string | undefined, o: { estimate?: string; after?: string; needs?: string; priority?: string }) => {
        const p = o.priority ?? priority;
        const t = await open().addTask(workstream, {
          title,
          description: description ?? '',
          priority: p !== undefined ? parseIntStrict(p, 'priority') : 5,
          estimate: o.estimate ?? null,
          after: o.after ? list(o.after) : undefined,
          needs: o.needs ? list(o.needs) : undefined,
        });
        return { json: t, text: `Added task ${t.id}: ${t.title}` };
      }),
    );
  task
    .command('list <workstream>')
    .alias('ls')
    .description('list the tasks of a workstream')
    .action(
      act(async (workstream: string) => {
        const tasks = await open().listTasks(workstream);
        return { json: tasks, text: fmt.taskList(tasks) };
      }),
    );
  task
    .command('claim <workstream> <taskId> <agent>')
    .description('claim a pending task (exactly one agent wins)')
    .action(
      act(async (workstream: string, taskId: string, agent: string) => {
        const t = await open().claimTask(workstream, taskId, agent);
        return { json: t, text: `Claimed: ${t.title} -> ${agent}` };
      }),
    );
  task
    .command('complete <workstream> [taskId] [result]')
    .alias('done')
    .description('complete a task; with no id, the one in progress in the workstream ("t complete revenue \\"Done: ...\\"")')
    .action(
      act(async (workstream: string, taskId?: string, resultText?: string) => {
        const t = await open().completeFromArgs(workstream, taskId, resultText);
        return { json: t, text: `Completed: ${t.title}` };
      }),
    );
  task
    .command('next <workstream> <agent>')
    .description('claim the next ready task: lowest priority number, then oldest')
    .action(
      act(async (workstream: string, agent: string) => {
        const t = await open().getNextTask(workstream, agent);
        return { json: t, text: t ? `Claimed next task: ${t.id} - ${t.title}` : 'No pending tasks in this workstream.' };
      }),
    );
  task
    .command('ready [workstream]')
    .description('list pending tasks whose dependencies are all done, in the order "next" takes them')
    .action(
      act(async (workstream?: string) => {
        const tasks = await open().readyTasks(workstream);
        return { json: tasks, text: fmt.taskList(tasks, 'No ready tasks.') };
      }),
    );

  // --- agents -----------------------------------------------------------------------
  const agent = program.command('agent').alias('a').description('register agents and record heartbeats');
  agent
    .command('register <id> [type]')
    .description('register an agent (or update its type and capabilities)')
    .option('--capabilities <list>', 'comma-separated capabilities')
    .action(
      act(async (id: string, type: string | undefined, o: { capabilities?: string }) => {
        const a = await open().registerAgent(id, { type: type ?? 'general', capabilities: o.capabilities ? list(o.capabilities) : [] });
        return { json: a, text: `Registered agent: ${id} (${a.type})` };
      }),
    );
  agent
    .command('heartbeat <id>')
    .description('record that an agent is alive (commits at most once per half stale window)')
    .action(
      act(async (id: string) => {
        const a = await open().heartbeat(id);
        return { json: a, text: `Heartbeat: ${id}` };
      }),
    );
  agent
    .command('list')
    .alias('ls')
    .description('list agents with heartbeat age and a stale mark')
    .action(
      act(async () => {
        const l = await open().listAgents();
        return { json: l, text: fmt.agentList(l, Date.now()) };
      }),
    );

  // --- locks ------------------------------------------------------------------------
  const lock = program.command('lock').alias('l').description('acquire and release resource locks (with a TTL)');
  lock
    .command('acquire <resource> <agent>')
    .description('take a lock, or renew it when the agent holds it; exit 4 names the holder')
    .option('--ttl <ms>', `time to live in milliseconds (default ${DEFAULT_TTL_MS})`)
    .action(
      act(async (resource: string, agentId: string, o: { ttl?: string }) => {
        const l = await open().lock(resource, agentId, { ttlMs: o.ttl !== undefined ? parseIntStrict(o.ttl, 'ttl') : DEFAULT_TTL_MS });
        return { json: { acquired: true, ...l }, text: `Lock ${l.renewed ? 'renewed' : 'acquired'}: ${resource} (until ${l.expires_at})` };
      }),
    );
  lock
    .command('release <resource> <agent>')
    .description('release a lock held by the agent')
    .option('--force', "release another agent's lock (recorded as forced)")
    .action(
      act(async (resource: string, agentId: string, o: { force?: boolean }) => {
        const r = await open().unlock(resource, agentId, { force: o.force });
        const text = r.released ? `Lock released: ${resource}${r.forced ? ` (forced; was held by ${r.holder})` : ''}` : `Lock ${resource} had expired (held by ${r.holder}); removed`;
        return { json: r, text };
      }),
    );
  lock
    .command('list')
    .alias('ls')
    .description('list active locks (never expired ones)')
    .action(
      act(async () => {
        const l = await open().listLocks();
        return { json: l, text: fmt.lockList(l, Date.now()) };
      }),
    );

  // --- knowledge --------------------------------------------------------------------
  const kb = program.command('kb').alias('knowledge').description('shared markdown knowledge base');
  kb.command('write <topic> <content...>')
    .description('write a topic ("-" as content reads standard input)')
    .action(
      act(async (topic: string, content: string[]) => {
        const text = content.length === 1 && content[0] === '-' ? await io.stdin() : content.join(' ');
        const r = await open().writeKnowledge(topic, text);
        return { json: r, text: `Wrote knowledge: ${topic}` };
      }),
    );
  kb.command('read <topic>')
    .description('print a topic')
    .action(
      act(async (topic: string) => {
        const o = open();
        const content = await o.readKnowledge(topic);
        if (content === null) {
          const topics = await o.listKnowledge();
          throw new OrchestratorError('NOT_FOUND', `no knowledge on "${topic}" (known: ${topics.join(', ') || 'none'})`, { topic });
        }
        return { json: { topic, content }, text: content };
      }),
    );
  kb.command('list')
    .alias('ls')
    .description('list topics')
    .action(
      act(async () => {
        const topics = await open().listKnowledge();
        return { json: topics, text: topics.length ? topics.join('\n') : '(empty)' };
      }),
    );
  kb.command('delete <topic>')
    .alias('rm')
    .description('delete a topic')
    .action(
      act(async (topic: string) => {
        const o = open();
        if (!(await o.deleteKnowledge(topic))) {
          const topics = await o.listKnowledge();
          throw new OrchestratorError('NOT_FOUND', `topic "${topic}" not found (known: ${topics.join(', ') || 'none'})`, { topic });
        }
        return { json: { topic, deleted: true }, text: `Deleted knowledge: ${topic}` };
      }),
    );

  // --- events -----------------------------------------------------------------------
  const events = program.command('events').alias('e').description('show or add events');
  events
    .command('list', { isDefault: true })
    .description('show events, oldest first (default: the last 20)')
    .option('--last <n>', 'only the last N events (default 20; 0 for all)')
    .option('--agent <id>', 'only events of this agent')
    .option('--action <name>', 'only events with this action')
    .option('--since <time>', 'only events at or after this ISO time')
    .action(
      act(async (o: { last?: string; agent?: string; action?: string; since?: string }) => {
        const last = o.last !== undefined ? parseIntStrict(o.last, 'last') : 20;
        const list = await open().getEvents({ agent: o.agent, action: o.action, since: o.since, last: last === 0 ? undefined : last });
        return { json: list, text: fmt.eventList(list) };
      }),
    );
  events
    .command('add <action> [json]')
    .description('append a custom event (logEvent); json is an object of extra fields')
    .action(
      act(async (action: string, json?: string) => {
        let data: Record<string, unknown> = {};
        if (json !== undefined) {
          try {
            data = JSON.parse(json) as Record<string, unknown>;
          } catch (err) {
            throw new OrchestratorError('INVALID_INPUT', `event data is not valid JSON: ${(err as Error).message}`, { field: 'json' });
          }
        }
        const g = globals();
        const e = await open().logEvent(g.as ?? io.env.ORCHESTRATOR_AGENT ?? 'system', action, data);
        return { json: e, text: `Logged: ${fmt.eventLine(e)}` };
      }),
    );

  program
    .command('serve')
    .description('serve the REST API and the live dashboard from the branch tip (127.0.0.1:4000)')
    .option('--port <n>', 'port (default 4000, or PORT)')
    .option('--host <address>', 'address to bind (default 127.0.0.1); others need --token or --read-only')
    .option('--read-only', 'answer every write with 405')
    .option('--token <token>', 'writes need "Authorization: Bearer <token>" (or ORCHESTRATOR_TOKEN)')
    .option('--fetch-interval <seconds>', 'how often to fetch the remote (default 5; 0 = never)')
    .option('--cors <origin>', 'let pages of this origin call the API (off by default)')
    .action(async (o: { port?: string; host?: string; readOnly?: boolean; token?: string; fetchInterval?: string; cors?: string }) => {
      const { serve } = await import('../server/app.js');
      const g = globals();
      const env = io.env;
      const token = o.token ?? env.ORCHESTRATOR_TOKEN;
      const port = o.port ?? env.PORT;
      const remote = g.remote ?? env.ORCHESTRATOR_REMOTE;
      const server = await serve({
        port: port !== undefined ? parseIntStrict(port, 'port') : 4000,
        host: o.host ?? '127.0.0.1',
        readOnly: !!o.readOnly,
        token: token || undefined,
        fetchInterval: o.fetchInterval !== undefined ? parseIntStrict(o.fetchInterval, 'fetch interval') : 5,
        cors: o.cors,
        open: {
          repo: g.repo ?? env.ORCHESTRATOR_REPO ?? io.cwd,
          branch: g.branch ?? env.ORCHESTRATOR_BRANCH,
          remote: remote === undefined ? undefined : remote === 'none' ? null : remote,
          agent: g.as ?? env.ORCHESTRATOR_AGENT,
          offline: g.offline ?? env.ORCHESTRATOR_OFFLINE === '1',
        },
        log: (line) => io.stderr(line + '\n'),
      });
      const where = await server.orc.where();
      const mode = o.readOnly ? 'read-only' : token ? 'writes need the token' : 'writable from this machine';
      if (globals().json) io.stdout(JSON.stringify({ url: server.url, ...where, read_only: !!o.readOnly }) + '\n');
      else {
        io.stdout(`Orchestrator dashboard: ${server.url}${token ? '#token=' + encodeURIComponent(token) : ''}\n`);
        io.stdout(`API: ${server.url}api/status (${mode})\n`);
        io.stdout(`Branch ${where.branch} of ${where.repo}${where.remote ? `, fetching ${where.remote} every ${o.fetchInterval ?? 5}s` : ''}\n`);
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });

  program.hook('postAction', () => {
    orc?.close();
  });

  return { program, result };
}

/** Runs the CLI; returns the exit status (only the bin shim exits). */
export async function main(argv: string[], io: Io): Promise<number> {
  const { program } = buildProgram(io);
  const wantsJson = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0.
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      if (wantsJson) io.stdout(JSON.stringify({ error: err.message.replace(/^error: /, ''), code: 'INVALID_INPUT' }) + '\n');
      return 2;
    }
    const e = toOrchestratorError(err);
    if (wantsJson) io.stdout(JSON.stringify(e.toJSON(), null, 2) + '\n');
    else io.stderr(`Error: ${e.message}\n`);
    if (e.code === 'INTERNAL' && process.env.ORCHESTRATOR_DEBUG && err instanceof Error) io.stderr(String(err.stack) + '\n');
    return e.exitCode;
  }
}
