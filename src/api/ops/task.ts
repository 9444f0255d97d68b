/** Task operations: add, claim, next, complete, fail, release, requeue, and the task reads. */
import type { Task } from '../../domain/types.js';
import { byWho, declare, f, returns } from '../declare.js';
import * as tasks from '../use-cases/tasks.js';

const workstream = f.string('the workstream');
const id = f.string('the task id').arg('taskId');
/** Acting on a task another agent holds is refused unless forced (recorded in the operation). Not an MCP property: an agent's loop acts on its own tasks. */
const force = (verb: string) => f.bool(`${verb} a task another agent holds (recorded as forced)`).only('library', 'cli', 'rest');

export const addTask = declare({
  name: 'task.add',
  kind: 'write',
  summary: 'add a pending task',
  input: {
    workstream,
    title: f.string('what to do'),
    description: f.string('details').default(''),
    priority: f.int('lower is more urgent').default(5),
    estimate: f.nullable('an estimate, e.g. "2h"').optional().arg('text'),
    after: f.list('ids of tasks (any workstream) that must be done first').optional().arg('ids'),
    needs: f.list('resources the task needs (never planned in parallel)').optional().arg('resources'),
    agent: f.agent('who adds it').optional(),
  },
  result: 'Task',
  refusals: ['NOT_FOUND', 'CONFLICT'],
  plan: tasks.add,
  library: { addTask: { args: ['workstream', ['title', 'description', 'priority', 'estimate', 'after', 'needs'], 'agent'] } },
  cli: { group: 'task', name: 'add', args: ['workstream', 'title', 'description', 'priority'], options: ['priority'] },
  rest: { method: 'POST', path: '/workstreams/:workstream/tasks', status: 201 },
  mcp: { tool: 'add_task' },
});

export const listTasks = declare({
  name: 'task.list',
  kind: 'read',
  summary: 'list the tasks of a workstream',
  input: { workstream },
  result: 'Task[]',
  refusals: ['NOT_FOUND'],
  run: tasks.list,
  library: { listTasks: { args: ['workstream'] } },
  cli: { group: 'task', name: ['list', 'ls'], args: ['workstream'] },
  rest: { method: 'GET', path: '/workstreams/:workstream/tasks' },
});

export const getTask = declare({
  name: 'task.get',
  kind: 'read',
  summary: 'one task by id, searched in every workstream when none is given',
  input: { id, workstream: workstream.optional() },
  result: 'Task & {workstream}',
  refusals: ['NOT_FOUND'],
  run: tasks.get,
  library: { getTask: { args: ['id', 'workstream'] } },
});

export const readyTasks = declare({
  name: 'task.ready',
  kind: 'read',
  summary: 'list pending tasks whose dependencies are all done, in the order "next" takes them',
  input: { workstream: workstream.optional() },
  result: 'Array<Task & {workstream}>',
  refusals: ['NOT_FOUND'],
  run: tasks.ready,
  library: { readyTasks: { args: ['workstream'] } },
  cli: { group: 'task', name: 'ready', args: ['workstream'] },
  rest: { method: 'GET', path: '/ready' },
  mcp: { tool: 'ready' },
});

export const showTask = declare({
  name: 'task.show',
  kind: 'read',
  summary: 'one task with its dependencies, the tasks waiting for it and its history (commits)',
  input: { workstream, id },
  result: 'TaskDetail',
  refusals: ['NOT_FOUND'],
  run: tasks.show,
  library: { showTask: { args: ['workstream', 'id'] } },
  cli: { group: 'task', name: 'show', args: ['workstream', 'id'] },
  rest: { method: 'GET', path: '/workstreams/:workstream/tasks/:id' },
});

export const claimTask = declare({
  name: 'task.claim',
  kind: 'write',
  summary: 'claim a pending task (exactly one agent wins)',
  input: { workstream, id, agent: f.agent('who claims it') },
  result: 'Task',
  refusals: ['NOT_FOUND', 'CONFLICT'],
  plan: tasks.claim,
  library: { claimTask: { args: ['workstream', 'id', 'agent'] } },
  cli: { group: 'task', name: 'claim', args: ['workstream', 'id', 'agent'] },
  rest: { method: 'POST', path: '/workstreams/:workstream/tasks/:id/claim' },
  mcp: { tool: 'claim' },
});

export const nextTask = declare({
  name: 'task.next',
  kind: 'write',
  summary: 'claim the next ready task: lowest priority number, then oldest',
  input: { workstream, agent: f.agent('who claims it') },
  result: 'Task | null',
  refusals: ['NOT_FOUND'],
  plan: tasks.next,
  library: { getNextTask: { args: ['workstream', 'agent'] } },
  cli: { group: 'task', name: 'next', args: ['workstream', 'agent'] },
  rest: { method: 'POST', path: '/workstreams/:workstream/next', answer: (t: Task | null) => t ?? { message: 'No pending tasks' } },
  mcp: { tool: 'claim' },
});

export const completeTask = declare({
  name: 'task.complete',
  kind: 'write',
  summary: 'complete a task with its result; with no id, the one in progress in the workstream',
  input: {
    workstream,
    id: f.nullable('the task (default: the one in progress)').optional().arg('taskId'),
    result: f.nullable('what came of it').optional(),
    agent: f.agent('who reports it (default: the acting agent)').optional(),
    force: force('complete'),
    loose: f.bool('the id may be the result (the original CLI form)').only('cli').internal(),
  },
  result: 'Task',
  refusals: ['NOT_FOUND', 'CONFLICT', 'AMBIGUOUS'],
  plan: tasks.complete,
  library: { completeTask: { args: ['workstream', 'id', 'result', 'agent', ['force']] } },
  cli: { group: 'task', name: ['complete', 'done'], args: ['workstream', 'id', 'result'] },
  rest: { method: 'POST', path: '/workstreams/:workstream/tasks/:id/complete' },
  mcp: { tool: 'complete' },
});

export const failTask = declare({
  name: 'task.fail',
  kind: 'write',
  summary: 'mark a task failed, with the reason',
  input: { workstream, id, reason: f.string('why it cannot be done'), agent: f.agent('who reports it (default: the acting agent)').optional(), force: force('fail') },
  result: 'Task',
  refusals: ['NOT_FOUND', 'CONFLICT'],
  plan: tasks.fail,
  library: { failTask: { args: ['workstream', 'id', 'reason', 'agent', ['force']] } },
  cli: { group: 'task', name: 'fail', args: ['workstream', 'id', 'reason...'] },
  rest: { method: 'POST', path: '/workstreams/:workstream/tasks/:id/fail' },
  mcp: { tool: 'fail' },
});

export const releaseTask = declare({
  name: 'task.release',
  kind: 'write',
  summary: 'give a task back: in progress (or failed) becomes pending and unassigned',
  input: { workstream, id, agent: f.agent('who gives it back').optional(), force: force('release') },
  result: 'Task',
  refusals: ['NOT_FOUND', 'CONFLICT'],
  plan: tasks.release,
  library: { releaseTask: { args: ['workstream', 'id', 'agent', ['force']] } },
  cli: { group: 'task', name: 'release', args: ['workstream', 'id'] },
  rest: { method: 'POST', path: '/workstreams/:workstream/tasks/:id/release' },
  mcp: { tool: 'release' },
});

export const requeueTasks = declare({
  name: 'task.requeue',
  kind: 'write',
  summary: 'return tasks in progress to pending: the named ones, or those of stale agents',
  input: {
    workstream,
    ids: f.list('the tasks to requeue').optional().arg('taskIds'),
    stale: f.bool('requeue the tasks of agents without a sign of life'),
    stale_ms: f.int('stale window for this call, in ms (default: the session\'s)').optional().min(1).label('stale-after'),
    agent: f.agent('who requeues').optional(),
  },
  result: 'Task[]',
  refusals: ['NOT_FOUND', 'CONFLICT'],
  plan: tasks.requeue,
  library: { requeue: { args: ['workstream', { ids: 'ids', stale: 'stale', staleMs: 'stale_ms' }, 'agent'] } },
  cli: { group: 'task', name: 'requeue', args: ['workstream', 'ids...'] },
  rest: { method: 'POST', path: '/workstreams/:workstream/requeue' },
});

export const editTask = declare({
  name: 'task.edit',
  kind: 'write',
  summary: 'change a task: title, description, priority, estimate, dependencies or resources (dependencies and resources only while pending)',
  input: {
    workstream,
    id,
    title: f.string('the new title').optional(),
    description: f.string('the new details').optional(),
    priority: f.int('the new priority').optional(),
    estimate: f.nullable('the new estimate ("" clears it)').optional().arg('text'),
    after: f.list('the whole new list of dependencies (empty: none)').optional().arg('ids'),
    needs: f.list('the whole new list of resources (empty: none)').optional().arg('resources'),
    agent: f.agent('who edits it').optional(),
  },
  result: returns<Task>('Task'),
  refusals: ['NOT_FOUND', 'CONFLICT'],
  plan: (_w, c, i, who) => ({
    op: 'task.edit',
    at: c.at,
    by: byWho(who, i.agent),
    workstream: i.workstream,
    id: i.id,
    ...(i.title !== undefined ? { title: i.title } : {}),
    ...(i.description !== undefined ? { description: i.description } : {}),
    ...(i.priority !== undefined ? { priority: i.priority } : {}),
    ...(i.estimate !== undefined ? { estimate: i.estimate || null } : {}),
    ...(i.after !== undefined ? { depends_on: i.after } : {}),
    ...(i.needs !== undefined ? { needs: i.needs } : {}),
  }),
  library: { editTask: { args: ['workstream', 'id', ['title', 'description', 'priority', 'estimate', 'after', 'needs'], 'agent'] } },
  cli: { group: 'task', name: 'edit', args: ['workstream', 'id'] },
  rest: { method: 'POST', path: '/workstreams/:workstream/tasks/:id/edit' },
});

export const deleteTask = declare({
  name: 'task.delete',
  kind: 'write',
  summary: 'delete a pending task that nothing depends on',
  input: { workstream, id, agent: f.agent('who deletes it').optional() },
  result: returns<Task>('Task'),
  refusals: ['NOT_FOUND', 'CONFLICT'],
  plan: (_w, c, i, who) => ({ op: 'task.delete', at: c.at, by: byWho(who, i.agent), workstream: i.workstream, id: i.id }),
  library: { deleteTask: { args: ['workstream', 'id', 'agent'] } },
  cli: { group: 'task', name: ['delete', 'rm'], args: ['workstream', 'id'] },
  rest: { method: 'DELETE', path: '/workstreams/:workstream/tasks/:id' },
});
