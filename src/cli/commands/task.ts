/** `task` / `t`: add, claim, complete and list tasks. */
import type { Task } from '../../domain/types.js';
import * as fmt from '../format.js';
import { staleMs } from '../context.js';
import { room } from '../room.js';

export default room({
  group: { name: 'task', aliases: ['t'], description: 'add, claim, complete and list tasks' },
  commands: {
    'task.add': { text: (t: Task) => `Added task ${t.id}: ${t.title}` },
    'task.list': { text: (tasks: Task[]) => fmt.taskList(tasks) },
    'task.claim': { text: (t: Task) => `Claimed: ${t.title} -> ${t.assigned_to}` },
    // `t complete revenue "Done: ..."`: one argument that is no task id is the result (the original quick start).
    'task.complete': { input: (raw) => ({ ...raw, loose: true }), text: (t: Task) => `Completed: ${t.title}` },
    'task.next': { text: (t: Task | null) => (t ? `Claimed next task: ${t.id} - ${t.title}` : 'No pending tasks in this workstream.') },
    'task.ready': { text: (tasks: Task[]) => fmt.taskList(tasks, 'No ready tasks.') },
    'task.show': { text: fmt.taskDetail },
    'task.release': { text: (t: Task) => `Released: ${t.title} (pending again)` },
    'task.fail': { text: (t: Task) => `Failed: ${t.title}` },
    'task.requeue': {
      skip: ['stale_ms'],
      extend: (cmd) => cmd.option('--stale-after <seconds>', 'stale window for this call (default: the global one, 300 s)'),
      input: (raw, opts, ctx) => ({ ...raw, stale_ms: staleMs((opts.staleAfter as string | undefined) ?? ctx.globals().staleAfter) }),
      text: (tasks: Task[]) => (tasks.length ? tasks.map((t) => `Requeued: ${t.id} ${t.title}`).join('\n') : 'Nothing to requeue.'),
    },
  },
});
