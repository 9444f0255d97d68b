/**
 * git-orchestrator: coordination for agents on a git branch.
 *
 *   import { openOrchestrator } from 'git-orchestrator';
 *   const orc = openOrchestrator({ agent: 'agent-1' });
 *   const task = await orc.getNextTask('revenue', 'agent-1');
 */
export { openOrchestrator, Orchestrator, ensureRepository, DEFAULT_BRANCH, LIMITS } from './api.js';
export type { OpenOptions, TaskInput, SeedState, TaskDetail, LogFilter, SyncResult, Where } from './api.js';
export { OrchestratorError, ERROR_CODES } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { Task, TaskStatus, Workstream, Agent, Lock, OrcEvent, State } from './domain/types.js';
export type { StatusView, WorkstreamSummary, AgentView, EventFilter } from './domain/queries.js';
export { LOCK_SKEW_MS, DEFAULT_TTL_MS } from './domain/locks.js';
