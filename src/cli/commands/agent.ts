/** `agent` / `a`: register agents and record heartbeats. */
import type { AgentResult } from '../../domain/ops/register-agent.js';
import type { AgentView } from '../../domain/queries.js';
import * as fmt from '../format.js';
import { room } from '../room.js';

export default room({
  group: { name: 'agent', aliases: ['a'], description: 'register agents and record heartbeats' },
  commands: {
    'agent.register': { text: (a: AgentResult) => `Registered agent: ${a.id} (${a.type})` },
    // Says whether it committed: a heartbeat within half the stale window of the last sign of life records nothing.
    'agent.heartbeat': {
      text: (a: AgentResult & { recorded: boolean }) =>
        a.recorded
          ? `Heartbeat: ${a.id} recorded (last seen ${a.last_seen})`
          : `Heartbeat: ${a.id} alive, nothing to record: last seen ${fmt.ago(a.last_seen, Date.now())}, within half the stale window`,
    },
    'agent.list': { text: (l: AgentView[]) => fmt.agentList(l, Date.now()) },
  },
});
