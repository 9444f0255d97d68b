/** The branch itself: create it, its settings, import, sync. */
import type { Settings } from '../../domain/types.js';
import { declare, f } from '../declare.js';
import * as branch from '../use-cases/branch.js';

export const init = declare({
  name: 'init',
  kind: 'write',
  summary: "create the coordination branch (adopts the remote's branch when it has one)",
  input: {},
  result: '{created, commit}',
  refusals: [],
  run: branch.init,
  library: { init: { args: [] } },
});

export const setSettings = declare({
  name: 'settings.set',
  kind: 'write',
  summary: 'change branch settings (events per sealed segment of the log)',
  input: { settings: f.json<Settings>('the settings'), agent: f.agent('who changes them').optional() },
  result: 'Settings',
  refusals: [],
  plan: branch.settings,
  library: { setSettings: { args: ['settings', 'agent'] } },
});

export const importSeed = declare({
  name: 'import',
  kind: 'write',
  summary: "import an original orchestrator's data directory (state.json, events.jsonl, knowledge/) as the branch",
  input: {
    dir: f.string('the data directory'),
    force: f.bool('replace a branch that already has data'),
    onProgress: f.callback<(message: string) => void>('hears progress on large inputs'),
    agent: f.agent('who imports').optional(),
  },
  result: 'ImportResult & {commit}',
  refusals: ['CONFLICT', 'NOT_FOUND'],
  run: branch.importDir,
  library: { importSeed: { args: ['dir', ['force', 'onProgress', 'agent']] } },
  cli: { name: 'import', args: ['dir'] },
});

export const sync = declare({
  name: 'sync',
  kind: 'write',
  summary: "push operations committed offline: each is applied again on the remote's tip; those no longer valid are dropped and listed",
  input: {},
  result: 'SyncResult',
  refusals: ['CONFLICT'],
  run: branch.sync,
  library: { sync: { args: [] } },
  cli: { name: 'sync' },
});
