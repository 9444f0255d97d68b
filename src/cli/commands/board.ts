/** `status`: the board at a glance. */
import { statusText, type StatusView } from '../../domain/queries.js';
import { room } from '../room.js';

export default room({
  commands: {
    status: { text: (s: StatusView) => statusText(s) },
  },
});
