// A worker process for race tests and the benchmark: claims tasks with the
// library until none is left, then prints one JSON line of what it did.
// argv: <repo> <workstream> <agent> [maxClaims]
const { openOrchestrator } = require('../../dist/index.js');

async function main() {
  const [repo, workstream, agent, max] = process.argv.slice(2);
  const orc = openOrchestrator({ repo, agent });
  const claims = [];
  const limit = max ? Number(max) : Infinity;
  // Read once (a clone fetches what it lacks), then start together on the go signal.
  await orc.status();
  await new Promise((r) => process.stdin.once('data', r));
  const t0 = Date.now();
  while (claims.length < limit) {
    const s = Date.now();
    const task = await orc.getNextTask(workstream, agent);
    if (!task) break;
    // at: when it was acknowledged (ms since the epoch), so that a benchmark can time the claims alone.
    claims.push({ id: task.id, attempts: orc.lastAttempts, ms: Date.now() - s, at: Date.now() });
  }
  orc.close();
  process.stdout.write(JSON.stringify({ agent, claims, elapsed: Date.now() - t0 }) + '\n');
}
main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && err.stack || err), code: err && err.code }) + '\n');
  process.exit(1);
});
