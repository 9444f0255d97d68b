/** `demo`: three simulated agents and the dashboard (what `npm start` runs). */
import { OrchestratorError } from '../../errors.js';
import { parseIntStrict } from '../../domain/rules.js';
import { intOption } from '../context.js';
import { room } from '../room.js';

export default room({
  customNames: ['demo', 'demo-agent'],
  custom: (program, ctx) => {
    program
      .command('demo')
      .description('three simulated agents working through a temporary remote, with the dashboard (what npm start runs)')
      .option('--port <n>', 'dashboard port (default 4000; the next free one when taken; 0 = any)')
      .option('--duration <seconds>', 'how long the agents work (default 60)')
      .option('--keep', 'keep the temporary repositories when stopping')
      .action(async (o: { port?: string; duration?: string; keep?: boolean }) => {
        const { runDemo } = await import('../../demo/demo.js');
        const duration = o.duration !== undefined ? parseIntStrict(o.duration, 'duration') : 60;
        if (duration < 1 || duration > 3600) throw new OrchestratorError('INVALID_INPUT', 'duration must be 1-3600 seconds', { field: 'duration' });
        await runDemo({
          port: o.port !== undefined ? intOption(o.port, 'port', 0, 65535, ' (0: any free port)') : 4000,
          duration,
          keep: !!o.keep,
          bin: ctx.io.bin,
          out: (l) => ctx.io.stdout(l + '\n'),
        });
      });
    program
      .command('demo-agent <id>', { hidden: true })
      .option('--duration <seconds>', 'how long to work', '60')
      .action(async (id: string, o: { duration: string }) => {
        const { runDemoAgent } = await import('../../demo/agent.js');
        await runDemoAgent(id, ctx.globals().repo ?? ctx.io.cwd, parseIntStrict(o.duration, 'duration'), (l) => ctx.io.stdout(l + '\n'));
      });
  },
});
