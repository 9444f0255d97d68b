/** `kb` / `knowledge`: the shared markdown knowledge base. */
import { room } from '../room.js';

export default room({
  group: { name: 'kb', aliases: ['knowledge'], description: 'shared markdown knowledge base' },
  commands: {
    'knowledge.write': {
      // "-" as the content reads standard input.
      input: async (raw, _opts, ctx) => {
        const c = raw.content as string[];
        return c.length === 1 && c[0] === '-' ? { ...raw, content: await ctx.io.stdin() } : raw;
      },
      text: (r: { topic: string }) => `Wrote knowledge: ${r.topic}`,
    },
    'knowledge.read': { text: (r: { content: string }) => r.content },
    'knowledge.delete': { text: (r: { topic: string }) => `Deleted knowledge: ${r.topic}` },
    'knowledge.list': { text: (topics: string[]) => (topics.length ? topics.join('\n') : '(empty)') },
  },
});
