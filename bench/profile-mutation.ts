// Profiling aid (not part of npm run bench): N mutations at a given board size.
import * as path from 'node:path';
import { openOrchestrator } from '../src/api.js';
import { seedTasks } from './seed.js';
import { cleanupAll, initRepo, stats, tempDir } from './util.js';

async function main() {
  const size = Number(process.argv[2] ?? 1000);
  const repo = path.join(tempDir('orc-prof-'), 'repo');
  initRepo(repo);
  await seedTasks(repo, { bench: size });
  const orc = openOrchestrator({ repo, remote: null, agent: 'bench' });
  await orc.createWorkstream('warmup');
  const samples: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    const task = await orc.addTask('bench', { title: `added ${i}` });
    samples.push(performance.now() - t);
    const t2 = performance.now();
    await orc.claimTask('bench', task.id, 'bench');
    samples.push(performance.now() - t2);
  }
  console.log(stats(samples));
  orc.close();
  cleanupAll();
}
main();
