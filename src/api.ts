/**
 * The library's entry: `openOrchestrator()` and the types it takes and
 * returns. The functions themselves are built from the operations'
 * declarations (src/api/ops) over the use cases (src/api/use-cases).
 */
export { openOrchestrator, Orchestrator } from './api/orchestrator.js';
export { ensureRepository, DEFAULT_BRANCH } from './api/session.js';
export type { OpenOptions, Where } from './api/session.js';
export type { SeedState } from './api/use-cases/board.js';
export type { TaskDetail } from './domain/task-detail.js';
export type { HistoryFilter as LogFilter } from './api/view.js';
export type { SyncResult } from './sync.js';
export { LIMITS } from './domain/rules.js';

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
