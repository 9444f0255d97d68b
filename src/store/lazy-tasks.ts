/**
 * A large board read from the state cache without parsing its tasks: the
 * text around the task lists is parsed (it is small), and each task is a
 * stand-in that knows its id and parses its run of tasks (about two dozen)
 * the first time anything else about it is asked. A command that adds a
 * task to a board of 50,000 reads ids and parses one run, where parsing the
 * whole board would take longer than everything else it does.
 *
 * A stand-in is a Proxy whose every trap answers for the task its run's
 * parse made: reading, listing, spreading, serializing or changing it
 * behaves as for the task itself. Operations never change a task in place
 * (they copy what they change), so a stand-in stays what it was read as.
 */
import { rememberIds } from '../domain/draft.js';
import type { State, Task } from '../domain/types.js';
import { adoptRuns, type RunPiece } from './state-text.js';

/**
 * Boards this large are read this way. Below, parsing costs a command little
 * and stand-ins would cost a long-lived process more on every later read.
 */
export const LAZY_BOARD_TASKS = 20_000;

interface LazyRun {
  piece: RunPiece;
  /** Its tasks, once parsed. */
  tasks: object[] | null;
}

/** What a stand-in's Proxy wraps: where its task is. */
interface Stand {
  run: LazyRun;
  index: number;
}

function task(s: Stand): object {
  let tasks = s.run.tasks;
  if (!tasks) {
    // A run's text is its tasks, each after "\n" (the first of a list) or ",\n".
    const text = s.run.piece.bytes.toString('utf8');
    tasks = s.run.tasks = JSON.parse('[' + (s.run.piece.first ? text : text.slice(1)) + ']') as object[];
  }
  return tasks[s.index];
}

// Every trap answers for the task; only its id is known without parsing.
const HANDLER: ProxyHandler<Stand> = {
  get: (s, key) => (!s.run.tasks && key === 'id' ? s.run.piece.ids[s.index] : Reflect.get(task(s), key)),
  has: (s, key) => Reflect.has(task(s), key),
  ownKeys: (s) => Reflect.ownKeys(task(s)),
  getOwnPropertyDescriptor: (s, key) => Reflect.getOwnPropertyDescriptor(task(s), key),
  set: (s, key, value) => Reflect.set(task(s), key, value),
  defineProperty: (s, key, d) => Reflect.defineProperty(task(s), key, d),
  deleteProperty: (s, key) => Reflect.deleteProperty(task(s), key),
};

const LIST = '\n      "tasks": [';

/**
 * The state of the cached parts, its tasks as stand-ins (see above), with
 * their runs adopted for writing; null when the parts do not read as
 * expected (the caller then parses the whole text).
 */
export function lazyState(parts: Array<Buffer | RunPiece>, parse: (text: string) => State): State | null {
  const text: string[] = [];
  const lists: LazyRun[][] = [];
  for (const p of parts) {
    if (Buffer.isBuffer(p)) {
      text.push(p.toString('utf8'));
      continue;
    }
    const run: LazyRun = { piece: p, tasks: null };
    if (p.first) lists.push([]);
    if (!lists.length) return null;
    lists[lists.length - 1].push(run);
  }
  // Without its runs a list reads "[\n      ]", an empty one "[]": both parse as empty lists.
  const skeleton = text.join('');
  const state = parse(skeleton);
  const names = Object.keys(state.workstreams);
  const filled: string[] = [];
  let at = 0;
  for (const name of names) {
    at = skeleton.indexOf(LIST, at);
    if (at < 0) return null;
    at += LIST.length;
    if (skeleton[at] === '\n') filled.push(name);
  }
  if (filled.length !== lists.length) return null;
  filled.forEach((name, i) => {
    let total = 0;
    for (const run of lists[i]) total += run.piece.count;
    const tasks = new Array<Task>(total);
    let k = 0;
    for (const run of lists[i]) {
      for (let index = 0; index < run.piece.count; index++) tasks[k++] = new Proxy({ run, index } satisfies Stand, HANDLER) as unknown as Task;
    }
    rememberIds(tasks, lists[i].map((r) => r.piece.idsText).join(' '));
    state.workstreams[name] = { ...state.workstreams[name], tasks };
  });
  adoptRuns(
    state,
    lists.flatMap((l) => l.map((r) => r.piece)),
  );
  return state;
}
