/** The event log. */
import { declare, f } from '../declare.js';
import * as events from '../use-cases/events.js';

export const logEvent = declare({
  name: 'event.log',
  kind: 'write',
  summary: 'append a custom event (data: an object of extra fields)',
  input: { agent: f.agent('whose event it is').optional(), action: f.string('what happened'), data: f.json('extra fields').default({}).arg('json').label('event data') },
  result: 'OrcEvent',
  refusals: [],
  plan: events.log,
  library: { logEvent: { args: ['agent', 'action', 'data'] } },
  cli: { group: 'events', name: 'add', args: ['action', 'data'] },
  rest: { method: 'POST', path: '/events', status: 201 },
});

export const getEvents = declare({
  name: 'event.list',
  kind: 'read',
  summary: 'show events, oldest first',
  input: {
    last: f.int('only the last N; 0 for all').on({ cli: 20, mcp: 20 }).arg('n'),
    agent: f.string('only events of this agent').optional().arg('id'),
    action: f.string('only events with this action').optional().arg('name'),
    workstream: f.string('only events about this workstream').optional().arg('name'),
    since: f.string('only events at or after this ISO time').optional().arg('time'),
  },
  result: 'OrcEvent[]',
  refusals: [],
  run: events.list,
  library: { getEvents: { args: [['agent', 'action', 'workstream', 'since', 'last']] } },
  cli: { group: 'events', name: 'list', isDefault: true },
  rest: { method: 'GET', path: '/events' },
  mcp: { tool: 'events' },
});
