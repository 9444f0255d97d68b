import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');

describe('npm start', () => {
  it('runs the demo: agents work through a temporary remote, the dashboard is served, Ctrl-C cleans up', async () => {
    // A process group of its own, so Ctrl-C can be sent as a terminal does: to all of it.
    const child = spawn('npm', ['start', '--silent', '--', '--port', '0', '--duration', '6'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) {
            clearInterval(timer);
            resolve(m[1]);
          }
        }, 50);
        void exited.then(() => reject(new Error(`npm start exited: ${out}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<');
      // The agents register and start claiming within a few seconds.
      const deadline = Date.now() + 20_000;
      let status: { agents: unknown[]; workstreams: Array<{ in_progress: number; done: number }> } = { agents: [], workstreams: [] };
      while (Date.now() < deadline) {
        status = await (await fetch(url + 'api/status')).json();
        if (status.agents.length === 3 && status.workstreams.some((w) => w.in_progress + w.done > 0)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(status.agents).toHaveLength(3);
      expect(status.workstreams.some((w) => w.in_progress + w.done > 0)).toBe(true);
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    await exited;
    const dir = /through (\S+)\/remote\.git/.exec(out)?.[1];
    expect(dir).toBeTruthy();
    expect(fs.existsSync(dir!)).toBe(false);
  });
});

describe('orchestrator demo', () => {
  it('cleans up when only the demo process is told to stop (its agents finish first)', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'orchestrator.js'), 'demo', '--port', '0', '--duration', '20'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait until the agents are working, then stop the demo alone (not its process group).
    const deadline = Date.now() + 20_000;
    while (!/\] claimed /.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/\] claimed /);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const dir = /through (\S+)\/remote\.git/.exec(out)?.[1];
    expect(dir).toBeTruthy();
    await new Promise((r) => setTimeout(r, 500));
    expect(fs.existsSync(dir!)).toBe(false);
  });
});
