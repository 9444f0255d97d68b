/** The runner's cycle: `plan`, `brief`, `collect` (the original runner's `p`, `b`, `c` too). */
import { planMarkdown, type Plan } from '../../domain/plan.js';
import { room } from '../room.js';

export default room({
  commands: {
    // JSON by default (the original's), markdown for people on request.
    plan: {
      input: (raw, _opts, ctx) => ({ ...raw, command: ctx.selfCommand() }),
      extend: (cmd) => cmd.option('--markdown', 'print it for people instead of JSON'),
      print: (p: Plan, ctx, opts) => ctx.io.stdout(opts.markdown && !ctx.json ? planMarkdown(p) : JSON.stringify(p, null, 2) + '\n'),
    },
    brief: {
      input: (raw, _opts, ctx) => ({ ...raw, command: ctx.selfCommand() }),
      text: (b: { markdown: string }) => b.markdown,
    },
    'cycle.collect': { text: (c: unknown) => JSON.stringify(c, null, 2) },
    prime: {
      input: (raw, _opts, ctx) => ({ ...raw, command: ctx.selfCommand() }),
      text: (p: { markdown: string }) => p.markdown,
    },
  },
});
