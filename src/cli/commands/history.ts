/** History and integrity: `log`, `verify`, `archive`, `sync`. */
import { OrchestratorError } from '../../errors.js';
import type { LogEntry } from '../../domain/types.js';
import type { SyncResult } from '../../sync.js';
import type { VerifyResult } from '../../api/use-cases/history.js';
import { ExitQuietly } from '../context.js';
import * as fmt from '../format.js';
import { room } from '../room.js';

/** How many commits before the bad one verified, in words: "no commit", "1 commit", "12 commits". */
function verifiedBefore(n: number): string {
  return n <= 0 ? 'no commit before it verified' : n === 1 ? '1 commit before it verified' : `${n} commits before it verified`;
}

export default room({
  commands: {
    log: { text: (e: LogEntry[]) => fmt.logList(e) },
    verify: {
      input: (raw, _opts, ctx) => ({ ...raw, onProgress: ctx.json ? undefined : (n: number, total: number) => ctx.io.stderr(`verified ${n} of ${total} commits\n`) }),
      print: (r: VerifyResult & { to: string | null }, ctx) => {
        if (r.problem) {
          throw new OrchestratorError('CONFLICT', `commit ${r.problem.commit.slice(0, 8)} ${r.problem.reason} (${verifiedBefore(r.checked - 1)})`, {
            commit: r.problem.commit,
            checked: r.checked,
          });
        }
        ctx.print({ json: r, text: `${r.checked} commits verified${r.to ? ` up to ${r.to.slice(0, 8)}` : ''}: every one is exactly what its recorded operation produces.` });
      },
    },
    'task.archive': {
      text: (r: { archived: number; files: string[] }) =>
        r.archived ? `Archived ${r.archived} done tasks into ${r.files.map((f) => 'archive/' + f).join(', ')}` : 'Nothing to archive.',
    },
    // Dropped operations are listed and end with exit 4.
    sync: {
      print: (r: SyncResult, ctx) => {
        const lines = [`Synced with ${r.remote}: ${r.applied.length} applied, ${r.dropped.length} dropped.`];
        for (const d of r.dropped) lines.push(`dropped ${d.commit.slice(0, 8)} ${d.op} (${d.target}): ${d.reason}`);
        ctx.print({ json: r, text: lines.join('\n') });
        if (r.dropped.length) throw new ExitQuietly(4);
      },
    },
  },
});
