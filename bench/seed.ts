/**
 * Seeds a coordination branch with many tasks in one commit (adding 10,000
 * tasks one mutation at a time would take minutes and measure nothing).
 */
import { randomBytes } from 'node:crypto';
import { openOrchestrator } from '../src/api.js';
import { engineBehind } from '../src/api/internals.js';
import { emptySnapshot } from '../src/store/layout.js';
import type { OrcEvent, State, Task } from '../src/domain/types.js';

export async function seedTasks(repo: string, workstreams: Record<string, number>): Promise<void> {
  const orc = openOrchestrator({ repo, remote: null });
  const engine = await engineBehind(orc);
  const now = new Date().toISOString();
  const state: State = { format: 1, version: 1, updated_at: now, workstreams: {}, agents: {} };
  const events: OrcEvent[] = [];
  for (const [name, count] of Object.entries(workstreams)) {
    const tasks: Task[] = [];
    events.push({ ts: now, agent: 'system', action: 'workstream_created', workstream: name });
    for (let i = 0; i < count; i++) {
      const id = randomBytes(4).toString('hex');
      tasks.push({
        id,
        title: `Task ${i} of ${name}: do something useful`,
        description: `Description of task ${i}, long enough to look like a real one.`,
        status: 'pending',
        priority: i % 7,
        estimate: null,
        assigned_to: null,
        created_at: now,
        updated_at: now,
        result: null,
      });
      events.push({ ts: now, agent: 'system', action: 'task_created', workstream: name, task_id: id, title: tasks[i].title });
    }
    state.workstreams[name] = { description: '', priority: 1, status: 'active', tasks, created_at: now };
  }
  const snap = await engine.store.commit(emptySnapshot(), { state, events, result: null }, { op: 'bench.seed', at: now, by: 'system' }, 'bench seed');
  if (!(await engine.store.swapLocal(engine.store.localTip(), snap.commit!, 'system', 'bench seed'))) throw new Error('seed lost a race');
  orc.close();
}
