/**
 * Process entry of the pre-receive check, bundled on its own (no CLI
 * parser, no server): a push waits for it, so it starts as little as it can.
 */
import { checkPush } from './pre-receive.js';
import { readStdin } from '../read-stdin.js';

export async function run(): Promise<number> {
  const guarded = (process.env.ORCHESTRATOR_GUARD_BRANCHES ?? 'orchestrator')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  try {
    const refusals = await checkPush(await readStdin(), guarded, process.cwd());
    for (const r of refusals) process.stderr.write(`orchestrator: ${r.message}\n`);
    return refusals.length ? 1 : 0;
  } catch (err) {
    process.stderr.write(`orchestrator: the push could not be checked: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
