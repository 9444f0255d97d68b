/**
 * The dashboard in a real browser: a temp repository, the real `serve`
 * command in a child process, the real CLI making changes, and Chromium
 * rendering web/. Checks live updates without reloads, escaping, that typing
 * survives updates, knowledge writes through the page, managing work from
 * the page (seen from another clone, authored as the chosen agent), refusals
 * shown in words, the token and read-only modes, the polling fallback; saves
 * screenshots to test-artifacts/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BIN, cli, cliAsync } from './helpers/cli.js';
import { describeBrowser, launchBrowser } from './helpers/browser.js';
import { cleanup, git, GIT_ENV, makeCluster, makeRepo } from './helpers/repos.js';

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

  it('keeps what the user types across live updates, and writes knowledge as the chosen agent', async () => {
    await page.fill('#act-as', 'writer-1');
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
    expect(git(repo, 'log', '-1', '--format=%an', 'refs/heads/orchestrator')).toBe('writer-1');
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

/** A task's row on the board, found by its title. */
function taskRow(page: Page, title: string) {
  return page.locator('#workstreams .task', { has: page.locator('.task-title', { hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
}

/** The branch's commits in a clone, newest first: "author | subject". */
function history(clone: string, n: number): string[] {
  return git(clone, 'log', `-${n}`, '--format=%an | %s', 'refs/heads/orchestrator').split('\n');
}

describeBrowser('dashboard manages work', () => {
  // The server runs in one clone and never fetches on its own (--fetch-interval 0), so what
  // another clone does reaches it only when it writes: the 409 below is not a race.
  let server: Served;
  let here: string;
  let there: string;
  let context: BrowserContext;
  let page: Page;
  let g: ReturnType<typeof guard>;
  let schema: string;

  beforeAll(async () => {
    ({
      clones: [here, there],
    } = makeCluster(2));
    await Promise.all([runAsync(here, 'ws', 'create', 'backend', 'API and storage', '1'), runAsync(here, 'a', 'register', 'agent-1', 'coder'), runAsync(here, 'a', 'register', 'agent-2', 'reviewer')]);
    schema = (await runAsync(here, '--json', 't', 'add', 'backend', 'Design the schema')).json.id as string;
    const [s, b] = await Promise.allSettled([serveDashboard(here, ['--fetch-interval', '0']), browser ?? launchBrowser()]);
    if (s.status === 'fulfilled') server = s.value;
    if (b.status === 'fulfilled') browser = b.value;
    for (const r of [s, b]) if (r.status === 'rejected') throw r.reason;
    context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    context.setDefaultTimeout(LIVE);
    ({ page, guard: g } = await openDashboard(context, server.url));
    await taskRow(page, 'Design the schema').waitFor();
  });

  afterEach(() => {
    expect(g?.problems ?? []).toEqual([]);
  });

  afterAll(async () => {
    await context?.close();
    await stop(server);
  });

  it('asks who acts before writing, offering the registered agents', async () => {
    expect(await page.locator('#act-as').isVisible()).toBe(true);
    await expect.poll(() => page.locator('#agent-ids option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['agent-1', 'agent-2']);
    await page.click('#ws-new');
    await page.fill('#ws-name', 'payments');
    await page.click('#ws-create');
    await page.locator('#ws-message.error').waitFor();
    expect(await page.locator('#ws-message').textContent()).toMatch(/Choose who you act as/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('act-as');
    expect(history(here, 1)[0]).toMatch(/^system \| task add backend\//);
  });

  it('creates a workstream and a task with priority and a dependency, seen by another clone and authored as the chosen agent', async () => {
    await page.fill('#act-as', 'agent-1');
    await page.fill('#ws-desc', 'Taking money');
    await page.fill('#ws-priority', '2');
    await page.click('#ws-create');
    await page.locator('#ws-message.ok').waitFor();
    await page.locator('#workstreams [data-workstream="payments"]').waitFor();

    await page.click('#task-new');
    // The workstream just created is the one the next task goes to.
    await expect.poll(() => page.inputValue('#task-ws')).toBe('payments');
    await page.fill('#task-title', 'Charge cards');
    await page.fill('#task-desc', 'Through the provider API');
    await page.fill('#task-priority', '1');
    await page.fill('#task-estimate', '2h');
    await page.fill('#task-needs', 'db');
    await page.fill('#task-deps-filter', 'schema');
    await page.locator(`#task-deps input[value="${schema}"]`).check();
    expect(await page.locator('#task-deps-note').textContent()).toBe(`1 chosen: ${schema}`);
    await page.click('#task-add');
    await page.locator('#task-message.ok').waitFor();
    const row = taskRow(page, 'Charge cards');
    await row.waitFor();
    expect(await row.locator('.chip-dep').textContent()).toBe(schema);
    expect(await row.locator('.waits').textContent()).toBe(`waits for ${schema}`);
    expect(await row.locator('button[data-action="claim"]').count()).toBe(0);
    // The form is ready for the next task: title and dependencies cleared, workstream kept.
    expect(await page.inputValue('#task-title')).toBe('');
    expect(await page.locator('#task-deps input:checked').count()).toBe(0);
    expect(await page.inputValue('#task-ws')).toBe('payments');

    const listed = run(there, '--json', 't', 'ls', 'payments').json as Array<Record<string, unknown>>;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ title: 'Charge cards', description: 'Through the provider API', priority: 1, estimate: '2h', depends_on: [schema], needs: ['db'], status: 'pending' });
    expect(history(there, 2)).toEqual([`agent-1 | task add payments/${listed[0].id} by agent-1`, 'agent-1 | workstream create payments by agent-1']);
    expect(run(there, '--json', 'ws', 'ls').json).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'payments', description: 'Taking money', priority: 2 })]));
  });

  it('shows a refused field in words and marks it', async () => {
    // The form stays open after a workstream is created, for the next one.
    expect(await page.locator('#ws-form').isVisible()).toBe(true);
    await page.fill('#ws-name', 'not a name!');
    await page.click('#ws-create');
    await page.locator('#ws-message.error').waitFor();
    expect(await page.locator('#ws-message').textContent()).toMatch(/^Not saved: workstream name "not a name!" is invalid/);
    expect(await page.getAttribute('#ws-name', 'aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('ws-name');
    await page.keyboard.press('Escape');
    expect(await page.locator('#ws-form').isHidden()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('ws-new');
  });

  it('claims, completes, fails and releases from the page, as the chosen agent', async () => {
    const design = taskRow(page, 'Design the schema');
    const charge = taskRow(page, 'Charge cards');
    // Claim with the keyboard; the focus stays on the task, on its next action.
    await design.locator('button[data-action="claim"]').focus();
    await page.keyboard.press('Enter');
    await design.locator('.badge', { hasText: 'in progress' }).waitFor();
    expect(await design.locator('.assignee').textContent()).toBe('agent-1');
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.action)).toBe('complete');

    await page.keyboard.press('Enter');
    await page.locator('#task-dialog[open]').waitFor();
    expect(await page.locator('#td-task').textContent()).toContain('Design the schema');
    await page.keyboard.type('schema v1 merged');
    await page.click('#td-submit');
    await page.locator('#task-dialog').waitFor({ state: 'hidden' });
    await design.locator('.badge', { hasText: 'done' }).waitFor();
    expect(await design.locator('.task-result').textContent()).toBe('resultschema v1 merged');
    // Its dependency done, the next task can be claimed; now as a typed-in agent.
    await page.fill('#act-as', 'agent-3');
    await charge.locator('button[data-action="claim"]').click();
    await charge.locator('.badge', { hasText: 'in progress' }).waitFor();
    expect(await charge.locator('.assignee').textContent()).toBe('agent-3');
    await charge.locator('button[data-action="release"]').click();
    await charge.locator('.badge', { hasText: 'pending' }).waitFor();
    expect(await charge.locator('.assignee').textContent()).toBe('unassigned');
    await charge.locator('button[data-action="claim"]').click();
    await charge.locator('button[data-action="fail"]').click();
    await page.locator('#task-dialog[open]').waitFor();
    // A failure needs a reason; the page says so before asking the server.
    await page.click('#td-submit');
    expect(await page.locator('#td-message').textContent()).toBe('Say why it failed.');
    await page.fill('#td-text', 'provider sandbox down');
    await page.click('#td-submit');
    await charge.locator('.badge', { hasText: 'failed' }).waitFor();
    expect(await charge.locator('.task-result').textContent()).toBe('errorprovider sandbox down');
    await charge.locator('button[data-action="release"]').click();
    await charge.locator('.badge', { hasText: 'pending' }).waitFor();

    // The board's history, in the page and in the other clone.
    await expect.poll(() => page.locator('#log .commit .subject').first().textContent()).toMatch(/^task release payments\//);
    const actions = await page.locator('#events .ev-action').allTextContents();
    expect(actions.slice(0, 6)).toEqual(['task released', 'task failed', 'task claimed', 'task released', 'task claimed', 'task unblocked']);
    const id = (run(there, '--json', 't', 'ls', 'payments').json as Array<{ id: string }>)[0].id;
    expect(history(there, 7)).toEqual([
      `agent-3 | task release payments/${id} by agent-3`,
      `agent-3 | task fail payments/${id} by agent-3`,
      `agent-3 | task claim payments/${id} by agent-3`,
      `agent-3 | task release payments/${id} by agent-3`,
      `agent-3 | task claim payments/${id} by agent-3`,
      `agent-1 | task complete backend/${schema} by agent-1`,
      `agent-1 | task claim backend/${schema} by agent-1`,
    ]);
  });

  it('shows a claim refused because another clone claimed the task meanwhile', async () => {
    await page.fill('#act-as', 'agent-1');
    const charge = taskRow(page, 'Charge cards');
    const id = (await charge.getAttribute('data-task'))!;
    run(there, 't', 'claim', 'payments', id, 'agent-2');
    // The page has not heard of it (the server does not fetch on its own).
    expect(await charge.locator('.badge').textContent()).toBe('pending');
    await charge.locator('button[data-action="claim"]').click();
    const note = charge.locator('.task-note .form-message.error');
    await note.waitFor();
    expect(await note.textContent()).toMatch(/^Not claimed: task "[0-9a-f]{8}" is in progress \(assigned to agent-2\), not pending$/);
    // The board catches up, and the refusal stays beside the task until dismissed.
    await charge.locator('.badge', { hasText: 'in progress' }).waitFor();
    expect(await charge.locator('.assignee').textContent()).toBe('agent-2');
    expect(await note.textContent()).toMatch(/assigned to agent-2/);
    expect(history(here, 1)[0]).toBe(`agent-2 | task claim payments/${id} by agent-2`);
    await charge.locator('button[data-action="dismiss"]').click();
    expect(await charge.locator('.task-note').count()).toBe(0);
  });

  it('keeps a half-written task and its chosen dependencies across live updates', async () => {
    if (await page.locator('#task-form').isHidden()) await page.click('#task-new');
    await page.selectOption('#task-ws', 'backend');
    await page.locator(`#task-deps input[value="${schema}"]`).check();
    await page.click('#task-title');
    await page.keyboard.type('Index the');
    run(here, 't', 'add', 'backend', 'Added meanwhile');
    await page.locator('#task-deps .dep-title', { hasText: 'Added meanwhile' }).waitFor();
    await taskRow(page, 'Added meanwhile').waitFor();
    expect(await page.inputValue('#task-title')).toBe('Index the');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('task-title');
    expect(await page.locator(`#task-deps input[value="${schema}"]`).isChecked()).toBe(true);
    await page.keyboard.type(' tables');
    await page.click('#task-add');
    await page.locator('#task-message.ok').waitFor();
    const added = (run(there, '--json', 't', 'ls', 'backend').json as Array<{ title: string; depends_on?: string[] }>).find((t) => t.title === 'Index the tables');
    expect(added?.depends_on).toEqual([schema]);
    await page.evaluate(() => window.scrollTo(0, 0));
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-work.png'), fullPage: true });
  });

  it('edits a task and deletes a pending one from the page, as the chosen agent', async () => {
    await page.fill('#act-as', 'agent-1');
    const charge = taskRow(page, 'Charge cards');
    const id = (await charge.getAttribute('data-task'))!;
    await charge.locator('button[data-action="edit"]').click();
    await page.locator('#edit-dialog[open]').waitFor();
    expect(await page.inputValue('#te-title')).toBe('Charge cards');
    // Nothing changed: said in the dialog, nothing sent.
    await page.click('#te-submit');
    expect(await page.locator('#te-message').textContent()).toBe('Nothing changed.');
    await page.fill('#te-title', 'Charge cards in EUR');
    await page.fill('#te-priority', '1');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-edit.png') });
    await page.click('#te-submit');
    await page.locator('#edit-dialog').waitFor({ state: 'hidden' });
    await taskRow(page, 'Charge cards in EUR').waitFor();
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.action)).toBe('edit');
    const edited = (run(there, '--json', 't', 'ls', 'payments').json as Array<{ id: string; title: string; priority: number; assigned_to: string }>).find((t) => t.id === id);
    expect(edited).toMatchObject({ title: 'Charge cards in EUR', priority: 1, assigned_to: 'agent-2' });
    expect(history(there, 1)[0]).toBe(`agent-1 | task edit payments/${id} by agent-1`);

    // Dependencies and resources change only while a task is pending: for this claimed one they are shown, not editable.
    await taskRow(page, 'Charge cards in EUR').locator('button[data-action="edit"]').click();
    await page.locator('#edit-dialog[open]').waitFor();
    const had = (run(there, '--json', 't', 'ls', 'payments').json as Array<{ id: string; depends_on?: string[] }>).find((t) => t.id === id)!.depends_on ?? [];
    expect(await page.inputValue('#te-deps')).toBe(had.join(', '));
    expect(await page.isDisabled('#te-deps')).toBe(true);
    await page.click('#te-cancel');
    await page.locator('#edit-dialog').waitFor({ state: 'hidden' });

    // For a pending one: ids by commas or spaces, resources one per line; an unknown id is refused in the dialog.
    const pendingRow = taskRow(page, 'Added meanwhile');
    const pendingId = (await pendingRow.getAttribute('data-task'))!;
    await pendingRow.locator('button[data-action="edit"]').click();
    await page.locator('#edit-dialog[open]').waitFor();
    expect(await page.isDisabled('#te-deps')).toBe(false);
    await page.fill('#te-deps', 'no-such-task');
    await page.click('#te-submit');
    await page.locator('#te-message.error').waitFor();
    expect(await page.locator('#te-message').textContent()).toMatch(/^Not saved: .*no-such-task/);
    expect(await page.getAttribute('#te-deps', 'aria-invalid')).toBe('true');
    await page.fill('#te-deps', ` ${id} ,`);
    await page.fill('#te-needs', 'db: payments, EU\n\nqueue ');
    await page.click('#te-submit');
    await page.locator('#edit-dialog').waitFor({ state: 'hidden' });
    const backend = () => (run(there, '--json', 't', 'ls', 'backend').json as Array<{ id: string; depends_on?: string[]; needs?: string[] }>).find((t) => t.id === pendingId);
    expect(backend()).toMatchObject({ depends_on: [id], needs: ['db: payments, EU', 'queue'] });
    await pendingRow.locator('button[data-action="edit"]').click();
    await page.locator('#edit-dialog[open]').waitFor();
    expect(await page.inputValue('#te-deps')).toBe(id);
    expect(await page.inputValue('#te-needs')).toBe('db: payments, EU\nqueue');
    // Emptied, they go.
    await page.fill('#te-deps', '');
    await page.fill('#te-needs', '');
    await page.click('#te-submit');
    await page.locator('#edit-dialog').waitFor({ state: 'hidden' });
    expect(backend()?.depends_on ?? []).toEqual([]);
    expect(backend()?.needs ?? []).toEqual([]);

    // Delete a pending task, after confirming.
    const meanwhile = taskRow(page, 'Added meanwhile');
    const gone = (await meanwhile.getAttribute('data-task'))!;
    g.expectConfirm('"Added meanwhile"');
    await meanwhile.locator('button[data-action="delete"]').click();
    await meanwhile.waitFor({ state: 'detached' });
    expect((run(there, '--json', 't', 'ls', 'backend').json as Array<{ id: string }>).map((t) => t.id)).not.toContain(gone);
    expect(history(there, 1)[0]).toBe(`agent-1 | task delete backend/${gone} by agent-1`);

    // One that another task depends on is refused, in words, beside it; nothing is written.
    const base = run(here, '--json', 't', 'add', 'backend', 'Base layer').json.id as string;
    run(here, 't', 'add', 'backend', 'On the base', '--after', base);
    const baseRow = taskRow(page, 'Base layer');
    await taskRow(page, 'On the base').waitFor();
    const before = history(here, 1)[0];
    g.expectConfirm('"Base layer"');
    await baseRow.locator('button[data-action="delete"]').click();
    const note = baseRow.locator('.task-note .form-message.error');
    await note.waitFor();
    expect(await note.textContent()).toMatch(/^Not deleted: .*depend/);
    expect(history(here, 1)[0]).toBe(before);
    expect(await baseRow.count()).toBe(1);
  });
});

describeBrowser('dashboard modes', () => {
  let repo: string;
  /** Reads and writes need the token. */
  let withToken: Served;
  /** Reads are open, writes need the token. */
  let publicRead: Served;
  let readOnly: Served;
  let context: BrowserContext;

  beforeAll(async () => {
    repo = makeRepo();
    const [t, p, r, b, seeded] = await Promise.allSettled([
      serveDashboard(repo, ['--token', 'correct-horse-battery']),
      serveDashboard(repo, ['--token', 'correct-horse-battery', '--public-read']),
      serveDashboard(repo, ['--read-only']),
      browser ?? launchBrowser(),
      runAsync(repo, 'ws', 'create', 'ops', 'Operations', '1').then(() => runAsync(repo, 't', 'add', 'ops', 'Rotate the keys')),
    ]);
    if (t.status === 'fulfilled') withToken = t.value;
    if (p.status === 'fulfilled') publicRead = p.value;
    if (r.status === 'fulfilled') readOnly = r.value;
    if (b.status === 'fulfilled') browser = b.value;
    for (const x of [t, p, r, b, seeded]) if (x.status === 'rejected') throw x.reason;
    context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(LIVE);
  });

  afterAll(async () => {
    await context?.close();
    await Promise.all([stop(withToken), stop(publicRead), stop(readOnly)]);
  });

  it('shows nothing of the board until the token is given, then reads and follows the stream with it, never in a URL', async () => {
    const page = await context.newPage();
    const g = guard(page);
    const requests: Array<{ url: string; authorization: string | undefined }> = [];
    page.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }));
    await page.goto(withToken.url);
    await page.locator('#token-form').waitFor();
    await page.locator('#conn[data-state="locked"]').waitFor();
    expect(await page.locator('#token-form label').textContent()).toBe('This server needs a token');
    expect(await page.locator('#token-message').textContent()).toMatch(/to see the board/);
    // Only health was asked for: nothing else was read.
    expect(requests.filter((r) => r.url.includes('/api/')).map((r) => new URL(r.url).pathname)).toEqual(['/api/health']);
    expect(await page.locator('#workstreams').getByText('ops', { exact: true }).count()).toBe(0);
    expect(await page.locator('#foot-remote').textContent()).toBe('');

    await page.fill('#token-input', 'correct-horse-battery');
    await page.press('#token-input', 'Enter');
    await taskRow(page, 'Rotate the keys').waitFor();
    await page.locator('#conn[data-state="live"]').waitFor();
    expect(await page.locator('#token-form').isHidden()).toBe(true);
    // The stream follows new commits with the token.
    run(repo, 't', 'add', 'ops', 'Seen through the stream');
    await taskRow(page, 'Seen through the stream').waitFor({ timeout: LIVE });
    const api = requests.filter((r) => r.url.includes('/api/') && !r.url.endsWith('/api/health'));
    expect(api.some((r) => r.url.endsWith('/api/stream'))).toBe(true);
    for (const r of api) expect(r.authorization, r.url).toBe('Bearer correct-horse-battery');
    for (const r of requests) expect(r.url).not.toContain('correct-horse-battery');
    expect(g.problems).toEqual([]);

    // Forgetting it hides the board again.
    await page.click('#token-forget');
    await page.locator('#token-form').waitFor();
    await page.locator('#conn[data-state="locked"]').waitFor();
    expect(await page.locator('#workstreams').getByText('ops', { exact: true }).count()).toBe(0);
    await page.close();
  });

  it('asks again for a token the server refuses for reads', async () => {
    const page = await context.newPage();
    const g = guard(page);
    await page.goto(withToken.url + '#token=not-the-token');
    await page.locator('#token-form').waitFor();
    expect(await page.locator('#token-message').textContent()).toBe('The token was refused; paste a valid one.');
    expect(await page.evaluate(() => sessionStorage.getItem('orchestrator.token'))).toBeNull();
    await page.fill('#token-input', 'correct-horse-battery');
    await page.press('#token-input', 'Enter');
    await taskRow(page, 'Rotate the keys').waitFor();
    await page.locator('#conn[data-state="live"]').waitFor();
    expect(g.problems).toEqual([]);
    await page.close();
  });

  it('takes the token from the URL fragment, hides it, and writes with it', async () => {
    const server = withToken;
    // Off a terminal, serve prints the URL without the token (output ends up in logs); the user adds it.
    expect(server.url).not.toContain('correct-horse-battery');
    const { page, guard: g } = await openDashboard(context, server.url + '#token=correct-horse-battery');
    expect(await page.evaluate(() => location.hash)).toBe('');
    expect(await page.evaluate(() => sessionStorage.getItem('orchestrator.token'))).toBe('correct-horse-battery');
    expect(await page.locator('#token-form').isHidden()).toBe(true);
    await page.locator('#ws-new').waitFor();
    await page.fill('#act-as', 'ops-bot');
    await page.fill('#kb-topic', 'runbook');
    await page.fill('#kb-content', 'Restart with care.');
    await page.click('#kb-save');
    await page.locator('#kb-message.ok').waitFor();
    expect(run(repo, 'kb', 'read', 'runbook').stdout.trim()).toBe('Restart with care.');
    await taskRow(page, 'Rotate the keys').locator('button[data-action="claim"]').click();
    await taskRow(page, 'Rotate the keys').locator('.badge', { hasText: 'in progress' }).waitFor();
    expect(git(repo, 'log', '-1', '--format=%an | %s', 'refs/heads/orchestrator')).toMatch(/^ops-bot \| task claim ops\/[0-9a-f]{8} by ops-bot$/);
    expect(g.problems).toEqual([]);
    await page.close();
  });

  it('with public reading, shows write controls only once the token is given, and keeps them for the tab', async () => {
    const page = await context.newPage();
    const g = guard(page);
    await page.goto(publicRead.url);
    // Reading works without it; nothing that writes is offered.
    await page.locator('#token-form').waitFor();
    await taskRow(page, 'Rotate the keys').waitFor();
    for (const control of ['#ws-new', '#task-new', '#act-as', '#kb-form', '#workstreams .task-actions']) {
      expect(await page.locator(control).first().isHidden(), control).toBe(true);
    }
    expect(await page.locator('#token-message').textContent()).toMatch(/Reading works without it/);
    await page.fill('#token-input', 'correct-horse-battery');
    await page.press('#token-input', 'Enter');
    await page.locator('#ws-new').waitFor();
    expect(await page.locator('#token-form').isHidden()).toBe(true);
    // The act-as box takes the focus: the next thing a writer needs.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('act-as');
    await page.keyboard.type('ops-bot');
    // A reload keeps the token and the agent (both per tab).
    await page.reload();
    await page.locator('#conn[data-state="live"]').waitFor();
    await page.locator('#ws-new').waitFor();
    expect(await page.inputValue('#act-as')).toBe('ops-bot');
    await page.click('#ws-new');
    await page.fill('#ws-name', 'security');
    await page.click('#ws-create');
    await page.locator('#ws-message.ok').waitFor();
    expect(git(repo, 'log', '-1', '--format=%an | %s', 'refs/heads/orchestrator')).toBe('ops-bot | workstream create security by ops-bot');
    // Another tab asks again.
    const other = await context.newPage();
    await other.goto(publicRead.url);
    await other.locator('#token-form').waitFor();
    expect(await other.locator('#ws-new').isHidden()).toBe(true);
    expect([...g.problems]).toEqual([]);
    await other.close();
    await page.close();
  });

  it('with public reading, forgets a token refused for a write, hides the controls and asks again, keeping what was typed', async () => {
    const { page, guard: g } = await openDashboard(context, publicRead.url + '#token=not-the-token');
    await page.locator('#ws-new').waitFor();
    await page.fill('#act-as', 'ops-bot');
    await page.fill('#kb-topic', 'runbook');
    await page.fill('#kb-content', 'Written with a bad token');
    await page.click('#kb-save');
    await page.locator('#token-form').waitFor();
    expect(await page.locator('#token-message').textContent()).toBe('The token was refused; paste a valid one.');
    expect(await page.locator('#kb-form').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('orchestrator.token'))).toBeNull();
    await page.fill('#token-input', 'correct-horse-battery');
    await page.press('#token-input', 'Enter');
    await page.locator('#kb-form').waitFor();
    expect(await page.inputValue('#kb-content')).toBe('Written with a bad token');
    expect(await page.locator('#kb-message').textContent()).toMatch(/needs its token/);
    await page.click('#kb-save');
    await page.locator('#kb-message.ok').waitFor();
    expect(run(repo, 'kb', 'read', 'runbook').stdout.trim()).toBe('Written with a bad token');
    expect(g.problems).toEqual([]);
    await page.close();
  });

  it('hides write controls on a read-only server', async () => {
    const { page, guard: g } = await openDashboard(context, readOnly.url);
    await taskRow(page, 'Rotate the keys').waitFor();
    expect(await page.locator('#mode').textContent()).toBe('read-only');
    for (const control of ['#ws-new', '#task-new', '#act-as', '#kb-form', '#token-form', '#workstreams .task-actions', '#workstreams .ws-add']) {
      expect(await page.locator(control).first().isHidden(), control).toBe(true);
    }
    await page.locator('#topics').getByText('runbook', { exact: true }).click();
    await page.locator('#topic-content').getByText('Written with a bad token').waitFor();
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
