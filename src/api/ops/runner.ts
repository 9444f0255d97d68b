/** The runner's cycle: plan, brief, collect. */
import { declare, f } from '../declare.js';
import * as runner from '../use-cases/runner.js';
import { prime as primeUseCase } from '../use-cases/prime.js';
import type { AnyDeclaration } from '../declare.js';
// A cycle (the list includes this file), read only when prime runs.
import { DECLARATIONS } from './index.js';

/** The agent's loop: the operations offered as MCP tools. */
const loop = (): readonly AnyDeclaration[] => (DECLARATIONS as readonly AnyDeclaration[]).filter((d) => !!d.mcp);

export const plan = declare({
  name: 'plan',
  kind: 'read',
  summary: 'the cycle plan: ready tasks, idle agents and who should take what, serial work, stale agents',
  input: { command: f.string('how to call this CLI in the briefs').optional().internal() },
  result: 'Plan',
  refusals: [],
  run: runner.plan,
  library: { plan: { args: [] } },
  cli: { name: ['plan', 'p'] },
  rest: { method: 'GET', path: '/plan' },
});

export const brief = declare({
  name: 'brief',
  kind: 'read',
  summary: "a markdown brief for one agent: the task (default: the next ready one), its dependencies' results, relevant knowledge, recent events, the commands to report back",
  input: {
    workstream: f.string('the workstream'),
    id: f.string('the task (default: the next ready one)').optional().arg('taskId'),
    agent: f.agent('the agent the brief is for (fills in the commands)').optional().arg('id'),
    command: f.string('how to call this CLI in the commands').optional().internal(),
  },
  result: '{task, markdown} (task null when none is ready)',
  refusals: ['NOT_FOUND'],
  run: runner.brief,
  library: { brief: { args: ['workstream', 'id', ['agent', 'command']] } },
  cli: { name: ['brief', 'b'], args: ['workstream', 'id'], options: ['agent'] },
  rest: { method: 'GET', path: '/workstreams/:workstream/brief' },
  mcp: { tool: 'brief' },
});

export const collect = declare({
  name: 'cycle.collect',
  kind: 'write',
  summary: 'what happened since the last collect, from git history; records a cycle marker',
  input: {
    since: f.string('start after this commit id or ISO time instead of the last marker').optional().arg('commit|time'),
    record: f.bool('record a cycle marker').default(true),
    agent: f.agent('who collects').optional(),
  },
  result: 'Collected',
  refusals: ['NOT_FOUND'],
  run: runner.collect,
  library: { collect: { args: [['since', 'record', 'agent']] } },
  cli: { name: ['collect', 'c'] },
  rest: { method: 'POST', path: '/collect' },
});

export const prime = declare({
  name: 'prime',
  kind: 'read',
  summary: 'what an agent session needs at its start: its identity, its work, the ready tasks now and the commands of its loop (for session-start hooks)',
  input: {
    via: f.string('how the commands are shown').default('cli').only('library'),
    command: f.string('how to call this CLI').optional().internal(),
    agent: f.agent('who the session acts as (the acting agent)').optional().internal(),
  },
  result: '{agent, markdown}',
  refusals: [],
  run: (ctx, i) => primeUseCase(ctx, { via: i.via === 'mcp' ? 'mcp' : 'cli', command: i.command, agent: i.agent }, loop()),
  library: { prime: { args: [['via']] } },
  cli: { name: 'prime' },
});
