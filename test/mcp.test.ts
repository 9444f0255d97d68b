import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, run } from './helpers/cli.js';
import { cleanup, GIT_ENV, makeCluster, makeRepo } from './helpers/repos.js';

const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  cleanup();
});

/** An MCP client of `orchestrator mcp` started in `cwd` as `agent`. */
async function connect(cwd: string, agent?: string): Promise<Client> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(GIT_ENV)) if (v !== undefined && !k.startsWith('ORCHESTRATOR_')) env[k] = v;
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, ...(agent ? ['--as', agent] : []), 'mcp'], cwd, env, stderr: 'pipe' });
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

type CallResult = { content: Array<{ type: string; text: string }>; isError?: boolean };

async function call(c: Client, name: string, args: Record<string, unknown> = {}): Promise<{ text: string; json: any; isError: boolean }> {
  const r = (await c.callTool({ name, arguments: args })) as CallResult;
  const text = r.content[0]?.text ?? '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { text, json, isError: !!r.isError };
}

describe('the MCP server', () => {
  let repo: string;
  let client: Client;
  beforeAll(async () => {
    repo = makeRepo();
    await run(['ws', 'create', 'revenue', 'Revenue', '1'], { cwd: repo });
    client = await connect(repo, 'agent-7');
  });

  it('offers at most 12 tools whose names, descriptions and schemas fit in 2,000 tokens', async () => {
    const list = await client.listTools();
    const tokens = JSON.stringify(list).length / 4;
    expect(list.tools.length).toBeLessThanOrEqual(12);
    expect(tokens).toBeLessThanOrEqual(2000);
    expect(list.tools.map((t) => t.name).sort()).toEqual(['add_task', 'brief', 'claim', 'complete', 'events', 'fail', 'knowledge', 'lock', 'ready', 'release', 'status', 'unlock']);
    // The server acts as its identity: no tool takes an acting agent (events filters by one).
    for (const t of list.tools.filter((x) => x.name !== 'events')) expect(Object.keys(t.inputSchema.properties ?? {})).not.toContain('agent');
    expect(list.tools.find((t) => t.name === 'status')?.annotations?.readOnlyHint).toBe(true);
  });

  it('runs the agent loop: add, claim next, lock with a wait, knowledge, complete', async () => {
    const added = await call(client, 'add_task', { workstream: 'revenue', title: 'Add payments', needs: ['db'] });
    expect(added.json).toMatchObject({ title: 'Add payments', status: 'pending', needs: ['db'] });
    expect(added.json).not.toHaveProperty('created_at');
    expect((await call(client, 'ready', {})).json.map((t: { id: string }) => t.id)).toEqual([added.json.id]);
    const claimed = await call(client, 'claim', { workstream: 'revenue' });
    expect(claimed.json).toMatchObject({ id: added.json.id, status: 'in_progress', assigned_to: 'agent-7' });
    expect((await call(client, 'claim', { workstream: 'revenue' })).text).toBe('No ready task in this workstream.');
    expect((await call(client, 'lock', { resource: 'db', ttl: 60000, wait: 1000 })).json).toMatchObject({ resource: 'db', agent: 'agent-7' });
    expect((await call(client, 'knowledge', { topic: 'payments', content: '# USDC\n' })).json).toMatchObject({ topic: 'payments', created: true });
    expect((await call(client, 'knowledge', { topic: 'payments' })).text).toBe('# USDC\n');
    expect((await call(client, 'knowledge')).json).toEqual(['payments']);
    expect((await call(client, 'complete', { workstream: 'revenue', result: 'integrated' })).json).toMatchObject({ status: 'done', result: 'integrated' });
    expect((await call(client, 'unlock', { resource: 'db' })).json).toMatchObject({ released: true });
    expect((await call(client, 'events', { workstream: 'revenue', last: 2 })).text).toMatch(/agent-7 task_completed/);
    expect((await call(client, 'status')).json).toMatchObject({ workstreams: [{ name: 'revenue', done: 1 }], topics: ['payments'] });
    // The same board, seen by the CLI: the commits are authored by the server's identity.
    const log = (await run(['log', '--agent', 'agent-7', '--json'], { cwd: repo })).json;
    expect(log.map((e: { subject: string }) => e.subject.split(' ').slice(0, 2).join(' '))).toEqual(
      expect.arrayContaining(['task add', 'task claim', 'lock acquire', 'knowledge write', 'task complete', 'lock release']),
    );
  });

  it('answers refusals and bad input as tool errors with the CLI codes', async () => {
    const t = (await run(['t', 'add', 'revenue', 'taken', '--json'], { cwd: repo })).json;
    await run(['t', 'claim', 'revenue', t.id, 'someone-else'], { cwd: repo });
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['claim', { workstream: 'revenue', id: t.id }, 'CONFLICT'],
      ['claim', { workstream: 'nope' }, 'NOT_FOUND'],
      ['add_task', { workstream: 'revenue', title: 'x', priority: 'high' }, 'INVALID_INPUT'],
      ['add_task', { workstream: 'revenue' }, 'INVALID_INPUT'],
      ['fail', { workstream: 'revenue', id: t.id }, 'INVALID_INPUT'],
      ['knowledge', { topic: '../x', content: 'c' }, 'INVALID_INPUT'],
      ['nothing', {}, 'NOT_FOUND'],
    ];
    for (const [tool, args, code] of cases) {
      const r = await call(client, tool, args);
      expect(r.isError).toBe(true);
      expect(r.json).toMatchObject({ code, error: expect.any(String) });
    }
    // The CLI gives the same refusal, with the same message.
    const viaCli = await run(['t', 'claim', 'revenue', t.id, 'agent-7', '--json'], { cwd: repo });
    expect(viaCli.json).toEqual((await call(client, 'claim', { workstream: 'revenue', id: t.id })).json);
    await run(['lock', 'acquire', 'busy', 'someone-else'], { cwd: repo });
    const held = await call(client, 'lock', { resource: 'busy' });
    expect(held.json).toMatchObject({ code: 'LOCK_HELD', data: { holder: 'someone-else' } });
  });

  it('gives an agent its brief as a resource and a prompt', async () => {
    const resources = await client.listResources();
    expect(resources.resources.map((r) => r.uri)).toEqual(['orchestrator://prime']);
    const prime = (await client.readResource({ uri: 'orchestrator://prime' })).contents[0] as { text: string };
    expect(prime.text).toContain('You act as **agent-7**');
    expect(prime.text).toContain('`claim`');
    await run(['t', 'add', 'revenue', 'Write the invoice mail', '--json'], { cwd: repo });
    const prompt = await client.getPrompt({ name: 'brief', arguments: { workstream: 'revenue' } });
    expect((prompt.messages[0].content as { text: string }).text).toContain('## Agent Brief: Write the invoice mail');
  });

  it('without an identity, refuses what needs an agent and says how to set one', async () => {
    const anonymous = await connect(repo);
    const r = await call(anonymous, 'claim', { workstream: 'revenue' });
    expect(r.json).toMatchObject({ code: 'INVALID_INPUT', error: expect.stringContaining('--as') });
    expect((await call(anonymous, 'status')).isError).toBe(false);
  });
});

describe('two MCP servers on two clones of one remote', () => {
  it('claim every task exactly once, with results equal to the CLI', async () => {
    const { clones } = makeCluster(2);
    await run(['ws', 'create', 'w'], { cwd: clones[0] });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await run(['t', 'add', 'w', `task ${i}`, '--json'], { cwd: clones[0] })).json.id);
    const [a, b] = await Promise.all([connect(clones[0], 'mcp-a'), connect(clones[1], 'mcp-b')]);
    const work = async (c: Client, me: string) => {
      const mine: string[] = [];
      for (;;) {
        const r = await call(c, 'claim', { workstream: 'w' });
        expect(r.isError).toBe(false);
        if (!r.json) return mine;
        expect(r.json.assigned_to).toBe(me);
        mine.push(r.json.id);
        expect((await call(c, 'complete', { workstream: 'w', id: r.json.id, result: `by ${me}` })).json).toMatchObject({ status: 'done', result: `by ${me}` });
      }
    };
    const [byA, byB] = await Promise.all([work(a, 'mcp-a'), work(b, 'mcp-b')]);
    expect([...byA, ...byB].sort()).toEqual([...ids].sort());
    expect(byA.filter((id) => byB.includes(id))).toEqual([]);
    // The CLI on either clone sees exactly what the servers answered.
    for (const clone of clones) {
      const tasks = (await run(['t', 'ls', 'w', '--json'], { cwd: clone })).json as Array<{ id: string; assigned_to: string; result: string; status: string }>;
      for (const t of tasks) {
        const who = byA.includes(t.id) ? 'mcp-a' : 'mcp-b';
        expect(t).toMatchObject({ status: 'done', assigned_to: who, result: `by ${who}` });
      }
    }
    const claims = (await run(['log', '--action', 'task.claim', '--last', '0', '--json'], { cwd: clones[1] })).json as unknown[];
    expect(claims).toHaveLength(10);
  });
});

describe('start-up of other commands', () => {
  it('never loads the MCP SDK or the server', () => {
    const repo = makeRepo();
    const bundle = path.resolve(__dirname, '..', 'dist', 'cli.bundle.cjs');
    const script = `
      const { main } = require(${JSON.stringify(bundle)});
      const io = { stdout() {}, stderr() {}, stdin: async () => '', env: process.env, cwd: process.cwd(), bin: '' };
      main(['status'], io).then(() => main(['t', 'ready'], io)).then(() => main(['prime'], io)).then(() => {
        process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((k) => /modelcontextprotocol|express/.test(k))));
      });`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: repo, env: GIT_ENV, encoding: 'utf8' }));
    expect(loaded).toEqual([]);
  });
});
