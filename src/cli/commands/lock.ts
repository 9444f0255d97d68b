/** `lock` / `l`: resource locks with a time to live. */
import type { ReleaseResult } from '../../domain/ops/release-lock.js';
import type { Lock } from '../../domain/types.js';
import type { Acquired } from '../../api/use-cases/locks.js';
import * as fmt from '../format.js';
import { room } from '../room.js';

export default room({
  group: { name: 'lock', aliases: ['l'], description: 'acquire and release resource locks (with a TTL)' },
  commands: {
    'lock.acquire': {
      json: (l: Acquired) => ({ acquired: true, ...l }),
      text: (l: Acquired) => `Lock ${l.renewed ? 'renewed' : 'acquired'}: ${l.resource} (until ${l.expires_at})${l.waited_ms >= 1000 ? ` after waiting ${Math.round(l.waited_ms / 1000)}s` : ''}`,
    },
    'lock.renew': { text: (l: Lock) => `Lock renewed: ${l.resource} (until ${l.expires_at})` },
    'lock.release': {
      text: (r: ReleaseResult) =>
        r.released ? `Lock released: ${r.resource}${r.forced ? ` (forced; was held by ${r.holder})` : ''}` : `Lock ${r.resource} had expired (held by ${r.holder}); removed`,
    },
    'lock.list': { text: (l: Lock[]) => fmt.lockList(l, Date.now()) },
  },
});
