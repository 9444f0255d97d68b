import type { OpBase, OpSpec } from '../op.js';
import { acquireLock, type AcquireLockOp } from './acquire-lock.js';
import { addTask, type AddTaskOp } from './add-task.js';
import { claimTask, type ClaimTaskOp } from './claim-task.js';
import { completeTask, type CompleteTaskOp } from './complete-task.js';
import { createWorkstream, type CreateWorkstreamOp } from './create-workstream.js';
import { deleteKnowledge, type DeleteKnowledgeOp } from './delete-knowledge.js';
import { heartbeat, type HeartbeatOp } from './heartbeat.js';
import { init, type InitOp } from './init.js';
import { logEvent, type LogEventOp } from './log-event.js';
import { registerAgent, type RegisterAgentOp } from './register-agent.js';
import { releaseLock, type ReleaseLockOp } from './release-lock.js';
import { writeKnowledge, type WriteKnowledgeOp } from './write-knowledge.js';
import { releaseTask, type ReleaseTaskOp } from './release-task.js';
import { failTask, type FailTaskOp } from './fail-task.js';
import { requeueTasks, type RequeueTasksOp } from './requeue-tasks.js';
import { renewLock, type RenewLockOp } from './renew-lock.js';
import { collectCycle, type CollectCycleOp } from './collect-cycle.js';
import { importBoard, type ImportBoardOp } from './import-board.js';
import { setSettings, type SetSettingsOp } from './set-settings.js';
import { archiveTasks, type ArchiveTasksOp } from './archive-tasks.js';
import { editTask, type EditTaskOp } from './edit-task.js';
import { deleteTask, type DeleteTaskOp } from './delete-task.js';
import { archiveWorkstream, type ArchiveWorkstreamOp } from './archive-workstream.js';
import { removeAgent, type RemoveAgentOp } from './remove-agent.js';

export type Op =
  | InitOp
  | CreateWorkstreamOp
  | AddTaskOp
  | ClaimTaskOp
  | CompleteTaskOp
  | RegisterAgentOp
  | HeartbeatOp
  | AcquireLockOp
  | ReleaseLockOp
  | WriteKnowledgeOp
  | DeleteKnowledgeOp
  | LogEventOp
  | ReleaseTaskOp
  | FailTaskOp
  | RequeueTasksOp
  | RenewLockOp
  | CollectCycleOp
  | ImportBoardOp
  | SetSettingsOp
  | ArchiveTasksOp
  | EditTaskOp
  | DeleteTaskOp
  | ArchiveWorkstreamOp
  | RemoveAgentOp;

export const OPS: Record<Op['op'], OpSpec<any, any>> = {
  init,
  'workstream.create': createWorkstream,
  'task.add': addTask,
  'task.claim': claimTask,
  'task.complete': completeTask,
  'agent.register': registerAgent,
  'agent.heartbeat': heartbeat,
  'lock.acquire': acquireLock,
  'lock.release': releaseLock,
  'knowledge.write': writeKnowledge,
  'knowledge.delete': deleteKnowledge,
  'event.log': logEvent,
  'task.release': releaseTask,
  'task.fail': failTask,
  'task.requeue': requeueTasks,
  'lock.renew': renewLock,
  'cycle.collect': collectCycle,
  import: importBoard,
  'settings.set': setSettings,
  'task.archive': archiveTasks,
  'task.edit': editTask,
  'task.delete': deleteTask,
  'workstream.archive': archiveWorkstream,
  'agent.remove': removeAgent,
};

export function specOf(op: OpBase): OpSpec<any, any> | undefined {
  return Object.prototype.hasOwnProperty.call(OPS, op.op) ? OPS[op.op as Op['op']] : undefined;
}
