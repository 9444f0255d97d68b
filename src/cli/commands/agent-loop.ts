/** An agent session's entry point over MCP: `mcp` serves the tools of its loop on stdio (the SDK loads only here). */
import { room } from '../room.js';

export default room({
  customNames: ['mcp'],
  custom: (program, ctx) => {
    program
      .command('mcp')
      .description('serve the agent loop as MCP tools on standard input and output (identity: --as, ORCHESTRATOR_AGENT or git config orchestrator.agent)')
      .action(async () => {
        ctx.io.keepsRunning?.();
        const { runMcpServer } = await import('../../mcp/server.js');
        await runMcpServer({ session: ctx.session({ longRunning: true }), version: program.version() ?? '0.1.0' });
      });
  },
});
