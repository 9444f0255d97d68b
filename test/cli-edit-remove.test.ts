/**
 * Edit and remove (task.edit, task.delete, workstream.archive, agent.remove)
 * through every surface: each is declared once and its CLI command, REST
 * route and library function come from the declaration.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openOrchestrator } from '../src/api.js';
import { serve } from '../src/server/app.js';
import { run } from './helpers/cli.js';
import { cleanup, git, makeRepo } from './helpers/repos.js';

afterAll(cleanup);

describe('edit and remove', () => {
  it('through the CLI', async () => {
    const dir = makeRepo();
    await run(['ws', 'create', 'w'], { cwd: dir });
    const a = (await run(['t', 'add', 'w', 'first', '--json'], { cwd: dir })).json.id;
    const b = (await run(['t', 'add', 'w', 'second', '--after', a, '--json'], { cwd: dir })).json.id;
    const edited = await run(['t', 'edit', 'w', b, '--title', 'second, renamed', '--priority', '1', '--estimate', '2h', '--as', 'editor'], { cwd: dir });
    expect(edited.code).toBe(0);
    expect(edited.stdout).toBe(`[pending] ${b}: second, renamed (after ${a})\n`);
    expect(git(dir, 'log', '-1', '--format=%an %s', 'orchestrator')).toBe(`editor task edit w/${b} by editor`);
    // A cycle is refused, naming it; so is deleting a task another depends on.
    expect((await run(['t', 'edit', 'w', a, '--after', b], { cwd: dir })).code).toBe(4);
    expect((await run(['t', 'rm', 'w', a], { cwd: dir })).code).toBe(4);
    expect((await run(['t', 'edit', 'w', b, '--after', '', '--json'], { cwd: dir })).json).not.toHaveProperty('depends_on');
    expect((await run(['t', 'delete', 'w', a, '--json'], { cwd: dir })).json).toMatchObject({ id: a });
    expect((await run(['t', 'ls', 'w', '--json'], { cwd: dir })).json.map((t: { id: string }) => t.id)).toEqual([b]);
    expect((await run(['t', 'edit', 'w', b], { cwd: dir })).code).toBe(2);

    await run(['a', 'register', 'busy'], { cwd: dir });
    await run(['t', 'claim', 'w', b, 'busy'], { cwd: dir });
    expect((await run(['a', 'rm', 'busy'], { cwd: dir })).code).toBe(4);
    expect((await run(['a', 'remove', 'busy', '--force', '--json'], { cwd: dir })).json).toMatchObject({ id: 'busy', removed: true, requeued: [{ workstream: 'w', id: b }] });
    expect((await run(['ws', 'archive', 'w'], { cwd: dir })).code).toBe(4);
    await run(['t', 'claim', 'w', b, 'a2'], { cwd: dir });
    await run(['t', 'complete', 'w', b, 'done'], { cwd: dir });
    expect((await run(['ws', 'archive', 'w', '--json'], { cwd: dir })).json).toMatchObject({ name: 'w', status: 'archived' });
  });

  it('through REST and the library', async () => {
    const repo = makeRepo();
    const orc = openOrchestrator({ repo, agent: 'lib' });
    await orc.createWorkstream('w');
    const t = await orc.addTask('w', { title: 'draft' });
    expect(await orc.editTask('w', t.id, { title: 'final', needs: ['db'] })).toMatchObject({ title: 'final', needs: ['db'] });
    const srv = await serve({ port: 0, fetchInterval: 0, open: { repo } });
    try {
      const call = async (method: string, path: string, body?: unknown) => {
        const r = await fetch(new URL(path, srv.url), { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
        return { status: r.status, json: (await r.json()) as any };
      };
      expect((await call('POST', `/api/workstreams/w/tasks/${t.id}/edit`, { priority: 2, agent: 'web' })).json).toMatchObject({ title: 'final', priority: 2 });
      expect((await call('POST', `/api/workstreams/w/tasks/${t.id}/edit`, { priority: 'high' })).status).toBe(400);
      expect((await call('DELETE', `/api/workstreams/w/tasks/${t.id}`, { agent: 'web' })).json).toMatchObject({ id: t.id });
      expect((await call('DELETE', `/api/workstreams/w/tasks/${t.id}`, {})).status).toBe(404);
      expect((await call('POST', '/api/agents', { id: 'gone' })).status).toBe(201);
      expect((await call('DELETE', '/api/agents/gone', {})).json).toMatchObject({ id: 'gone', removed: true });
      expect((await call('POST', '/api/workstreams/w/archive', {})).json).toMatchObject({ name: 'w', status: 'archived' });
      expect((await call('POST', '/api/workstreams/w/archive', {})).json).toMatchObject({ code: 'CONFLICT' });
    } finally {
      await srv.close();
    }
    await orc.createWorkstream('v');
    const u = await orc.addTask('v', { title: 'x' });
    expect(await orc.deleteTask('v', u.id)).toMatchObject({ id: u.id });
    await orc.registerAgent('tmp');
    expect(await orc.removeAgent('tmp')).toMatchObject({ removed: true });
    expect(await orc.archiveWorkstream('v')).toMatchObject({ status: 'archived' });
    expect(git(repo, 'log', '-1', '--format=%an', 'orchestrator')).toBe('lib');
  });
});
