/** The branch: `init` and `import`. */
import { parseIntStrict } from '../../domain/rules.js';
import type { ImportResult } from '../../domain/ops/import-board.js';
import { invoke } from '../../api/invoke.js';
import { declaration } from '../../api/ops/index.js';
import { ensureRepository } from '../../api/session.js';
import { room } from '../room.js';

export default room({
  commands: {
    import: {
      input: (raw, _opts, ctx) => ({ ...raw, onProgress: ctx.json ? undefined : (m: string) => ctx.io.stderr(`import: ${m}\n`) }),
      text: (r: ImportResult & { commit: string | null }) =>
        `Imported ${r.workstreams} workstreams, ${r.tasks} tasks, ${r.agents} agents, ${r.events} events, ${r.topics} topics, ${r.locks} locks (commit ${r.commit?.slice(0, 8)})`,
    },
  },
  // init also makes the repository and sets the segment size: two operations in one command.
  customNames: ['init'],
  custom: (program, ctx) => {
    program
      .command('init [dir]')
      .description("create the coordination branch (git init the directory first when it is not a repository; adopts the remote's branch when it has one)")
      .option('--events-per-segment <n>', 'seal the event log into a new segment every N events (default 10000)')
      .action(async (dir: string | undefined, opts: { eventsPerSegment?: string }) => {
        const repo = dir ? await ensureRepository(dir) : undefined;
        const session = ctx.session(repo ? { repo } : {});
        const out = (await invoke(session, declaration('init'), {}, 'cli')) as { created: boolean; commit: string | null; upgraded?: { from: number; to: number } };
        if (opts.eventsPerSegment !== undefined) {
          await invoke(session, declaration('settings.set'), { settings: { events_per_segment: parseIntStrict(opts.eventsPerSegment, 'events per segment') } }, 'cli');
        }
        const where = await session.where();
        const text = out.created
          ? `Initialized branch ${where.branch} in ${where.repo}${where.remote ? ` (remote ${where.remote})` : ''}`
          : `Branch ${where.branch} already exists in ${where.repo} (at ${out.commit?.slice(0, 8)})${out.upgraded ? `; upgraded from format ${out.upgraded.from} to ${out.upgraded.to}` : ''}`;
        ctx.print({ json: { ...out, ...where }, text });
      });
  },
});
