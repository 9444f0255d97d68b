/** `agent` / `a`: register agents and record heartbeats. */
import type { AgentResult } from '../../domain/ops/register-agent.js';
import type { AgentView } from '../../domain/queries.js';
import * as fmt from '../format.js';
import { room } from '../room.js';

export default room({
  group: { name: 'agent', aliases: ['a'], description: 'register agents and record heartbeats' },
  commands: {
    'agent.register': { text: (a: AgentResult) => `Registered agent: ${a.id} (${a.type})` },
    'agent.heartbeat': { text: (a: AgentResult) => `Heartbeat: ${a.id}` },
    'agent.list': { text: (l: AgentView[]) => fmt.agentList(l, Date.now()) },
  },
});
