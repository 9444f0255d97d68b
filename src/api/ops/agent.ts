/** Agents: register, heartbeat, list. */
import type { AgentResult } from '../../domain/ops/register-agent.js';
import { byWho, declare, f, returns } from '../declare.js';
import type { RemoveAgentResult } from '../../domain/ops/remove-agent.js';
import * as agents from '../use-cases/agents.js';

export const registerAgent = declare({
  name: 'agent.register',
  kind: 'write',
  summary: 'register an agent (or update its type and capabilities)',
  input: {
    id: f.agent('the agent id').label('id'),
    type: f.string('its kind').default('general'),
    capabilities: f.list('what it is good at').default([]).arg('list'),
  },
  result: 'Agent & {id}',
  refusals: [],
  plan: agents.register,
  library: { registerAgent: { args: ['id', ['type', 'capabilities']] } },
  cli: { group: 'agent', name: 'register', args: ['id', 'type'] },
  rest: { method: 'POST', path: '/agents', status: 201 },
});

export const heartbeat = declare({
  name: 'agent.heartbeat',
  kind: 'write',
  summary: 'record that an agent is alive (commits at most once per half stale window)',
  input: { id: f.agent('the agent id').label('id') },
  result: 'Agent & {id, recorded}',
  refusals: ['NOT_FOUND'],
  plan: agents.heartbeat,
  library: { heartbeat: { args: ['id'] } },
  cli: { group: 'agent', name: 'heartbeat', args: ['id'] },
  rest: {
    method: 'POST',
    path: '/agents/:id/heartbeat',
    answer: (a: AgentResult) => ({ ok: true, ...a }),
    // The original answered every heartbeat {ok: true}, an unknown agent's too (nothing is recorded).
    answered: { NOT_FOUND: (d) => ({ ok: true, id: d.agent, recorded: false, registered: false }) },
  },
});

export const listAgents = declare({
  name: 'agent.list',
  kind: 'read',
  summary: 'list agents with heartbeat age and a stale mark',
  input: {},
  result: 'AgentView[]',
  refusals: [],
  run: agents.list,
  library: { listAgents: { args: [] } },
  cli: { group: 'agent', name: ['list', 'ls'] },
  rest: { method: 'GET', path: '/agents' },
});

export const removeAgent = declare({
  name: 'agent.remove',
  kind: 'write',
  summary: 'remove an agent; refused while it holds tasks or live locks unless forced (they go back and are released)',
  input: {
    id: f.string('the agent to remove').rule('agent'),
    force: f.bool('remove it anyway: its tasks go back to pending, its locks are released'),
    agent: f.agent('who removes it').optional(),
  },
  result: returns<RemoveAgentResult>('RemoveAgentResult'),
  refusals: ['NOT_FOUND', 'CONFLICT'],
  plan: (_w, c, i, who) => ({ op: 'agent.remove', at: c.at, by: byWho(who, i.agent), id: i.id, ...(i.force ? { force: true } : {}) }),
  library: { removeAgent: { args: ['id', ['force'], 'agent'] } },
  cli: { group: 'agent', name: ['remove', 'rm'], args: ['id'] },
  rest: { method: 'DELETE', path: '/agents/:id' },
});
