/** History and integrity: the audit trail, verify, archive. */
import type { OpBase } from '../../domain/op.js';
import { declare, f } from '../declare.js';
import * as history from '../use-cases/history.js';

export const log = declare({
  name: 'log',
  kind: 'read',
  summary: 'the audit trail: one entry per commit (id, time, agent, operation), newest first',
  input: {
    agent: f.string('only commits by this agent').optional().arg('id'),
    action: f.string('only this operation (task.claim) or kind (task)').optional().arg('op'),
    since: f.string('only commits at or after this ISO time').optional().arg('time'),
    last: f.int('only the newest N; 0 for all').on({ cli: 20, rest: 50 }).arg('n'),
    task: f.string('only commits naming this task').optional().only('library'),
  },
  result: 'LogEntry[]',
  refusals: [],
  run: history.log,
  library: { log: { args: [['agent', 'action', 'since', 'last', 'task']] } },
  cli: { name: 'log' },
  rest: { method: 'GET', path: '/log' },
});

export const verify = declare({
  name: 'verify',
  kind: 'read',
  summary: "replay every commit's recorded operation on its parent and check the commit is exactly the result (range: A..B, or a commit; default the branch)",
  input: {
    range: f.string('A..B, or a commit').optional(),
    onProgress: f.callback<(checked: number, total: number) => void>('hears how far it got'),
  },
  result: 'VerifyResult & {from, to}',
  refusals: ['NOT_FOUND'],
  run: history.verify,
  library: { verify: { args: ['range', 'onProgress'] } },
  cli: { name: 'verify', args: ['range'] },
});

export const archive = declare({
  name: 'task.archive',
  kind: 'write',
  summary: 'move done tasks out of state.json into archive/ (still shown by t show, collect and the API)',
  input: {
    older_than: f.duration('only tasks done longer ago than this').default(7 * 24 * 3600 * 1000).arg('duration').label('older-than'),
    agent: f.agent('who archives').optional(),
  },
  result: '{archived, files}',
  refusals: [],
  plan: history.archive,
  library: { archive: { args: [{ olderThanMs: 'older_than', agent: 'agent' }] } },
  cli: { name: 'archive' },
  rest: { method: 'POST', path: '/archive' },
});

export const archivedTasks = declare({
  name: 'task.archived',
  kind: 'read',
  summary: 'archived tasks, newest first',
  input: {
    workstream: f.string('only this workstream').optional(),
    id: f.string('only this task').optional(),
    last: f.int('only the newest N').on({ rest: 100 }),
  },
  result: 'Array<Task & {workstream}>',
  refusals: [],
  run: history.archived,
  library: { archivedTasks: { args: [['workstream', 'id', 'last']] } },
  rest: { method: 'GET', path: '/archive' },
});

export const apply = declare({
  name: 'apply',
  kind: 'write',
  summary: 'apply a recorded operation as it is (for tools that replay operations)',
  input: { op: f.json<OpBase>('the operation') },
  result: 'MutationOutcome',
  refusals: ['NOT_FOUND', 'CONFLICT', 'LOCK_HELD', 'AMBIGUOUS'],
  run: (ctx, i) => history.apply(ctx, { op: i.op }),
  library: { apply: { args: ['op'] } },
});
