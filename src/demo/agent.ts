/**
 * A simulated agent for the demo: registers, then repeatedly picks the ready
 * task that fits its capabilities best, claims it (losing races to the
 * other agents now and then), takes the locks the task needs, "works" with
 * heartbeats, shares a note in the knowledge base and completes the task.
 * It uses the library exactly as a real agent would.
 */
import { openOrchestrator } from '../api.js';
import { OrchestratorError } from '../errors.js';
import { fit } from '../domain/plan.js';

export const DEMO_AGENTS = [
  { id: 'agent-1', type: 'backend', capabilities: ['backend', 'payments', 'db', 'api'] },
  { id: 'agent-2', type: 'frontend', capabilities: ['frontend', 'checkout', 'design'] },
  { id: 'agent-3', type: 'writer', capabilities: ['docs', 'guide', 'reference', 'ci'] },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runDemoAgent(id: string, repo: string, durationS: number, out: (l: string) => void): Promise<void> {
  const me = DEMO_AGENTS.find((a) => a.id === id) ?? { id, type: 'general', capabilities: [] as string[] };
  const orc = openOrchestrator({ repo, agent: id });
  const deadline = Date.now() + durationS * 1000;
  // Work time scales with the demo's length: about nine tasks shared by three agents.
  const workMs = () => Math.max(1500, (durationS * 1000) / 6) * (0.6 + 0.5 * Math.random());
  let stopped = false;
  process.on('SIGTERM', () => (stopped = true));
  await orc.registerAgent(id, { type: me.type, capabilities: me.capabilities });
  out(`registered (${me.capabilities.join(', ')})`);
  let failedOnce = false;
  while (!stopped && Date.now() < deadline) {
    const ready = await orc.readyTasks();
    if (!ready.length) {
      const open = (await orc.listWorkstreams()).reduce((n, w) => n + w.pending + w.in_progress, 0);
      if (open === 0) break;
      await orc.heartbeat(id);
      await sleep(1500 + Math.random() * 1000);
      continue;
    }
    const ranked = ready
      .map((t) => ({ t, f: fit(me.capabilities, { workstream: t.workstream, id: t.id, title: t.title, priority: t.priority, needs: t.needs ?? [] }).score }))
      .sort((a, b) => b.f - a.f || a.t.priority - b.t.priority);
    const { t } = ranked[0];
    try {
      await orc.claimTask(t.workstream, t.id, id);
    } catch (err) {
      if (err instanceof OrchestratorError && (err.code === 'CONFLICT' || err.code === 'NOT_FOUND')) {
        out(`lost ${t.workstream}/${t.id} to another agent`);
        await sleep(300 + Math.random() * 500);
        continue;
      }
      throw err;
    }
    out(`claimed ${t.workstream}/${t.id} "${t.title}"`);
    for (const r of t.needs ?? []) {
      const l = await orc.lockWait(r, id, { ttlMs: 120_000, waitMs: 60_000 });
      out(`locked ${r}${l.waited_ms > 500 ? ` after ${Math.round(l.waited_ms / 1000)}s` : ''}`);
    }
    const end = Date.now() + workMs();
    while (!stopped && Date.now() < end) {
      await sleep(Math.min(2000, end - Date.now()));
      await orc.heartbeat(id);
    }
    if (/CI/.test(t.title) && !failedOnce) {
      failedOnce = true;
      await orc.failTask(t.workstream, t.id, 'the build runner timed out; retrying');
      await orc.releaseTask(t.workstream, t.id);
      out(`failed ${t.workstream}/${t.id} and gave it back`);
    } else {
      const note = `- ${t.workstream}/${t.id} ${t.title}: done.\n`;
      const topic = `${id}-notes`;
      const current = (await orc.readKnowledge(topic)) ?? `# Notes of ${id}\n\n`;
      await orc.writeKnowledge(topic, current + note);
      await orc.completeTask(t.workstream, t.id, `Done: ${t.title.toLowerCase()}`);
      out(`completed ${t.workstream}/${t.id}`);
    }
    for (const r of t.needs ?? []) await orc.releaseLock(r, id);
  }
  await orc.logEvent(id, 'agent_stopped', { reason: stopped ? 'demo stopped' : 'no work left' });
  orc.close();
}
