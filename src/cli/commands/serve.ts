/** `serve`: the REST API and the live dashboard (loaded only for this command). */
import { intOption } from '../context.js';
import { room } from '../room.js';

export default room({

  customNames: ['serve'],
  custom: (program, ctx) => {
    program
      .command('serve')
      .description('serve the REST API and the live dashboard from the branch tip (127.0.0.1:4000)')
      .option('--port <n>', 'port (default 4000, or PORT)')
      .option('--host <address>', 'address to bind (default 127.0.0.1); others need --token or --read-only')
      .option('--read-only', 'answer every write with 405')
      .option('--token <token>', 'every API request needs "Authorization: Bearer <token>" (or ORCHESTRATOR_TOKEN)')
      .option('--public-read', 'with --token: anyone who can reach the server may read; writes still need the token')
      .option('--fetch-interval <seconds>', 'how often to fetch the remote (default 5; 0 = never)')
      .option('--cors <origin>', 'let pages of this origin call the API (off by default)')
      .action(async (o: { port?: string; host?: string; readOnly?: boolean; token?: string; publicRead?: boolean; fetchInterval?: string; cors?: string }) => {
        const { serve, MAX_FETCH_INTERVAL } = await import('../../server/app.js');
        const { io } = ctx;
        io.keepsRunning?.();
        const token = o.token ?? io.env.ORCHESTRATOR_TOKEN;
        const port = o.port ?? io.env.PORT;
        const server = await serve({
          port: port !== undefined ? intOption(port, 'port', 0, 65535, ' (0: any free port)') : 4000,
          host: o.host ?? '127.0.0.1',
          readOnly: !!o.readOnly,
          token: token || undefined,
          publicRead: !!o.publicRead,
          fetchInterval: o.fetchInterval !== undefined ? intOption(o.fetchInterval, 'fetch-interval', 0, MAX_FETCH_INTERVAL, ' seconds (0: never)') : 5,
          cors: o.cors,
          open: ctx.openOptions(),
          log: (line) => io.stderr(line + '\n'),
        });
        const where = server.where;
        const reads = !token ? '' : o.publicRead ? 'reads open to anyone who can reach it' : 'reads need the token';
        const writes = o.readOnly ? 'read-only' : token ? 'writes need the token' : 'writable from this machine';
        const mode = reads ? `${reads}; ${writes}` : writes;
        if (ctx.json) io.stdout(JSON.stringify({ url: server.url, ...where, read_only: !!o.readOnly, token_required: !!token, reads_need_token: !!token && !o.publicRead }) + '\n');
        else {
          // The token goes into the printed URL only on a terminal: other output tends to end up in logs.
          const withToken = token && io.isTTY ? '#token=' + encodeURIComponent(token) : '';
          io.stdout(`Orchestrator dashboard: ${server.url}${withToken}${token && !withToken ? ' (open it with #token=<your token> at the end)' : ''}\n`);
          io.stdout(`API: ${server.url}api/status (${mode})\n`);
          io.stdout(`Branch ${where.branch} of ${where.repo}${where.remote ? `, fetching ${where.remote} every ${o.fetchInterval ?? 5}s` : ''}\n`);
        }
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            void server.close().then(resolve);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
      });
  },
});
