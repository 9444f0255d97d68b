/**
 * The library: `openOrchestrator()` returns the original orchestrator's
 * functions (async), backed by the coordination branch of a git repository.
 * The CLI, the server and the runner are thin adapters over this object.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listRemotes } from 'isomorphic-git';
import { Engine, type Intent, type MutateOptions, type MutationOutcome, type Prepare } from './engine.js';
import { PLANNERS } from './planners.js';
import type { NoChange } from './domain/op.js';
import { syncBranch, type SyncResult } from './sync.js';
import { known, OrchestratorError } from './errors.js';
import { findTaskAnywhere, getTask, getWorkstream } from './domain/draft.js';
import { DEFAULT_TTL_MS, isActive, LOCK_SKEW_MS } from './domain/locks.js';
import type { OpBase } from './domain/op.js';
import { own } from './domain/own.js';
import type { AcquireLockOp } from './domain/ops/acquire-lock.js';
import type { AddTaskOp } from './domain/ops/add-task.js';
import type { ClaimTaskOp } from './domain/ops/claim-task.js';
import type { CompleteTaskOp } from './domain/ops/complete-task.js';
import type { CreateWorkstreamOp, WorkstreamResult } from './domain/ops/create-workstream.js';
import type { DeleteKnowledgeOp } from './domain/ops/delete-knowledge.js';
import type { HeartbeatOp } from './domain/ops/heartbeat.js';
import type { InitOp } from './domain/ops/init.js';
import { checkEventData, type LogEventOp } from './domain/ops/log-event.js';
import type { AgentResult, RegisterAgentOp } from './domain/ops/register-agent.js';
import type { ReleaseLockOp, ReleaseResult } from './domain/ops/release-lock.js';
import type { WriteKnowledgeOp } from './domain/ops/write-knowledge.js';
import type { ReleaseTaskOp } from './domain/ops/release-task.js';
import type { FailTaskOp } from './domain/ops/fail-task.js';
import type { RequeueTasksOp } from './domain/ops/requeue-tasks.js';
import type { RenewLockOp } from './domain/ops/renew-lock.js';
import type { CollectCycleOp } from './domain/ops/collect-cycle.js';
import type { ImportBoardOp, ImportResult } from './domain/ops/import-board.js';
import type { SetSettingsOp } from './domain/ops/set-settings.js';
import type { ArchiveTasksOp } from './domain/ops/archive-tasks.js';
import type { VerifyResult } from './store/verify.js';
import { makePlan, type Plan } from './domain/plan.js';
import { makeBrief, relevantTopics } from './domain/brief.js';
import { collect, type Collected } from './domain/collect.js';
import {
  activeLocks,
  DEFAULT_STALE_MS,
  filterEvents,
  listAgents,
  listWorkstreams,
  parseSince,
  pickNext,
  readyTasks,
  soleInProgress,
  statusText,
  type AgentView,
  type EventFilter,
  type StatusView,
  type WorkstreamSummary,
} from './domain/queries.js';
import { check, LIMITS } from './domain/rules.js';
import type { LogEntry, Lock, OrcEvent, Settings, State, Task } from './domain/types.js';
import { fastFs } from './store/fs-client.js';
import { GitStore } from './store/git-store.js';
import type { Snapshot } from './store/layout.js';
import { findRepo, requireRepo, type RepoPaths } from './store/repo.js';
import { toEntry, walkHistory } from './store/history.js';

export const DEFAULT_BRANCH = 'orchestrator';
export type { SyncResult };

export interface OpenOptions {
  /** A directory inside the repository (work tree or bare); default: the current directory. */
  repo?: string;
  /** The coordination branch; default "orchestrator". */
  branch?: string;
  /**
   * Remote to coordinate through. Default: "origin" when the repository has
   * it, else none. `null` or "none": local only.
   */
  remote?: string | null;
  /** The acting agent for operations that do not name one (commit author). */
  agent?: string;
  /** Never fetch or push: commit locally only. */
  offline?: boolean;
  /** When the remote cannot be reached, commit locally (sync later) instead of failing. */
  allowOffline?: boolean;
  /** Hears once that the remote could not be reached and work went offline. */
  onOffline?: (reason: string) => void;
  /** Attempts under contention before CONTENTION (default 30). */
  maxAttempts?: number;
  /** An agent is stale when last_seen is older than this (default 5 minutes). */
  staleMs?: number;
  /** Milliseconds since the epoch; tests pass a fixed clock. */
  clock?: () => number;
  /**
   * Fetch before every read when there is a remote (default true). A
   * long-running reader (the server) fetches on its own schedule instead.
   */
  fetchOnRead?: boolean;
}

export interface TaskInput {
  title: string;
  description?: string;
  priority?: number;
  estimate?: string | null;
  /** Ids of tasks (any workstream) that must be done first. */
  after?: string[];
  /** Resources the task needs; tasks sharing one are never planned in parallel. */
  needs?: string[];
}

export interface LogFilter {
  /** Only commits by this agent. */
  agent?: string;
  /** Only this operation type (`task.claim`) or an operation type prefix (`task`). */
  action?: string;
  /** Only commits at or after this time (ISO). */
  since?: string;
  /** Only the newest N matches. */
  last?: number;
  /** Only commits whose operation names this task id. */
  task?: string;
}

export interface TaskDetail extends Task {
  workstream: string;
  /** Pending with every dependency done. */
  ready: boolean;
  dependencies: Array<{ workstream: string | null; id: string; title: string | null; status: string; result: string | null }>;
  dependents: Array<{ workstream: string; id: string; title: string; status: string }>;
  /** The commits that touched the task, newest first. */
  history: LogEntry[];
}

export interface SeedState extends State {
  /** Active locks in the original's shape, read from locks/. */
  locks: Record<string, Omit<Lock, 'resource'>>;
}

/** Stable options after defaults. */
interface Resolved {
  repo: RepoPaths;
  branch: string;
  remote: string | null;
}

async function resolveRemote(repo: RepoPaths, wanted: string | null | undefined): Promise<{ name: string; url: string } | null> {
  if (wanted === null || wanted === 'none' || wanted === '') return null;
  if (wanted !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(wanted)) {
    throw new OrchestratorError('INVALID_INPUT', `remote name ${JSON.stringify(wanted)} is invalid`, { remote: wanted });
  }
  const list = await listRemotes({ fs: fastFs, gitdir: repo.commondir });
  const remotes = list.map((r) => r.remote);
  const pick = (name: string) => ({ name, url: list.find((r) => r.remote === name)!.url });
  if (wanted === undefined) return remotes.includes('origin') ? pick('origin') : null;
  if (!remotes.includes(wanted)) {
    throw new OrchestratorError('INVALID_INPUT', `remote "${wanted}" is not configured in ${repo.workdir ?? repo.gitdir} (known: ${known(remotes)}); use --remote none for local only`, {
      remote: wanted,
    });
  }
  return pick(wanted);
}

export class Orchestrator {
  readonly options: Readonly<OpenOptions>;
  private resolved: Promise<{ engine: Engine; r: Resolved }> | null = null;
  /** The commit of the last read or write (for adapters that show it). */
  lastCommit: string | null = null;
  /** Attempts the last write needed (1 when nobody raced it). */
  lastAttempts = 0;

  constructor(options: OpenOptions = {}) {
    this.options = { ...options };
    if (options.agent !== undefined) check('agent', options.agent);
  }

  private get staleMs(): number {
    return this.options.staleMs ?? DEFAULT_STALE_MS;
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  private actor(agent?: string): string {
    return agent ?? this.options.agent ?? 'system';
  }

  /** The engine, created on first use (finding the repo and its remote). */
  engine(): Promise<Engine> {
    if (!this.resolved) {
      this.resolved = (async () => {
        const repo = requireRepo(this.options.repo ?? process.cwd());
        const branch = this.options.branch ?? DEFAULT_BRANCH;
        const remote = await resolveRemote(repo, this.options.remote);
        const store = await GitStore.open(repo, branch, remote);
        const engine = new Engine({
          store,
          offline: this.options.offline,
          allowOffline: this.options.allowOffline,
          onOffline: this.options.onOffline,
          maxAttempts: this.options.maxAttempts,
          clock: this.options.clock,
          planners: (name) => (Object.prototype.hasOwnProperty.call(PLANNERS, name) ? PLANNERS[name as keyof typeof PLANNERS] : undefined),
        });
        return { engine, r: { repo, branch, remote: remote?.name ?? null } };
      })();
      this.resolved.catch(() => (this.resolved = null));
    }
    return this.resolved.then((x) => x.engine);
  }

  /** Where this orchestrator keeps its data. */
  async where(): Promise<{ repo: string; branch: string; remote: string | null; offline: boolean }> {
    const engine = await this.engine();
    const { r } = await this.resolved!;
    return { repo: r.repo.workdir ?? r.repo.gitdir, branch: r.branch, remote: r.remote, offline: engine.offline };
  }

  private async mutate<R>(prepare: Prepare<R>, opts?: MutateOptions): Promise<MutationOutcome<R>> {
    const out = await (await this.engine()).mutate(prepare, opts);
    this.lastCommit = out.commit;
    this.lastAttempts = out.attempts;
    return out;
  }

  private async run<R>(prepare: Prepare<R>, intent?: Intent): Promise<R> {
    return (await this.mutate(prepare, intent ? { intent } : undefined)).result;
  }

  /** The tip commit reads answer from (fetched first when online), without reading it. */
  async tip(): Promise<string | null> {
    const engine = await this.engine();
    return this.options.fetchOnRead === false ? engine.baseTip() : engine.refresh();
  }

  /** The snapshot reads answer from (fetched first when online). */
  async snapshot(): Promise<Snapshot> {
    const engine = await this.engine();
    const snap = this.options.fetchOnRead === false ? await engine.store.snapshot(await engine.baseTip()) : await engine.read();
    this.lastCommit = snap.commit;
    return snap;
  }

  close(): void {
    void this.resolved?.then(({ engine }) => engine.store.close()).catch(() => undefined);
  }

  // --- Branch ---------------------------------------------------------------

  /**
   * Creates the coordination branch (adopting the remote's when it has one).
   * @returns `created: false` when the branch already existed.
   */
  async init(): Promise<{ created: boolean; commit: string | null }> {
    const out = await this.mutate<{ created: boolean }>((_w, ctx) => ({ op: 'init', at: ctx.at, by: this.actor() }) satisfies InitOp);
    return { created: out.result.created, commit: out.commit };
  }

  // --- Workstreams ----------------------------------------------------------

  /**
   * Creates a workstream. Throws INVALID_INPUT (bad name or priority),
   * CONFLICT (exists).
   * @example await orc.createWorkstream('revenue', { description: 'Revenue', priority: 1 })
   */
  createWorkstream(name: string, opts: { description?: string; priority?: number } = {}, agent?: string): Promise<WorkstreamResult> {
    return this.run((_w, ctx) => ({
      op: 'workstream.create',
      at: ctx.at,
      by: this.actor(agent),
      name,
      description: opts.description ?? '',
      priority: opts.priority ?? 5,
    }) satisfies CreateWorkstreamOp);
  }

  /** Workstreams with task counts, most urgent first. */
  async listWorkstreams(): Promise<WorkstreamSummary[]> {
    return listWorkstreams((await this.snapshot()).world.state);
  }

  // --- Tasks ----------------------------------------------------------------

  /**
   * Adds a pending task. Throws NOT_FOUND (workstream, dependency),
   * INVALID_INPUT (title, priority...).
   * @example await orc.addTask('revenue', { title: 'Add payments', priority: 1 })
   */
  addTask(workstream: string, input: TaskInput, agent?: string): Promise<Task> {
    if (!input || typeof input !== 'object') throw new OrchestratorError('INVALID_INPUT', 'task input must be an object with a title');
    return this.run((world, ctx) => {
      let id = ctx.newId();
      while (findTaskAnywhere(world.state, id)) id = ctx.newId();
      const op: AddTaskOp = {
        op: 'task.add',
        at: ctx.at,
        by: this.actor(agent),
        workstream,
        id,
        title: input.title,
        description: input.description ?? '',
        priority: input.priority ?? 5,
        estimate: input.estimate ?? null,
      };
      if (input.after?.length) op.depends_on = input.after;
      if (input.needs?.length) op.needs = input.needs;
      return op;
    });
  }

  /** The tasks of one workstream. Throws NOT_FOUND. */
  async listTasks(workstream: string): Promise<Task[]> {
    return getWorkstream((await this.snapshot()).world.state, workstream).tasks;
  }

  /** One task by id, searched in every workstream when none is given. */
  async getTask(id: string, workstream?: string): Promise<Task & { workstream: string }> {
    const state = (await this.snapshot()).world.state;
    if (workstream) return { ...getTask(state, workstream, id).task, workstream };
    const found = findTaskAnywhere(state, id);
    if (!found) throw new OrchestratorError('NOT_FOUND', `task "${id}" not found`, { task_id: id });
    return { ...found.task, workstream: found.workstream };
  }

  /** Pending tasks whose dependencies are done, in the order `next` takes them. */
  async readyTasks(workstream?: string): Promise<Array<Task & { workstream: string }>> {
    return readyTasks((await this.snapshot()).world.state, workstream);
  }

  /**
   * Claims a pending task for an agent: exactly one agent ever wins a claim.
   * Throws NOT_FOUND, CONFLICT (not pending: the message names its status).
   */
  claimTask(workstream: string, taskId: string, agent: string): Promise<Task> {
    return this.run((_w, ctx) => ({ op: 'task.claim', at: ctx.at, by: agent, workstream, id: taskId, agent }) satisfies ClaimTaskOp);
  }

  /**
   * Completes a task with its result. With no task id, completes the one task
   * in progress in the workstream (the agent's own when `agent` is given);
   * AMBIGUOUS names them when there are several.
   */
  completeTask(workstream: string, taskId: string | null | undefined, result: string | null = null, agent?: string): Promise<Task> {
    return this.run((world, ctx) => {
      const id = taskId ?? soleInProgress(world.state, workstream, agent ?? this.options.agent).id;
      const task = getTask(world.state, workstream, id).task;
      return {
        op: 'task.complete',
        at: ctx.at,
        by: this.actor(agent ?? task.assigned_to ?? undefined),
        workstream,
        id,
        result,
      } satisfies CompleteTaskOp;
    });
  }

  /**
   * The CLI's `task complete <ws> [taskId] [result]`. With one argument that
   * is not a task id of the workstream (ids are 8 hex digits), the argument
   * is the result and the task is the one in progress, as in the original
   * quick start: `t complete revenue "Done: integrated payments"`.
   */
  completeFromArgs(workstream: string, first?: string, second?: string, agent?: string): Promise<Task> {
    if (first === undefined) return this.completeTask(workstream, null, null, agent);
    if (second !== undefined || /^[0-9a-f]{8}$/.test(first)) return this.completeTask(workstream, first, second ?? null, agent);
    return this.run((world, ctx) => {
      const ws = getWorkstream(world.state, workstream);
      const named = ws.tasks.find((t) => t.id === first);
      const task = named ?? soleInProgress(world.state, workstream, agent ?? this.options.agent);
      return {
        op: 'task.complete',
        at: ctx.at,
        by: this.actor(agent ?? task.assigned_to ?? undefined),
        workstream,
        id: task.id,
        result: named ? null : first,
      } satisfies CompleteTaskOp;
    });
  }

  /**
   * Claims the next ready task (lowest priority number, then oldest) or
   * returns null when none is pending. Throws NOT_FOUND (workstream).
   */
  getNextTask(workstream: string, agent: string): Promise<Task | null> {
    check('agent', agent);
    const input = { workstream, agent };
    return this.run<Task | null>((world, ctx) => PLANNERS['task.next'](world, ctx, input) as ClaimTaskOp | NoChange<Task | null>, { name: 'task.next', input });
  }

  // --- Agents ---------------------------------------------------------------

  /** Registers (or updates) an agent. */
  registerAgent(id: string, opts: { type?: string; capabilities?: string[] } = {}): Promise<AgentResult> {
    return this.run((_w, ctx) => ({
      op: 'agent.register',
      at: ctx.at,
      by: id,
      id,
      type: opts.type ?? 'general',
      capabilities: opts.capabilities ?? [],
    }) satisfies RegisterAgentOp);
  }

  /**
   * Records that an agent is alive. Commits only when last_seen is older than
   * half the stale window, so heartbeat loops do not flood history.
   * Throws NOT_FOUND for an unregistered agent.
   */
  heartbeat(id: string): Promise<AgentResult & { recorded: boolean }> {
    return this.run((_w, ctx) => ({ op: 'agent.heartbeat', at: ctx.at, by: id, id, min_interval_ms: Math.floor(this.staleMs / 2) }) satisfies HeartbeatOp);
  }

  /** Agents with a `stale` mark (last_seen older than the stale window). */
  async listAgents(): Promise<AgentView[]> {
    return listAgents((await this.snapshot()).world.state, this.now(), this.staleMs);
  }

  // --- Locks ----------------------------------------------------------------

  /**
   * Takes (or renews) a lock and returns it; throws LOCK_HELD naming the
   * holder and expiry when another agent holds it.
   */
  lock(resource: string, agent: string, opts: { ttlMs?: number } = {}): Promise<Lock & { renewed: boolean }> {
    return this.run((_w, ctx) => ({
      op: 'lock.acquire',
      at: ctx.at,
      by: agent,
      resource,
      agent,
      ttl_ms: opts.ttlMs ?? DEFAULT_TTL_MS,
    }) satisfies AcquireLockOp);
  }

  /** The original's acquireLock: true when acquired, false when another agent holds it. */
  async acquireLock(resource: string, agent: string, ttlMs: number = DEFAULT_TTL_MS): Promise<boolean> {
    try {
      await this.lock(resource, agent, { ttlMs });
      return true;
    } catch (err) {
      if (err instanceof OrchestratorError && err.code === 'LOCK_HELD') return false;
      throw err;
    }
  }

  /**
   * Releases a lock. Throws NOT_FOUND (nobody holds it) or LOCK_HELD
   * (another agent holds it; pass `force` to release it anyway).
   */
  unlock(resource: string, agent: string, opts: { force?: boolean } = {}): Promise<ReleaseResult> {
    return this.run((_w, ctx) => {
      const op: ReleaseLockOp = { op: 'lock.release', at: ctx.at, by: agent, resource, agent };
      if (opts.force) op.force = true;
      return op;
    });
  }

  /** The original's releaseLock: true when released, false when not held by `agent`. */
  async releaseLock(resource: string, agent: string): Promise<boolean> {
    try {
      return (await this.unlock(resource, agent)).released;
    } catch (err) {
      if (err instanceof OrchestratorError && (err.code === 'LOCK_HELD' || err.code === 'NOT_FOUND')) return false;
      throw err;
    }
  }

  /** Active (unexpired) locks. */
  async listLocks(): Promise<Lock[]> {
    return activeLocks((await this.snapshot()).world.locks, this.now());
  }

  // --- Knowledge ------------------------------------------------------------

  /** Writes `knowledge/<topic>.md` with exactly `content`. */
  writeKnowledge(topic: string, content: string, agent?: string): Promise<{ topic: string; bytes: number; created: boolean }> {
    return this.run((_w, ctx) => ({ op: 'knowledge.write', at: ctx.at, by: this.actor(agent), topic, content }) satisfies WriteKnowledgeOp);
  }

  /** The topic's content, or null when it does not exist. */
  async readKnowledge(topic: string): Promise<string | null> {
    check('topic', topic);
    const engine = await this.engine();
    const snap = await this.snapshot();
    return engine.store.knowledgeText(snap, topic);
  }

  /** Deletes a topic; false when it does not exist (the original's shape). */
  async deleteKnowledge(topic: string, agent?: string): Promise<boolean> {
    try {
      await this.run((_w, ctx) => ({ op: 'knowledge.delete', at: ctx.at, by: this.actor(agent), topic }) satisfies DeleteKnowledgeOp);
      return true;
    } catch (err) {
      if (err instanceof OrchestratorError && err.code === 'NOT_FOUND') return false;
      throw err;
    }
  }

  async listKnowledge(): Promise<string[]> {
    return [...(await this.snapshot()).world.topics];
  }

  // --- Events ---------------------------------------------------------------

  /** Appends a custom event `{ts, agent, action, ...data}`. */
  logEvent(agent: string, action: string, data: Record<string, unknown> = {}): Promise<OrcEvent> {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new OrchestratorError('INVALID_INPUT', 'event data must be a JSON object', { field: 'data' });
    }
    checkEventData(data);
    return this.run((_w, ctx) => ({ op: 'event.log', at: ctx.at, by: agent, agent, action, data: JSON.parse(JSON.stringify(data)) }) satisfies LogEventOp);
  }

  /** Events, oldest first, filtered by agent, action, since (ISO) and the last N. */
  async getEvents(filter: EventFilter = {}): Promise<OrcEvent[]> {
    if (filter.last !== undefined && (!Number.isInteger(filter.last) || filter.last < 0)) {
      throw new OrchestratorError('INVALID_INPUT', `last ${JSON.stringify(filter.last)} is invalid: must be a whole number`, { field: 'last' });
    }
    const engine = await this.engine();
    const snap = await this.snapshot();
    return engine.store.events(snap, filter);
  }

  // --- State and status -----------------------------------------------------

  /** The state in the original's shape (locks included, read from locks/). */
  async loadState(): Promise<SeedState> {
    const snap = await this.snapshot();
    const locks: SeedState['locks'] = Object.fromEntries(activeLocks(snap.world.locks, this.now()).map(({ resource, ...rest }) => [resource, rest]));
    return { ...snap.world.state, locks };
  }

  /** Everything the status text shows, plus the commit it was read from. */
  async status(): Promise<StatusView> {
    const engine = await this.engine();
    const snap = await this.snapshot();
    const state = snap.world.state;
    const now = this.now();
    return {
      version: state.version,
      updated_at: state.updated_at,
      commit: snap.commit,
      branch: engine.store.branch,
      workstreams: listWorkstreams(state),
      agents: listAgents(state, now, this.staleMs),
      active_locks: activeLocks(snap.world.locks, now),
      recent_events: await engine.store.events(snap, { last: 10 }),
      knowledge_topics: [...snap.world.topics],
    };
  }

  async statusText(): Promise<string> {
    return statusText(await this.status());
  }

  // --- Agent lifecycle -------------------------------------------------------

  /** Gives a task back (in progress or failed -> pending, unassigned). Throws NOT_FOUND, CONFLICT. */
  releaseTask(workstream: string, taskId: string, agent?: string): Promise<Task> {
    return this.run((_w, ctx) => ({ op: 'task.release', at: ctx.at, by: this.actor(agent), workstream, id: taskId }) satisfies ReleaseTaskOp);
  }

  /** Marks a task failed with a reason. Throws NOT_FOUND, CONFLICT (done already). */
  failTask(workstream: string, taskId: string, reason: string, agent?: string): Promise<Task> {
    return this.run((world, ctx) => ({
      op: 'task.fail',
      at: ctx.at,
      by: this.actor(agent ?? getTask(world.state, workstream, taskId).task.assigned_to ?? undefined),
      workstream,
      id: taskId,
      reason,
    }) satisfies FailTaskOp);
  }

  /**
   * Returns tasks in progress to pending: the named ones, or with `stale`
   * those held by agents whose last sign of life is older than the stale
   * window (an unregistered agent's is its claim). One commit, an event per
   * task; no commit when there is nothing to requeue.
   */
  requeue(workstream: string, opts: { ids?: string[]; stale?: boolean; staleMs?: number } = {}, agent?: string): Promise<Task[]> {
    if (!opts.stale && !opts.ids?.length) throw new OrchestratorError('INVALID_INPUT', 'name the tasks to requeue, or requeue the stale ones (--stale)');
    const staleMs = opts.staleMs ?? this.staleMs;
    return this.run<Task[]>((world, ctx) => {
      const ws = getWorkstream(world.state, workstream);
      const now = Date.parse(ctx.at);
      const ids = opts.ids?.length
        ? opts.ids
        : ws.tasks
            .filter((t) => t.status === 'in_progress')
            .filter((t) => {
              const a = t.assigned_to ? own(world.state.agents, t.assigned_to) : undefined;
              const lastSign = a ? Date.parse(a.last_seen) : Date.parse(t.updated_at);
              return now - lastSign > staleMs;
            })
            .map((t) => t.id);
      if (!ids.length) return { noop: true, result: [] };
      return { op: 'task.requeue', at: ctx.at, by: this.actor(agent), workstream, ids, reason: opts.ids?.length ? 'manual' : 'stale' } satisfies RequeueTasksOp;
    });
  }

  /** One task with its dependencies, the tasks waiting for it, and its history (the commits that touched it). */
  async showTask(workstream: string, taskId: string): Promise<TaskDetail> {
    const snap = await this.snapshot();
    const state = snap.world.state;
    let task: Task & { archived?: boolean };
    try {
      task = getTask(state, workstream, taskId).task;
    } catch (err) {
      const archived = err instanceof OrchestratorError && err.code === 'NOT_FOUND' && state.workstreams[workstream] ? (await this.archivedTasks({ id: taskId }))[0] : undefined;
      if (!archived || archived.workstream !== workstream) throw err;
      const { workstream: _ws, ...rest } = archived;
      task = { ...rest, archived: true };
    }
    const where = new Map<string, { ws: string; task: Task }>();
    for (const [name, w] of Object.entries(state.workstreams)) for (const t of w.tasks) where.set(t.id, { ws: name, task: t });
    const dependencies = (task.depends_on ?? []).map((id) => {
      const d = where.get(id);
      return d ? { workstream: d.ws, id, title: d.task.title, status: d.task.status, result: d.task.result } : { workstream: null, id, title: null, status: 'missing', result: null };
    });
    const dependents = [...where.values()].filter((d) => d.task.depends_on?.includes(taskId)).map((d) => ({ workstream: d.ws, id: d.task.id, title: d.task.title, status: d.task.status }));
    const history = await this.log({ task: taskId });
    return { workstream, ...task, ready: task.status === 'pending' && dependencies.every((d) => d.status === 'done'), dependencies, dependents, history };
  }

  // --- Locks that wait ------------------------------------------------------

  /** Extends a lock the agent holds. Throws LOCK_HELD (another agent has it), NOT_FOUND. */
  renewLock(resource: string, agent: string, opts: { ttlMs?: number } = {}): Promise<Lock> {
    return this.run((_w, ctx) => ({ op: 'lock.renew', at: ctx.at, by: agent, resource, agent, ttl_ms: opts.ttlMs ?? DEFAULT_TTL_MS }) satisfies RenewLockOp);
  }

  /**
   * Takes a lock, waiting up to `waitMs` while another agent holds it: it
   * sleeps until the holder's lock can be taken (expiry plus the skew
   * margin) or polls with growing intervals, never busily. LOCK_HELD when
   * the wait ends.
   */
  async lockWait(resource: string, agent: string, opts: { ttlMs?: number; waitMs?: number } = {}): Promise<Lock & { renewed: boolean; waited_ms: number }> {
    const started = this.now();
    const deadline = started + (opts.waitMs ?? 0);
    let interval = 100;
    for (;;) {
      try {
        const lock = await this.lock(resource, agent, { ttlMs: opts.ttlMs });
        return { ...lock, waited_ms: this.now() - started };
      } catch (err) {
        if (!(err instanceof OrchestratorError) || err.code !== 'LOCK_HELD') throw err;
        const now = this.now();
        if (now >= deadline) throw err;
        const freeAt = Date.parse(String(err.data.expires_at)) + LOCK_SKEW_MS;
        // Poll (a holder may release early) but never past the moment it frees up or the deadline.
        const sleep = Math.max(20, Math.min(interval, freeAt - now, deadline - now)) * (0.8 + 0.4 * Math.random());
        await new Promise((r) => setTimeout(r, sleep));
        interval = Math.min(interval * 2, 2000);
      }
    }
  }

  // --- Runner ---------------------------------------------------------------

  /** The cycle plan (see domain/plan.ts). */
  async plan(): Promise<Plan> {
    const snap = await this.snapshot();
    return makePlan(snap.world, snap.commit, this.now(), this.staleMs);
  }

  /**
   * A markdown brief for one task (the next ready one of the workstream when
   * no id is given): the task, its dependencies' results, relevant knowledge,
   * recent events and the commands to report back. NOT_FOUND when the
   * workstream has no ready task.
   */
  async brief(workstream: string, taskId?: string, opts: { agent?: string; command?: string } = {}): Promise<{ task: Task; markdown: string }> {
    const engine = await this.engine();
    const snap = await this.snapshot();
    const state = snap.world.state;
    const task = taskId ? getTask(state, workstream, taskId).task : pickNext(state, workstream);
    if (!task) throw new OrchestratorError('NOT_FOUND', `workstream "${workstream}" has no ready task to brief (see: task ready ${workstream})`, { workstream });
    const topics: Array<{ topic: string; content: string }> = [];
    for (const topic of snap.world.topics) topics.push({ topic, content: (await engine.store.knowledgeText(snap, topic)) ?? '' });
    const events = await engine.store.events(snap, { workstream, last: 10 });
    const markdown = makeBrief({
      workstream,
      task,
      world: snap.world,
      knowledge: relevantTopics(
        topics,
        workstream,
        task,
        (task.depends_on ?? []).map((id) => findTaskAnywhere(state, id)?.task).filter((t): t is Task => !!t),
      ),
      events,
      command: opts.command ?? 'orchestrator',
      agent: opts.agent ?? this.options.agent ?? task.assigned_to ?? undefined,
    });
    return { task, markdown };
  }

  /**
   * What happened since the last collect (or since a commit id or ISO time):
   * tasks completed with results, failed, still in progress, knowledge
   * written. Records a cycle marker commit so the next collect starts there.
   */
  async collect(opts: { since?: string; record?: boolean; agent?: string } = {}): Promise<Collected> {
    const engine = await this.engine();
    const snap = await this.snapshot();
    const entries: LogEntry[] = [];
    let since: string | null = null;
    const sinceMs = opts.since && !/^[0-9a-f]{7,40}$/.test(opts.since) ? parseSince(opts.since) : null;
    let found = !opts.since || sinceMs !== null;
    for await (const c of walkHistory(engine.store.objects, snap.commit)) {
      const e = toEntry(c);
      if (opts.since && sinceMs === null && (c.oid === opts.since || c.oid.startsWith(opts.since))) {
        since = c.oid;
        found = true;
        break;
      }
      if (sinceMs !== null && Date.parse(e.time) < sinceMs) break;
      if (!opts.since && e.op?.op === 'cycle.collect') {
        since = c.oid;
        break;
      }
      entries.push(e);
    }
    if (!found) throw new OrchestratorError('NOT_FOUND', `commit "${opts.since}" is not in the history of the ${engine.store.branch} branch`, { since: opts.since });
    if (sinceMs !== null) since = new Date(sinceMs).toISOString();
    const out = collect(entries, snap.world, since, new Date(this.now()).toISOString());
    if (opts.record !== false) {
      await this.run((_w, ctx) => ({
        op: 'cycle.collect',
        at: ctx.at,
        by: this.actor(opts.agent),
        since: since && /^[0-9a-f]{40}$/.test(since) ? since : null,
        completed: out.completed_this_cycle.length,
        failed: out.failed_this_cycle.length,
        in_progress: out.still_in_progress.length,
      }) satisfies CollectCycleOp);
    }
    return out;
  }

  // --- Import ---------------------------------------------------------------

  /**
   * Imports an original orchestrator's data directory into the branch (one
   * commit): ids, timestamps, results and events kept, locks turned into lock
   * files, the knowledge header stripped. Everything is validated first
   * (INVALID_INPUT names the file and line or field; nothing is written).
   * CONFLICT when the branch has data, unless `force`.
   */
  async importSeed(dir: string, opts: { force?: boolean; onProgress?: (m: string) => void; agent?: string } = {}): Promise<ImportResult & { commit: string | null }> {
    const { readSeedDir } = await import('./import/seed-dir.js');
    const data = readSeedDir(dir, opts.onProgress);
    opts.onProgress?.('writing one commit');
    const out = await this.mutate<ImportResult>((_w, ctx) => ({
      op: 'import',
      at: ctx.at,
      by: this.actor(opts.agent),
      source: path.basename(path.resolve(dir)),
      force: !!opts.force,
      ...data,
    }) satisfies ImportBoardOp);
    return { ...out.result, commit: out.commit };
  }

  // --- Offline work -----------------------------------------------------------

  /**
   * Pushes operations committed offline: each local commit that is not on the
   * remote is applied again, in order, on the remote's tip (with its original
   * time and agent). One that is no longer valid there (a task someone else
   * claimed meanwhile) is dropped, with a `sync_dropped` event on the branch.
   * An interrupted sync resumes where it stopped.
   */
  async sync(): Promise<SyncResult> {
    return syncBranch(await this.engine(), this.actor());
  }

  // --- Integrity --------------------------------------------------------------

  /**
   * Replays each commit's recorded operation on its parent's state and checks
   * the commit is exactly the result. `range`: `A..B` (after A up to B), a
   * commit (its whole history), or nothing (the branch tip).
   */
  async verify(range?: string, onProgress?: (checked: number, total: number) => void): Promise<VerifyResult & { from: string | null; to: string | null }> {
    const engine = await this.engine();
    const objects = engine.store.objects;
    const resolve = async (rev: string): Promise<string> => {
      const oid = await engine.store.resolveRevision(rev);
      if (!oid) throw new OrchestratorError('NOT_FOUND', `no commit "${rev}" in this repository`, { rev });
      return oid;
    };
    let from: string | null = null;
    let to: string | null;
    if (range && range.includes('..')) {
      const [a, b] = range.split('..');
      from = a ? await resolve(a) : null;
      to = b ? await resolve(b) : await this.tip();
    } else to = range ? await resolve(range) : await this.tip();
    if (!to) return { ok: true, checked: 0, problem: null, from, to };
    const { verifyRange } = await import('./store/verify.js');
    return { ...(await verifyRange(objects, to, from, { onProgress })), from, to };
  }

  /**
   * Moves done tasks whose last update is older than `olderThanMs` (default
   * 7 days) out of state.json into archive/<YYYY-MM>.jsonl. Tasks an
   * unfinished task depends on stay. No commit when there is nothing to move.
   */
  archive(opts: { olderThanMs?: number; agent?: string } = {}): Promise<{ archived: number; files: string[] }> {
    const olderThan = opts.olderThanMs ?? 7 * 24 * 3600 * 1000;
    if (!Number.isFinite(olderThan) || olderThan < 0) throw new OrchestratorError('INVALID_INPUT', 'older-than must be a duration of 0 or more');
    return this.run((world, ctx) => {
      const cutoff = Date.parse(ctx.at) - olderThan;
      const needed = new Set<string>();
      for (const ws of Object.values(world.state.workstreams)) for (const t of ws.tasks) if (t.status !== 'done') for (const d of t.depends_on ?? []) needed.add(d);
      const ids: string[] = [];
      for (const ws of Object.values(world.state.workstreams)) {
        for (const t of ws.tasks) if (t.status === 'done' && Date.parse(t.updated_at) <= cutoff && !needed.has(t.id)) ids.push(t.id);
      }
      if (!ids.length) return { noop: true, result: { archived: 0, files: [] } };
      return { op: 'task.archive', at: ctx.at, by: this.actor(opts.agent), ids } satisfies ArchiveTasksOp;
    });
  }

  /** Archived tasks, newest file first, filtered by workstream and id. */
  async archivedTasks(filter: { workstream?: string; id?: string; last?: number } = {}): Promise<Array<Task & { workstream: string }>> {
    const engine = await this.engine();
    const snap = await this.snapshot();
    const out: Array<Task & { workstream: string }> = [];
    for (const file of [...snap.archiveTree].reverse()) {
      const lines = (await engine.store.objects.readBlob(file.oid)).toString('utf8').split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        if (!lines[i]) continue;
        const t = JSON.parse(lines[i]) as Task & { workstream: string };
        if ((filter.workstream && t.workstream !== filter.workstream) || (filter.id && t.id !== filter.id)) continue;
        out.push(t);
        if (filter.id || (filter.last !== undefined && out.length >= filter.last)) return out;
      }
    }
    return out;
  }

  /** Changes branch settings (events per sealed segment of the log). */
  setSettings(settings: Settings, agent?: string): Promise<Settings> {
    return this.run((_w, ctx) => ({ op: 'settings.set', at: ctx.at, by: this.actor(agent), settings }) satisfies SetSettingsOp);
  }

  /**
   * The audit trail: one entry per commit, newest first, filtered.
   * @example await orc.log({ agent: 'agent-1', last: 20 })
   */
  async log(filter: LogFilter = {}): Promise<LogEntry[]> {
    if (filter.last !== undefined && (!Number.isInteger(filter.last) || filter.last < 0)) {
      throw new OrchestratorError('INVALID_INPUT', `last ${JSON.stringify(filter.last)} is invalid: must be a whole number`, { field: 'last' });
    }
    const sinceMs = filter.since !== undefined ? parseSince(filter.since) : null;
    const engine = await this.engine();
    const snap = await this.snapshot();
    const out: LogEntry[] = [];
    for await (const c of walkHistory(engine.store.objects, snap.commit)) {
      const e = toEntry(c);
      if (sinceMs !== null && Date.parse(e.time) < sinceMs) break;
      if (filter.agent && e.agent !== filter.agent) continue;
      const type = typeof e.op?.op === 'string' ? e.op.op : '';
      if (filter.action && type !== filter.action && !type.startsWith(filter.action + '.')) continue;
      if (filter.task && e.op?.id !== filter.task && !(Array.isArray(e.op?.ids) && (e.op.ids as unknown[]).includes(filter.task))) continue;
      out.push(e);
      if (filter.last !== undefined && out.length >= filter.last) break;
    }
    return out;
  }

  /** Applies a raw operation (for tools that replay recorded operations). */
  apply(op: OpBase): Promise<MutationOutcome<unknown>> {
    return this.mutate(() => op, { raw: true });
  }
}

/**
 * Opens the coordination branch of the repository holding `opts.repo` (or
 * the current directory). Nothing is read until the first call.
 * @example
 *   const orc = openOrchestrator({ agent: 'agent-1' });
 *   const task = await orc.getNextTask('revenue', 'agent-1');
 */
export function openOrchestrator(opts: OpenOptions = {}): Orchestrator {
  return new Orchestrator(opts);
}

/**
 * Makes `dir` a git repository when it is not one (git init), for
 * `orchestrator init <dir>`. Returns the repository root.
 */
export async function ensureRepository(dir: string, bare = false): Promise<string> {
  const abs = path.resolve(dir);
  const found = findRepo(abs);
  if (found && (found.workdir === abs || found.gitdir === abs)) return abs;
  fs.mkdirSync(abs, { recursive: true });
  const { simpleGit } = require('simple-git') as typeof import('simple-git');
  await simpleGit({ baseDir: abs }).init(bare);
  return abs;
}

export { LIMITS };
