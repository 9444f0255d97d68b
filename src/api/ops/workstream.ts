/** Workstreams and the board as a whole. */
import { statusText, type StatusView } from '../../domain/queries.js';
import { byWho, declare, f, returns } from '../declare.js';
import type { WorkstreamResult } from '../../domain/ops/create-workstream.js';
import * as board from '../use-cases/board.js';

export const createWorkstream = declare({
  name: 'workstream.create',
  kind: 'write',
  summary: 'create a workstream (priority: lower is more urgent)',
  input: {
    name: f.string('the workstream name'),
    description: f.string('what it is for').default(''),
    priority: f.int('lower is more urgent').default(5),
    agent: f.agent('who creates it').optional(),
  },
  result: 'Workstream & {name}',
  refusals: ['CONFLICT'],
  plan: board.createWorkstream,
  library: { createWorkstream: { args: ['name', ['description', 'priority'], 'agent'] } },
  cli: { group: 'workstream', name: 'create', args: ['name', 'description', 'priority'] },
  rest: { method: 'POST', path: '/workstreams', status: 201 },
});

export const listWorkstreams = declare({
  name: 'workstream.list',
  kind: 'read',
  summary: 'list workstreams with task counts',
  input: {},
  result: 'WorkstreamSummary[]',
  refusals: [],
  run: board.workstreams,
  library: { listWorkstreams: { args: [] } },
  cli: { group: 'workstream', name: ['list', 'ls'] },
  rest: { method: 'GET', path: '/workstreams' },
});

export const status = declare({
  name: 'status',
  kind: 'read',
  summary: 'show workstreams, agents, locks, recent events and knowledge',
  input: {},
  result: 'StatusView',
  refusals: [],
  run: board.status,
  library: { status: { args: [] }, statusText: { args: [], map: statusText } },
  cli: { name: ['status', 's'] },
  rest: [
    { method: 'GET', path: '/status' },
    { method: 'GET', path: '/status/text', text: (s: StatusView) => statusText(s) },
  ],
  mcp: { tool: 'status' },
});

export const loadState = declare({
  name: 'state',
  kind: 'read',
  summary: "the state in the original's shape (locks included)",
  input: {},
  result: 'SeedState',
  refusals: [],
  run: board.state,
  library: { loadState: { args: [] } },
});

export const archiveWorkstream = declare({
  name: 'workstream.archive',
  kind: 'write',
  summary: 'archive a finished workstream: hidden from lists and the plan, takes no new tasks',
  input: { name: f.string('the workstream name'), agent: f.agent('who archives it').optional() },
  result: returns<WorkstreamResult>('Workstream & {name}'),
  refusals: ['NOT_FOUND', 'CONFLICT'],
  plan: (_w, c, i, who) => ({ op: 'workstream.archive', at: c.at, by: byWho(who, i.agent), name: i.name }),
  library: { archiveWorkstream: { args: ['name', 'agent'] } },
  cli: { group: 'workstream', name: 'archive', args: ['name'] },
  rest: { method: 'POST', path: '/workstreams/:name/archive' },
});
