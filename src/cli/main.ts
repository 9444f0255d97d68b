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
import { invoke } from '../api/invoke.js';
import { sessionOf } from '../api/orchestrator.js';
import { completeTask } from '../api/ops/task.js';
import type { Task } from '../domain/types.js';

export interface GlobalOptions {
  repo?: string;
  branch?: string;
  remote?: string;
  offline?: boolean;
  allowOffline?: boolean;
  as?: string;
  json?: boolean;
  maxAttempts?: string;
  staleAfter?: string;
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
  /** Path of this CLI's entry script (to start more of itself). */
  bin: string;
}

function staleMs(seconds: string | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  const n = parseIntStrict(seconds, 'stale-after');
  if (n < 1) throw new OrchestratorError('INVALID_INPUT', `stale-after ${n} is invalid: must be at least 1 second`, { field: 'stale-after' });
  return n * 1000;
}

/** How to call this CLI again on the same branch, for briefs (no paths). */
function selfCommand(g: GlobalOptions, env: NodeJS.ProcessEnv): string {
  const branch = g.branch ?? env.ORCHESTRATOR_BRANCH;
  return `orchestrator${branch && branch !== 'orchestrator' ? ` --branch ${branch}` : ''}`;
}

/** An exit status without another message (the command printed its own). */
export class ExitQuietly {
  constructor(readonly code: number) {}
}

/** "7d", "12h", "30m", "45s" or plain seconds, in milliseconds. */
function duration(text: string): number {
  const m = /^(\d+)\s*(d|h|m|s)?$/.exec(text.trim());
  if (!m) throw new OrchestratorError('INVALID_INPUT', `duration ${JSON.stringify(text)} is invalid: use a number with d, h, m or s (7d, 12h)`, { field: 'duration' });
  return Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[(m[2] ?? 's') as 'd' | 'h' | 'm' | 's'];
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

  /** The library's options from the global flags and the environment (every command, serve included). */
  const openOptions = (): OpenOptions => {
    const g = globals();
    const env = io.env;
    const remote = g.remote ?? env.ORCHESTRATOR_REMOTE;
    const flag = (v: string | undefined) => v === '1' || v === 'true';
    return {
      repo: g.repo ?? env.ORCHESTRATOR_REPO ?? io.cwd,
      branch: g.branch ?? env.ORCHESTRATOR_BRANCH,
      remote: remote === undefined ? undefined : remote === 'none' ? null : remote,
      agent: g.as ?? env.ORCHESTRATOR_AGENT,
      offline: g.offline ?? flag(env.ORCHESTRATOR_OFFLINE),
      allowOffline: g.allowOffline ?? flag(env.ORCHESTRATOR_ALLOW_OFFLINE),
      onOffline: (reason) => io.stderr(`warning: working offline (${reason.replace(/ \(use --offline.*\)$/, '')}); run "orchestrator sync" when the remote is back\n`),
      maxAttempts: g.maxAttempts !== undefined ? parseIntStrict(g.maxAttempts, 'max attempts') : undefined,
      staleMs: staleMs(g.staleAfter ?? env.ORCHESTRATOR_STALE_AFTER),
    };
  };

  const open = (extra: Partial<OpenOptions> = {}): Orchestrator => {
    if (orc) return orc;
    orc = openOrchestrator({ ...openOptions(), ...extra });
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
    .option('--allow-offline', 'when the remote cannot be reached, commit locally instead of failing (then: sync)')
    .option('--as <agent>', 'acting agent for commands that do not name one: commit author (env ORCHESTRATOR_AGENT)')
    .option('--max-attempts <n>', 'attempts under contention before giving up (exit 6)')
    .option('--stale-after <seconds>', 'an agent is stale after this long without a sign of life (default 300; env ORCHESTRATOR_STALE_AFTER)')
    .option('--json', 'print exactly one JSON value: the result, or {"error", "code"}')
    .version('0.1.0', '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride();

  // --- init / status ----------------------------------------------------------------
  program
    .command('init [dir]')
    .description('create the coordination branch (git init the directory first when it is not a repository; adopts the remote\'s branch when it has one)')
    .option('--events-per-segment <n>', 'seal the event log into a new segment every N events (default 10000)')
    .action(
      act(async (dir: string | undefined, opts: { eventsPerSegment?: string }) => {
        const repo = dir ? await ensureRepository(dir) : undefined;
        const o = open(repo ? { repo } : {});
        const out = await o.init();
        if (opts.eventsPerSegment !== undefined) await o.setSettings({ events_per_segment: parseIntStrict(opts.eventsPerSegment, 'events per segment') });
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
        const t = (await invoke(sessionOf(open()), completeTask, { workstream, id: taskId, result: resultText, loose: true }, 'cli')) as Task;
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

  task
    .command('show <workstream> <taskId>')
    .description('one task with its dependencies, the tasks waiting for it and its history (commits)')
    .action(
      act(async (workstream: string, taskId: string) => {
        const t = await open().showTask(workstream, taskId);
        const lines = [fmt.taskLine({ ...t, workstream })];
        if (t.description) lines.push(`  ${t.description.replace(/\n/g, '\n  ')}`);
        lines.push(`  priority ${t.priority}${t.estimate ? `, estimate ${t.estimate}` : ''}${t.needs?.length ? `, needs ${t.needs.join(', ')}` : ''}${t.status === 'pending' ? (t.ready ? ', ready' : ', blocked') : ''}`);
        if (t.result) lines.push(`  result: ${t.result}`);
        if (t.dependencies.length) {
          lines.push('Depends on:');
          for (const d of t.dependencies) lines.push(`  [${d.status}] ${d.workstream ?? '?'}/${d.id}: ${d.title ?? '(missing)'}${d.result ? ` -> ${d.result}` : ''}`);
        }
        if (t.dependents.length) {
          lines.push('Needed by:');
          for (const d of t.dependents) lines.push(`  [${d.status}] ${d.workstream}/${d.id}: ${d.title}`);
        }
        lines.push('History:');
        for (const h of t.history) lines.push(`  ${h.id.slice(0, 8)} ${h.time} ${h.agent}: ${h.subject}`);
        return { json: t, text: lines.join('\n') };
      }),
    );
  task
    .command('release <workstream> <taskId>')
    .description('give a task back: in progress (or failed) becomes pending and unassigned')
    .action(
      act(async (workstream: string, taskId: string) => {
        const t = await open().releaseTask(workstream, taskId);
        return { json: t, text: `Released: ${t.title} (pending again)` };
      }),
    );
  task
    .command('fail <workstream> <taskId> <reason...>')
    .description('mark a task failed, with the reason')
    .action(
      act(async (workstream: string, taskId: string, reason: string[]) => {
        const t = await open().failTask(workstream, taskId, reason.join(' '));
        return { json: t, text: `Failed: ${t.title}` };
      }),
    );
  task
    .command('requeue <workstream> [taskIds...]')
    .description('return tasks in progress to pending: the named ones, or --stale: those of agents without a sign of life')
    .option('--stale', 'requeue the tasks of stale agents')
    .option('--stale-after <seconds>', 'stale window for this call (default: the global one, 300 s)')
    .action(
      act(async (workstream: string, taskIds: string[], o: { stale?: boolean; staleAfter?: string }) => {
        const tasks = await open().requeue(workstream, { ids: taskIds, stale: !!o.stale, staleMs: staleMs(o.staleAfter ?? globals().staleAfter) });
        return { json: tasks, text: tasks.length ? tasks.map((t) => `Requeued: ${t.id} ${t.title}`).join('\n') : 'Nothing to requeue.' };
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
    .option('--wait <ms>', 'wait up to this long while another agent holds it (default 0)')
    .action(
      act(async (resource: string, agentId: string, o: { ttl?: string; wait?: string }) => {
        const waitMs = o.wait !== undefined ? parseIntStrict(o.wait, 'wait') : 0;
        if (waitMs < 0) throw new OrchestratorError('INVALID_INPUT', `wait ${waitMs} is invalid: must not be negative`, { field: 'wait' });
        const l = await open().lockWait(resource, agentId, { ttlMs: o.ttl !== undefined ? parseIntStrict(o.ttl, 'ttl') : DEFAULT_TTL_MS, waitMs });
        const waited = l.waited_ms >= 1000 ? ` after waiting ${Math.round(l.waited_ms / 1000)}s` : '';
        return { json: { acquired: true, ...l }, text: `Lock ${l.renewed ? 'renewed' : 'acquired'}: ${resource} (until ${l.expires_at})${waited}` };
      }),
    );
  lock
    .command('renew <resource> <agent>')
    .description('extend a lock the agent holds')
    .option('--ttl <ms>', `new time to live from now (default ${DEFAULT_TTL_MS})`)
    .action(
      act(async (resource: string, agentId: string, o: { ttl?: string }) => {
        const l = await open().renewLock(resource, agentId, { ttlMs: o.ttl !== undefined ? parseIntStrict(o.ttl, 'ttl') : DEFAULT_TTL_MS });
        return { json: l, text: `Lock renewed: ${resource} (until ${l.expires_at})` };
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
    .option('--workstream <name>', 'only events about this workstream')
    .option('--since <time>', 'only events at or after this ISO time')
    .action(
      act(async (o: { last?: string; agent?: string; action?: string; workstream?: string; since?: string }) => {
        const last = o.last !== undefined ? parseIntStrict(o.last, 'last') : 20;
        const list = await open().getEvents({ agent: o.agent, action: o.action, workstream: o.workstream, since: o.since, last: last === 0 ? undefined : last });
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

  // --- history and integrity --------------------------------------------------------
  program
    .command('log')
    .description('the audit trail: one line per commit (short id, time, agent, operation), newest first')
    .option('--agent <id>', 'only commits by this agent')
    .option('--action <op>', 'only this operation (task.claim) or kind (task)')
    .option('--since <time>', 'only commits at or after this ISO time')
    .option('--last <n>', 'only the newest N (default 20; 0 for all)')
    .action(
      act(async (o: { agent?: string; action?: string; since?: string; last?: string }) => {
        const last = o.last !== undefined ? parseIntStrict(o.last, 'last') : 20;
        const entries = await open().log({ agent: o.agent, action: o.action, since: o.since, last: last === 0 ? undefined : last });
        const text = entries.length ? entries.map((e) => `${e.id.slice(0, 8)} ${e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} ${e.agent}: ${e.subject}`).join('\n') : 'No commits.';
        return { json: entries, text };
      }),
    );
  program
    .command('verify [range]')
    .description('replay every commit\'s recorded operation on its parent and check the commit is exactly the result (range: A..B, or a commit; default the branch)')
    .action(
      act(async (range?: string) => {
        const quiet = globals().json;
        const r = await open().verify(range, quiet ? undefined : (n, total) => io.stderr(`verified ${n} of ${total} commits\n`));
        if (r.problem) {
          throw new OrchestratorError('CONFLICT', `commit ${r.problem.commit.slice(0, 8)} ${r.problem.reason} (${r.checked - 1} commits before it verified)`, { commit: r.problem.commit, checked: r.checked });
        }
        return { json: r, text: `${r.checked} commits verified${r.to ? ` up to ${r.to.slice(0, 8)}` : ''}: every one is exactly what its recorded operation produces.` };
      }),
    );
  program
    .command('archive')
    .description('move done tasks out of state.json into archive/ (still shown by t show, collect and the API)')
    .option('--older-than <duration>', 'only tasks done longer ago than this: 7d, 12h, 30m, 0 (default 7d)')
    .action(
      act(async (o: { olderThan?: string }) => {
        const r = await open().archive({ olderThanMs: o.olderThan !== undefined ? duration(o.olderThan) : undefined });
        return { json: r, text: r.archived ? `Archived ${r.archived} done tasks into ${r.files.map((f) => 'archive/' + f).join(', ')}` : 'Nothing to archive.' };
      }),
    );
  program
    .command('sync')
    .description('push operations committed offline: each is applied again on the remote\'s tip; those no longer valid are dropped and listed (exit 4)')
    .action(
      act(async () => {
        const r = await open().sync();
        const lines = [`Synced with ${r.remote}: ${r.applied.length} applied, ${r.dropped.length} dropped.`];
        for (const d of r.dropped) lines.push(`dropped ${d.commit.slice(0, 8)} ${d.op} (${d.target}): ${d.reason}`);
        if (r.dropped.length) {
          if (globals().json) io.stdout(JSON.stringify(r, null, 2) + '\n');
          else io.stdout(lines.join('\n') + '\n');
          throw new ExitQuietly(4);
        }
        return { json: r, text: lines.join('\n') };
      }),
    );
  const hooks = program.command('hooks').description('guard a shared repository (the bare remote) with a pre-receive hook');
  hooks
    .command('install <repo>')
    .description('install the hook: refuses deletion, non-fast-forward updates and commits that do not replay on their parent')
    .option('--branch <names>', 'comma-separated branches to guard (default: the coordination branch)')
    .action(
      act(async (repo: string, o: { branch?: string }) => {
        const { installHook } = await import('../hooks/install.js');
        const branches = o.branch ? list(o.branch) : [globals().branch ?? io.env.ORCHESTRATOR_BRANCH ?? 'orchestrator'];
        const r = await installHook(repo, branches);
        return { json: r, text: `${r.replaced ? 'Reinstalled' : 'Installed'} the pre-receive hook in ${r.repo}, guarding ${r.branches.join(', ')}${r.chained ? ' (the existing hook runs first)' : ''}` };
      }),
    );
  hooks
    .command('uninstall <repo>')
    .description('remove the hook (a hook that was there before comes back)')
    .action(
      act(async (repo: string) => {
        const { uninstallHook } = await import('../hooks/install.js');
        const r = await uninstallHook(repo);
        return { json: r, text: `Removed the pre-receive hook from ${r.repo}${r.restored ? ' (the previous hook is back)' : ''}` };
      }),
    );
  hooks
    .command('pre-receive', { hidden: true })
    .action(async () => {
      const { checkPush } = await import('../hooks/pre-receive.js');
      const guarded = list(io.env.ORCHESTRATOR_GUARD_BRANCHES ?? 'orchestrator');
      const refusals = await checkPush(await io.stdin(), guarded, io.cwd);
      for (const r of refusals) io.stderr(`orchestrator: ${r.message}\n`);
      if (refusals.length) throw new ExitQuietly(1);
    });

  // --- runner -----------------------------------------------------------------------
  program
    .command('plan')
    .description('the cycle plan: ready tasks, idle agents and who should take what, serial work, stale agents (JSON)')
    .option('--markdown', 'print it for people instead of JSON')
    .action(async (o: { markdown?: boolean }) => {
      const { planMarkdown } = await import('../domain/plan.js');
      const p = await open().plan();
      io.stdout(o.markdown && !globals().json ? planMarkdown(p) : JSON.stringify(p, null, 2) + '\n');
    });
  program
    .command('brief <workstream> [taskId]')
    .description("a markdown brief for one agent: the task (default: the next ready one), its dependencies' results, relevant knowledge, recent events, the commands to report back")
    .option('--agent <id>', 'the agent the brief is for (fills in the commands)')
    .action(
      act(async (workstream: string, taskId: string | undefined, o: { agent?: string }) => {
        const g = globals();
        const b = await open().brief(workstream, taskId, { agent: o.agent, command: selfCommand(g, io.env) });
        return { json: b, text: b.markdown };
      }),
    );
  program
    .command('collect')
    .description('what happened since the last collect, from git history; records a cycle marker (JSON)')
    .option('--since <commit|time>', 'start after this commit id or ISO time instead of the last marker')
    .option('--no-record', 'do not record a cycle marker')
    .action(
      act(async (o: { since?: string; record?: boolean }) => {
        const c = await open().collect({ since: o.since, record: o.record });
        return { json: c, text: JSON.stringify(c, null, 2) };
      }),
    );

  program
    .command('import <dir>')
    .description("import an original orchestrator's data directory (state.json, events.jsonl, knowledge/) as the branch")
    .option('--force', 'replace a branch that already has data')
    .action(
      act(async (dir: string, o: { force?: boolean }) => {
        const quiet = globals().json;
        const r = await open().importSeed(dir, { force: o.force, onProgress: quiet ? undefined : (m) => io.stderr(`import: ${m}\n`) });
        return {
          json: r,
          text: `Imported ${r.workstreams} workstreams, ${r.tasks} tasks, ${r.agents} agents, ${r.events} events, ${r.topics} topics, ${r.locks} locks (commit ${r.commit?.slice(0, 8)})`,
        };
      }),
    );

  program
    .command('demo')
    .description('three simulated agents working through a temporary remote, with the dashboard (what npm start runs)')
    .option('--port <n>', 'dashboard port (default 4000; the next free one when taken; 0 = any)')
    .option('--duration <seconds>', 'how long the agents work (default 60)')
    .option('--keep', 'keep the temporary repositories when stopping')
    .action(async (o: { port?: string; duration?: string; keep?: boolean }) => {
      const { runDemo } = await import('../demo/demo.js');
      const duration = o.duration !== undefined ? parseIntStrict(o.duration, 'duration') : 60;
      if (duration < 1 || duration > 3600) throw new OrchestratorError('INVALID_INPUT', 'duration must be 1-3600 seconds', { field: 'duration' });
      await runDemo({
        port: o.port !== undefined ? parseIntStrict(o.port, 'port') : 4000,
        duration,
        keep: !!o.keep,
        bin: io.bin,
        out: (l) => io.stdout(l + '\n'),
      });
    });
  program
    .command('demo-agent <id>', { hidden: true })
    .option('--duration <seconds>', 'how long to work', '60')
    .action(async (id: string, o: { duration: string }) => {
      const { runDemoAgent } = await import('../demo/agent.js');
      await runDemoAgent(id, globals().repo ?? io.cwd, parseIntStrict(o.duration, 'duration'), (l) => io.stdout(l + '\n'));
    });

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
      const env = io.env;
      const token = o.token ?? env.ORCHESTRATOR_TOKEN;
      const port = o.port ?? env.PORT;
      const server = await serve({
        port: port !== undefined ? parseIntStrict(port, 'port') : 4000,
        host: o.host ?? '127.0.0.1',
        readOnly: !!o.readOnly,
        token: token || undefined,
        fetchInterval: o.fetchInterval !== undefined ? parseIntStrict(o.fetchInterval, 'fetch interval') : 5,
        cors: o.cors,
        open: openOptions(),
        log: (line) => io.stderr(line + '\n'),
      });
      const where = await server.orc.where();
      const mode = o.readOnly ? 'read-only' : token ? 'writes need the token' : 'writable from this machine';
      if (globals().json) io.stdout(JSON.stringify({ url: server.url, ...where, read_only: !!o.readOnly }) + '\n');
      else {
        // The token goes into the printed URL only on a terminal: other output tends to end up in logs.
        const withToken = token && process.stdout.isTTY ? '#token=' + encodeURIComponent(token) : '';
        io.stdout(`Orchestrator dashboard: ${server.url}${withToken}${token && !withToken ? ' (open it with #token=<your token> at the end)' : ''}\n`);
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
    if (e.code === 'INTERNAL' && process.env.ORCHESTRATOR_DEBUG && err instanceof Error) io.stderr(String(err.stack) + '\n');
    return e.exitCode;
  }
}
