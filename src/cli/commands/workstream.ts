/** `workstream` / `ws`: create and list workstreams. */
import type { WorkstreamResult } from '../../domain/ops/create-workstream.js';
import * as fmt from '../format.js';
import { room } from '../room.js';

export default room({
  group: { name: 'workstream', aliases: ['ws'], description: 'create and list workstreams' },
  commands: {
    'workstream.create': { text: (w: WorkstreamResult) => `Created workstream: ${w.name}` },
    'workstream.list': { text: fmt.workstreamList },
  },
});
