/**
 * `orchestrator mcp`: a Model Context Protocol server over stdio for the
 * agent's loop, for clients that have no shell. Its tools are the declared
 * operations with an `mcp` binding (./tools.ts); it acts as one identity
 * (`--as`, ORCHESTRATOR_AGENT, git config orchestrator.agent), so tools take no agent arguments; refusals
 * are tool errors carrying the same codes as the CLI. The `brief` prompt
 * and the `orchestrator://prime` resource give an agent its brief.
 *
 * Built on the SDK's low-level Server: the tool list and the input checks
 * come from the declarations (McpServer would check inputs with zod first
 * and answer failures without our codes).
 */
import { OrchestratorError, toOrchestratorError } from '../errors.js';
import { invoke } from '../api/invoke.js';
import { declaration } from '../api/ops/index.js';
import type { Session } from '../api/session.js';
import type { Task } from '../domain/types.js';
import { compactResult } from './compact.js';
import { buildTools, listed, pick } from './tools.js';

const PRIME_URI = 'orchestrator://prime';

type Content = { content: Array<{ type: 'text'; text: string }>; isError?: boolean };

function text(s: string, isError = false): Content {
  return isError ? { content: [{ type: 'text', text: s }], isError: true } : { content: [{ type: 'text', text: s }] };
}

/** One tool call: the declaration it picks, run as the server's identity. */
export async function callTool(session: Session, name: string, args: Record<string, unknown> = {}): Promise<Content> {
  try {
    const tool = buildTools().find((t) => t.name === name);
    if (!tool) throw new OrchestratorError('NOT_FOUND', `no tool "${name}"`, { tool: name });
    const d = pick(tool, args);
    const result = await invoke(session, d, args, 'mcp');
    return text(compactResult(d.name, result));
  } catch (err) {
    const e = toOrchestratorError(err);
    return text(JSON.stringify(e.toJSON()), true);
  }
}

async function primeText(session: Session): Promise<string> {
  return ((await invoke(session, declaration('prime'), { via: 'mcp' }, 'library')) as { markdown: string }).markdown;
}

/** The brief of the agent's own task in progress in the workstream, else of its next ready task. */
async function briefText(session: Session, workstream: string): Promise<string> {
  const me = await session.actor();
  const tasks = (await invoke(session, declaration('task.list'), { workstream }, 'mcp')) as Task[];
  const mine = me ? tasks.find((t) => t.status === 'in_progress' && t.assigned_to === me) : undefined;
  return ((await invoke(session, declaration('brief'), { workstream, id: mine?.id }, 'mcp')) as { markdown: string }).markdown;
}

export interface McpOptions {
  session: Session;
  version: string;
  /** Streams (default: the process's). */
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
}

/** Serves until the client closes standard input. */
export async function runMcpServer(opts: McpOptions): Promise<void> {
  const { Server } = require('@modelcontextprotocol/sdk/server/index.js') as typeof import('@modelcontextprotocol/sdk/server/index.js');
  const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js') as typeof import('@modelcontextprotocol/sdk/server/stdio.js');
  const types = require('@modelcontextprotocol/sdk/types.js') as typeof import('@modelcontextprotocol/sdk/types.js');
  const session = opts.session;
  const tools = listed(buildTools());
  const server = new Server(
    { name: 'orchestrator', version: opts.version },
    {
      capabilities: { tools: {}, prompts: {}, resources: {} },
      instructions: 'A task board shared through git: read the orchestrator://prime resource (or the brief prompt) first, then claim, complete or fail tasks with these tools.',
    },
  );
  server.setRequestHandler(types.ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(types.CallToolRequestSchema, async (req) => callTool(session, req.params.name, req.params.arguments ?? {}));
  server.setRequestHandler(types.ListResourcesRequestSchema, async () => ({
    resources: [{ uri: PRIME_URI, name: 'prime', description: 'your identity, your work, the ready tasks and the tools of your loop', mimeType: 'text/markdown' }],
  }));
  server.setRequestHandler(types.ReadResourceRequestSchema, async (req) => {
    if (req.params.uri !== PRIME_URI) throw new types.McpError(types.ErrorCode.InvalidParams, `no resource ${req.params.uri}`);
    return { contents: [{ uri: PRIME_URI, mimeType: 'text/markdown', text: await primeText(session) }] };
  });
  server.setRequestHandler(types.ListPromptsRequestSchema, async () => ({
    prompts: [
      {
        name: 'brief',
        description: 'your brief: with a workstream, its next ready task (what it needs, relevant knowledge, how to report back); without, the board and your loop',
        arguments: [{ name: 'workstream', description: 'the workstream', required: false }],
      },
    ],
  }));
  server.setRequestHandler(types.GetPromptRequestSchema, async (req) => {
    if (req.params.name !== 'brief') throw new types.McpError(types.ErrorCode.InvalidParams, `no prompt ${req.params.name}`);
    const ws = req.params.arguments?.workstream;
    let body: string;
    try {
      body = ws ? await briefText(session, ws) : await primeText(session);
    } catch (err) {
      // A brief that cannot be given says why, as the prompt (an agent reads it either way).
      body = `No brief: ${toOrchestratorError(err).message}.\n\n${await primeText(session)}`;
    }
    return { description: 'orchestrator brief', messages: [{ role: 'user' as const, content: { type: 'text' as const, text: body } }] };
  });
  const transport = new StdioServerTransport(opts.stdin as never, opts.stdout as never);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    (opts.stdin ?? process.stdin).once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
  session.close();
}
