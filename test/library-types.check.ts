import { openOrchestrator } from '../src/api.js';
const orc = openOrchestrator();
async function f() {
  const a: boolean = await orc.acquireLock('r', 'a');
  const b: boolean = await orc.acquireLock('r', 'a', 5);
  const t = await orc.addTask('w', { title: 'x' });
  const id: string = t.id;
  // The agent may be left out: the acting agent claims.
  await orc.claimTask('w', 'id');
  await orc.getNextTask('w');
  await orc.heartbeat();
  await orc.completeTask('w', null);
  await orc.completeTask('w', 'id', 'res', 'agent');
  const k: string | null = await orc.readKnowledge('x');
  const n = await orc.getNextTask('w', 'a');
  const z: string | undefined = n?.id;
  await orc.lock('r', 'a', { ttlMs: 5 });
  await orc.logEvent('a', 'act', { x: 1 });
  await orc.logEvent(undefined, 'act');
  const ev = await orc.getEvents({ last: 5 });
  await orc.getEvents();
  await orc.requeue('w', { stale: true });
  await orc.archive({ olderThanMs: 0 });
  // @ts-expect-error title required
  await orc.addTask('w', { description: 'x' });
  const s: string = await orc.statusText();
  const del: boolean = await orc.deleteKnowledge('x');
  await orc.registerAgent('a');
  await orc.brief('w', undefined, { agent: 'x' });
  return [a, b, id, k, z, ev, s, del];
}
void f;
async function g() {
  const t = await orc.editTask('w', 'id', { title: 'x' });
  const s: string = t.title;
  const r = await orc.removeAgent('a', { force: true });
  const removed: true = r.removed;
  return [s, removed];
}
void g;
