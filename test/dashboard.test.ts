/**
 * The dashboard in a real browser: a temp repository, the real `serve`
 * command in a child process, the real CLI making changes, and Chromium
 * rendering web/. Checks live updates without reloads, escaping, that typing
 * survives updates, knowledge writes through the page, the token and
 * read-only modes, the polling fallback; saves screenshots to
 * test-artifacts/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BIN, cli, cliAsync } from './helpers/cli.js';
import { describeBrowser, launchBrowser } from './helpers/browser.js';
import { cleanup, git, GIT_ENV, makeRepo } from './helpers/repos.js';

const ARTIFACTS = path.resolve(__dirname, '..', 'test-artifacts');
const XSS = '<img src=x onerror=alert(1)>';
/** How long other live updates may take: generous, only the first one is held to 2 s. */
const LIVE = 10_000;

interface Served {
  url: string;
  child: ChildProcess;
  output: () => string;
}

function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...GIT_ENV };
  for (const k of Object.keys(env)) if (k.startsWith('ORCHESTRATOR_')) delete env[k];
  return env;
}

/** Starts `orchestrator serve --port 0` in `cwd` and reads the URL it prints. */
function serveDashboard(cwd: string, extra: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...extra], { cwd, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('the server did not print its URL within 20 s')), 20_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n--- server output ---\n${out}`));
    };
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Orchestrator dashboard: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`the server exited with ${code}`)));
  });
}

function stop(server: Served | undefined): Promise<void> {
  const child = server?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function run(repo: string, ...args: string[]) {
  const r = cli(args, { cwd: repo });
  if (r.code !== 0) throw new Error(`orchestrator ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r;
}

function tip(repo: string): string {
  return git(repo, 'rev-parse', 'refs/heads/orchestrator');
}

/** Watches a page for what must never happen: dialogs, script errors, CSP violations, navigations. */
function guard(page: Page) {
  const problems: string[] = [];
  let navigations = 0;
  let confirmExpected: string | null = null;
  page.on('dialog', (d) => {
    if (d.type() === 'confirm' && confirmExpected !== null && d.message().includes(confirmExpected)) {
      confirmExpected = null;
      void d.accept();
      return;
    }
    problems.push(`unexpected ${d.type()} dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Console errors: CSP violations and the page's own; an HTTP error status the test provokes is not one.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  return {
    problems,
    navigations: () => navigations,
    expectConfirm: (text: string) => {
      confirmExpected = text;
    },
  };
}

async function openDashboard(context: BrowserContext, url: string) {
  const page = await context.newPage();
  const g = guard(page);
  await page.goto(url);
  await page.locator('#conn[data-state="live"]').waitFor({ timeout: 10_000 });
  return { page, guard: g, loads: g.navigations() };
}

async function runAsync(repo: string, ...args: string[]) {
  const r = await cliAsync(args, { cwd: repo });
  if (r.code !== 0) throw new Error(`orchestrator ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r;
}

/**
 * A small board with a bit of everything: priorities, a dependency, a
 * resource, agents, a lock, a topic. Independent commands run side by side
 * (as agents' would); the last one is the task completion.
 */
async function seed(repo: string): Promise<void> {
  await Promise.all([
    runAsync(repo, 'ws', 'create', 'backend', 'API and storage', '1'),
    runAsync(repo, 'ws', 'create', 'frontend', 'Dashboard and docs', '2'),
    runAsync(repo, 'a', 'register', 'agent-1', 'coder'),
    runAsync(repo, 'a', 'register', 'agent-2', 'reviewer'),
    runAsync(repo, 'l', 'acquire', 'src/api', 'agent-2', '--ttl', '600000'),
    runAsync(repo, 'kb', 'write', 'architecture', 'Agents coordinate through **one branch**.'),
  ]);
  const [schema] = await Promise.all([
    runAsync(repo, '--json', 't', 'add', 'backend', 'Design the schema', 'Tables for tasks and agents', '1').then((r) => r.json.id as string),
    runAsync(repo, 't', 'add', 'frontend', 'Write the user guide'),
  ]);
  await Promise.all([
    runAsync(repo, 't', 'add', 'backend', 'Implement the endpoints', '--after', schema, '--needs', 'db', '--estimate', '3h'),
    runAsync(repo, 't', 'claim', 'backend', schema, 'agent-1'),
  ]);
  await runAsync(repo, 't', 'complete', 'backend', schema, 'schema v1 merged');
}

let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  cleanup();
});

describeBrowser('dashboard', () => {
  let repo: string;
  let server: Served;
  let context: BrowserContext;
  let page: Page;
  let g: ReturnType<typeof guard>;
  let loads = 0;

  beforeAll(async () => {
    repo = makeRepo();
    // The server and the browser start while the board is seeded (the server follows the branch as it grows).
    const [s, b, seeded] = await Promise.allSettled([serveDashboard(repo), launchBrowser(), seed(repo)]);
    // Keep what started, so afterAll stops it even when something else failed.
    if (s.status === 'fulfilled') server = s.value;
    if (b.status === 'fulfilled') browser = b.value;
    for (const r of [s, b, seeded]) if (r.status === 'rejected') throw r.reason;
    context = await browser!.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
    context.setDefaultTimeout(LIVE);
    ({ page, guard: g, loads } = await openDashboard(context, server.url));
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));
  });

  afterEach(() => {
    expect(g?.problems ?? []).toEqual([]);
  });

  afterAll(async () => {
    await context?.close();
    await stop(server);
  });

  /** The page is still the one loaded in beforeAll: no reload, no navigation. */
  async function expectSamePage() {
    expect(g.navigations()).toBe(loads);
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');
  }

  it('renders the board from the API', async () => {
    const ws = page.locator('#workstreams');
    await ws.getByText('Implement the endpoints', { exact: true }).waitFor();
    // Sorted by priority, with the counts, progress bar, badges, assignee and links.
    expect(await ws.locator('[data-workstream]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.workstream))).toEqual(['backend', 'frontend']);
    const backend = ws.locator('[data-workstream="backend"]');
    expect(await backend.locator('.ws-count').textContent()).toBe('1/2 done');
    expect(await backend.locator('.progress .seg').count()).toBe(2);
    const done = backend.locator('.task-done');
    expect(await done.locator('.badge').textContent()).toBe('done');
    expect(await done.locator('.assignee').textContent()).toBe('agent-1');
    const endpoints = backend.locator('.task', { hasText: 'Implement the endpoints' });
    expect(await endpoints.locator('.badge').textContent()).toBe('pending');
    expect(await endpoints.locator('.chip-need').textContent()).toBe('db');
    expect(await endpoints.locator('.chip-dep').textContent()).toMatch(/^✓ [0-9a-f]{8}$/);
    // Stats, agents, locks, knowledge, timeline, audit trail and the commit shown.
    expect(await page.locator('.stat-pending .stat-value').textContent()).toBe('2');
    expect(await page.locator('.stat-done .stat-value').textContent()).toBe('1');
    expect(await page.locator('.stat-locks .stat-value').textContent()).toBe('1');
    expect(await page.locator('#agents [data-agent]').count()).toBe(2);
    // Heartbeat ages and lock countdowns move on their own, between updates.
    const heartbeat = page.locator('#agents [data-agent="agent-1"] .heartbeat');
    const left = page.locator('#locks [data-resource="src/api"] .lock-left');
    const [age0, left0] = [await heartbeat.textContent(), await left.textContent()];
    expect(age0).toMatch(/^\d+s ago$/);
    expect(left0).toMatch(/^\d+m \d\ds left$/);
    await page.waitForFunction(
      ([a, l]) => document.querySelector('#agents [data-agent="agent-1"] .heartbeat')?.textContent !== a && document.querySelector('#locks .lock-left')?.textContent !== l,
      [age0, left0],
    );
    await page.locator('#topics').getByText('architecture', { exact: true }).waitFor();
    await page.locator('#log .commit.current').waitFor();
    // The timeline, newest first.
    const actions = await page.locator('#events .ev-action').allTextContents();
    expect(actions).toEqual(expect.arrayContaining(['task completed', 'task claimed', 'lock acquired', 'knowledge written', 'agent registered', 'workstream created']));
    const times = await page.locator('#events .ev-time').evaluateAll((els) => els.map((e) => e.getAttribute('datetime') ?? ''));
    expect(times).toEqual([...times].sort().reverse());
    const head = tip(repo);
    expect(await page.locator('#commit').textContent()).toBe(head.slice(0, 7));
    expect(await page.locator('#branch').textContent()).toBe('orchestrator');
    expect(await page.locator('#log .commit').first().getAttribute('data-commit')).toBe(head);
    expect(await page.locator('#log .commit.current').count()).toBe(1);
  });

  it('shows a task added by the CLI within 2 s, without reloading', async () => {
    run(repo, 't', 'add', 'frontend', 'Wire up the live view');
    await page.locator('#workstreams').getByText('Wire up the live view', { exact: true }).waitFor({ timeout: 2000 });
    await expectSamePage();
    const head = tip(repo);
    await expect.poll(() => page.locator('#commit').textContent()).toBe(head.slice(0, 7));
    await expect.poll(() => page.locator('#log .commit').first().getAttribute('data-commit')).toBe(head);
  });

  it('shows markup in data as literal text', async () => {
    run(repo, 't', 'add', 'frontend', XSS);
    const title = page.locator('#workstreams').getByText(XSS, { exact: true });
    await title.waitFor({ timeout: LIVE });
    expect(await title.evaluate((e) => e.children.length)).toBe(0);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator('main img').count()).toBe(0);
    expect(g.problems).toEqual([]);
    await expectSamePage();
  });

  it('keeps what the user types across live updates, and writes knowledge', async () => {
    await page.fill('#kb-topic', 'design-notes');
    await page.click('#kb-content');
    await page.keyboard.type('Half-written thought');
    run(repo, 't', 'add', 'backend', 'Update while typing');
    await page.locator('#workstreams').getByText('Update while typing', { exact: true }).waitFor({ timeout: LIVE });
    expect(await page.inputValue('#kb-topic')).toBe('design-notes');
    expect(await page.inputValue('#kb-content')).toBe('Half-written thought');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('kb-content');
    await page.keyboard.type(', finished.');

    await page.click('#kb-save');
    await page.locator('#kb-message.ok').waitFor();
    const read = run(repo, 'kb', 'read', 'design-notes');
    expect(read.stdout.trim()).toBe('Half-written thought, finished.');
    await page.locator('#topics').getByText('design-notes', { exact: true }).waitFor();
    await page.locator('#topic-content').getByText('Half-written thought, finished.').waitFor();
    await expectSamePage();
  });

  it("shows the server's message when a write is refused", async () => {
    await page.fill('#kb-topic', 'not a valid topic!');
    await page.click('#kb-save');
    await page.locator('#kb-message.error').waitFor();
    expect(await page.locator('#kb-message').textContent()).toMatch(/^Not saved: topic "not a valid topic!" is invalid/);
    expect(await page.inputValue('#kb-content')).toBe('Half-written thought, finished.');
  });

  it('keeps the open topic current, and closes it when the topic is deleted', async () => {
    await page.locator('#topics').getByText('architecture', { exact: true }).click();
    await page.locator('#topic-content strong').getByText('one branch').waitFor();
    run(repo, 'kb', 'write', 'architecture', 'Agents coordinate through **one git branch**.');
    await page.locator('#topic-content strong').getByText('one git branch').waitFor({ timeout: LIVE });
    expect(await page.locator('#topic-title').textContent()).toBe('architecture');
    run(repo, 'kb', 'delete', 'architecture');
    await page.locator('#topic-notice').getByText('Topic "architecture" was deleted.').waitFor({ timeout: LIVE });
    expect(await page.locator('#topic-view').isHidden()).toBe(true);
    expect(await page.locator('#topics').getByText('architecture', { exact: true }).count()).toBe(0);
  });

  it('deletes a topic from the page after confirming', async () => {
    await page.locator('#topics').getByText('design-notes', { exact: true }).click();
    await page.locator('#topic-content').getByText('Half-written thought, finished.').waitFor();
    g.expectConfirm('design-notes');
    await page.click('#topic-delete');
    await page.locator('#topic-notice').getByText('Topic "design-notes" was deleted.').waitFor();
    expect(cli(['kb', 'read', 'design-notes'], { cwd: repo }).code).not.toBe(0);
    await expectSamePage();
  });

  it('looks right on a laptop and on a phone', async () => {
    run(repo, 'kb', 'write', 'api-design', '## Conventions\n\n- REST for people, events for agents\n- Every write is one commit: `git log orchestrator`');
    await page.locator('#topics').getByText('api-design', { exact: true }).click();
    await page.locator('#topic-content li').first().waitFor();
    await page.fill('#kb-topic', '');
    await page.fill('#kb-content', '');
    await page.evaluate(() => {
      document.getElementById('kb-message')!.replaceChildren();
      (document.activeElement as HTMLElement | null)?.blur();
      window.scrollTo(0, 0);
    });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => window.scrollTo(0, 0));
    // Nothing may stick out sideways on a phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
    expect(fs.statSync(path.join(ARTIFACTS, 'dashboard.png')).size).toBeGreaterThan(10_000);
    expect(fs.statSync(path.join(ARTIFACTS, 'dashboard-phone.png')).size).toBeGreaterThan(10_000);
    await expectSamePage();
  });
});

describeBrowser('dashboard modes', () => {
  let repo: string;
  let withToken: Served;
  let readOnly: Served;
  let context: BrowserContext;

  beforeAll(async () => {
    repo = makeRepo();
    const [t, r, b, seeded] = await Promise.allSettled([
      serveDashboard(repo, ['--token', 'correct-horse-battery']),
      serveDashboard(repo, ['--read-only']),
      browser ?? launchBrowser(),
      runAsync(repo, 'ws', 'create', 'ops', 'Operations', '1'),
    ]);
    if (t.status === 'fulfilled') withToken = t.value;
    if (r.status === 'fulfilled') readOnly = r.value;
    if (b.status === 'fulfilled') browser = b.value;
    for (const x of [t, r, b, seeded]) if (x.status === 'rejected') throw x.reason;
    context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(LIVE);
  });

  afterAll(async () => {
    await context?.close();
    await Promise.all([stop(withToken), stop(readOnly)]);
  });

  it('takes the token from the URL fragment, hides it, and writes with it', async () => {
    const server = withToken;
    // Off a terminal, serve prints the URL without the token (output ends up in logs); the user adds it.
    expect(server.url).not.toContain('correct-horse-battery');
    const { page, guard: g } = await openDashboard(context, server.url + '#token=correct-horse-battery');
    expect(await page.evaluate(() => location.hash)).toBe('');
    expect(await page.evaluate(() => sessionStorage.getItem('orchestrator.token'))).toBe('correct-horse-battery');
    expect(await page.locator('#token-form').isHidden()).toBe(true);
    await page.fill('#kb-topic', 'runbook');
    await page.fill('#kb-content', 'Restart with care.');
    await page.click('#kb-save');
    await page.locator('#kb-message.ok').waitFor();
    expect(run(repo, 'kb', 'read', 'runbook').stdout.trim()).toBe('Restart with care.');

    // Without the token: reading works, a write asks for it, a pasted token works.
    const bare = await context.newPage();
    const g2 = guard(bare);
    await bare.goto(server.url.replace(/#.*$/, ''));
    await bare.locator('#token-form').waitFor();
    await bare.fill('#kb-topic', 'runbook');
    await bare.fill('#kb-content', 'Changed without a token');
    await bare.click('#kb-save');
    await bare.locator('#kb-message.error').waitFor();
    expect(await bare.locator('#kb-message').textContent()).toContain('Authorization: Bearer');
    await bare.fill('#token-input', 'correct-horse-battery');
    await bare.click('#token-form button[type="submit"]');
    await bare.click('#kb-save');
    await bare.locator('#kb-message.ok').waitFor();
    expect(run(repo, 'kb', 'read', 'runbook').stdout.trim()).toBe('Changed without a token');
    expect(await bare.inputValue('#kb-content')).toBe('Changed without a token');
    expect([...g.problems, ...g2.problems]).toEqual([]);
    await page.close();
    await bare.close();
  });

  it('hides write controls on a read-only server', async () => {
    const { page, guard: g } = await openDashboard(context, readOnly.url);
    await page.locator('#workstreams').getByText('ops', { exact: true }).waitFor();
    expect(await page.locator('#mode').textContent()).toBe('read-only');
    expect(await page.locator('#kb-form').isHidden()).toBe(true);
    expect(await page.locator('#token-form').isHidden()).toBe(true);
    await page.locator('#topics').getByText('runbook', { exact: true }).click();
    await page.locator('#topic-content').getByText('Changed without a token').waitFor();
    expect(await page.locator('#topic-delete').isHidden()).toBe(true);
    expect(await page.locator('#topic-edit').isHidden()).toBe(true);
    expect(g.problems).toEqual([]);
    await page.close();
  });

  it('polls when the event stream is unavailable', async () => {
    // Its own context: the page's timers run on a controllable clock, so the 5 s poll needs no waiting.
    const polling = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    polling.setDefaultTimeout(LIVE);
    await polling.clock.install();
    const page = await polling.newPage();
    const g = guard(page);
    await page.route('**/api/stream', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"no stream","code":"UNAVAILABLE"}' }));
    await page.goto(readOnly.url);
    await page.locator('#conn[data-state="polling"]').waitFor({ timeout: LIVE });
    await page.locator('#workstreams').getByText('ops', { exact: true }).waitFor();
    run(repo, 't', 'add', 'ops', 'Seen by polling');
    await page.clock.fastForward(5000);
    await page.locator('#workstreams').getByText('Seen by polling', { exact: true }).waitFor({ timeout: LIVE });
    expect(await page.locator('#conn').getAttribute('data-state')).toBe('polling');
    expect(g.problems.filter((p) => !/EventSource/.test(p))).toEqual([]);
    await polling.close();
  });
});
