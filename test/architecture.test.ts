/**
 * The house as drawn: the adapters (CLI, server, MCP) stand on the library
 * only; the library keeps the engine and the store to a few named modules;
 * the package exports neither; no file of the upper half is too long to read;
 * every declared operation is whole.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DECLARATIONS } from '../src/api/ops/index.js';
import { ERROR_CODES } from '../src/errors.js';

const SRC = path.resolve(__dirname, '..', 'src');

function files(dir: string): string[] {
  return fs.readdirSync(path.join(SRC, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    return e.isDirectory() ? files(rel) : e.name.endsWith('.ts') ? [rel] : [];
  });
}

/** Every module a file imports (static, dynamic and require), resolved to a path under src/. */
function imports(file: string): string[] {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\(\s*|require\(\s*)['"](\.[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => path.normalize(path.join(path.dirname(file), s)).replace(/\.js$/, ''));
}

const below = (mod: string, ...roots: string[]) => roots.some((r) => mod === r || mod.startsWith(r + path.sep));

describe('layers', () => {
  it.each(['cli', 'server', 'mcp'])('the %s adapter imports neither the store nor the engine', (adapter) => {
    for (const f of files(adapter)) {
      const bad = imports(f).filter((m) => below(m, 'store', 'engine'));
      expect(bad, f).toEqual([]);
    }
  });

  it('in the library, only the session, the view, the planners and the integrity and sync use cases reach the engine or the store', () => {
    const allowed = ['api/session.ts', 'api/view.ts', 'api/planners.ts', 'api/declare.ts', 'api/internals.ts', 'api/use-cases/history.ts', 'api/use-cases/branch.ts'];
    for (const f of files('api')) {
      if (allowed.includes(f)) continue;
      expect(imports(f).filter((m) => below(m, 'store', 'engine')), f).toEqual([]);
    }
  });

  it('the domain imports nothing above it', () => {
    for (const f of files('domain')) expect(imports(f).filter((m) => !below(m, 'domain') && m !== 'errors'), f).toEqual([]);
  });

  it('the package exports no engine, store or session', async () => {
    const pkg = await import('../src/index.js');
    expect(Object.keys(pkg).sort()).toEqual(['DEFAULT_BRANCH', 'DEFAULT_TTL_MS', 'ERROR_CODES', 'LIMITS', 'LOCK_SKEW_MS', 'Orchestrator', 'OrchestratorError', 'ensureRepository', 'openOrchestrator']);
    const orc = pkg.openOrchestrator({ repo: '.' });
    for (const hidden of ['engine', 'store', 'session', 'snapshot', 'tip']) expect((orc as unknown as Record<string, unknown>)[hidden]).toBeUndefined();
  });

  it.each(['api', 'cli', 'server', 'mcp'])('no file of %s is over 400 lines', (dir) => {
    for (const f of files(dir)) expect(fs.readFileSync(path.join(SRC, f), 'utf8').split('\n').length, f).toBeLessThanOrEqual(400);
  });
});

describe('declarations', () => {
  it('are whole: a unique name, a summary, a way to run, known refusals, bindings that name declared fields', () => {
    const names = new Set<string>();
    const libraryNames = new Set<string>();
    for (const d of DECLARATIONS) {
      expect(names.has(d.name), d.name).toBe(false);
      names.add(d.name);
      expect(d.summary.length, d.name).toBeGreaterThan(5);
      expect(!!d.run !== !!d.plan, `${d.name}: exactly one of run and plan`).toBe(true);
      for (const code of d.refusals) expect(Object.keys(ERROR_CODES), d.name).toContain(code);
      const fields = Object.keys(d.input);
      for (const [fn, binding] of Object.entries(d.library ?? {})) {
        expect(libraryNames.has(fn), fn).toBe(false);
        libraryNames.add(fn);
        for (const a of (binding as { args: unknown[] }).args) {
          const named = typeof a === 'string' ? [a] : Array.isArray(a) ? a : Object.values(a as object);
          for (const n of named) expect(fields, `${fn}: ${n}`).toContain(n);
        }
      }
      for (const a of d.cli?.args ?? []) expect(fields, `${d.name}: ${a}`).toContain(a.replace(/\.\.\.$/, ''));
      for (const b of d.rest ? (Array.isArray(d.rest) ? d.rest : [d.rest]) : []) {
        for (const p of b.path.match(/:(\w+)/g) ?? []) expect(fields, `${d.name}: ${b.path}`).toContain(p.slice(1));
      }
    }
  });

  it("keep the original library's functions", async () => {
    const { openOrchestrator } = await import('../src/api.js');
    const orc = openOrchestrator({ repo: '.' }) as unknown as Record<string, unknown>;
    for (const fn of [
      'createWorkstream', 'listWorkstreams', 'addTask', 'claimTask', 'completeTask', 'getNextTask', 'registerAgent', 'heartbeat',
      'acquireLock', 'releaseLock', 'lock', 'lockWait', 'unlock', 'renewLock', 'writeKnowledge', 'readKnowledge', 'deleteKnowledge',
      'listKnowledge', 'logEvent', 'getEvents', 'loadState', 'status', 'statusText', 'releaseTask', 'failTask', 'requeue', 'readyTasks',
      'showTask', 'plan', 'brief', 'collect', 'log', 'verify', 'archive', 'sync', 'importSeed', 'listTasks', 'getTask', 'listAgents',
      'listLocks', 'archivedTasks', 'setSettings', 'init', 'apply',
    ]) {
      expect(typeof orc[fn], fn).toBe('function');
    }
  });
});
