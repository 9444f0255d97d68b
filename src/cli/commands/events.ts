/** `events` / `e`: show or add events. */
import type { OrcEvent } from '../../domain/types.js';
import * as fmt from '../format.js';
import { room } from '../room.js';

export default room({
  group: { name: 'events', aliases: ['e'], description: 'show or add events' },
  commands: {
    'event.log': { text: (e: OrcEvent) => `Logged: ${fmt.eventLine(e)}` },
    'event.list': { text: fmt.eventList },
  },
});
