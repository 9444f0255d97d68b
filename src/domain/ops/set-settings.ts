import { z } from '../zod.js';
import { shallowState } from '../draft.js';
import type { OpBase, OpSpec } from '../op.js';
import type { Settings } from '../types.js';

export interface SetSettingsOp extends OpBase {
  op: 'settings.set';
  settings: Settings;
}

/** Changes branch settings (events per sealed segment of the log). */
export const setSettings: OpSpec<SetSettingsOp, Settings> = {
  type: 'settings.set',
  labels: { settings: 'setting' },
  params: () =>
    z.object({
      settings: z.strictObject({
        events_per_segment: z.optional(z.int('must be an integer').check(z.gte(2, 'must be at least 2'), z.lte(10_000_000, 'must be at most 10,000,000'))),
      }),
    }),
  apply(world, op) {
    const state = shallowState(world.state);
    state.settings = { ...world.state.settings, ...op.settings };
    return { state, events: [{ ts: op.at, agent: op.by, action: 'settings_changed', ...op.settings }], result: state.settings };
  },
  subject: (op) => `settings ${Object.entries(op.settings).map(([k, v]) => `${k}=${v}`).join(' ')} by ${op.by}`,
};
