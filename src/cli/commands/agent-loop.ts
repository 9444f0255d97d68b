/** An agent session's entry points: `prime` (what to know) and `mcp` (the tools over stdio). */
import { room } from '../room.js';

export default room({});
