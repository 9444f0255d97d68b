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
 *
 * In a one-shot process (a CLI call) the list itself is lazy too: a Proxy
 * over an array whose places fill with stand-ins a run at a time, when a
 * place is first read. A command that only appends (`t add`) makes the
 * stand-ins of one run where it would make 50,000 (measured: making them,
 * and the garbage collector moving them, cost about a fifth of such a
 * call). Such a list answers every array operation as the array of its
 * tasks would; the first change of a place it was read with fills every
 * place first, and from then on it is a plain array behind the Proxy. While
 * it holds its runs as read, writing it keeps them without looking at a
 * task (see IntactList).
 */
import { rememberIds } from '../domain/draft.js';
import type { State, Task } from '../domain/types.js';
import { adoptRun, adoptRuns, registerIntactList, type IntactList, type RunPiece } from './state-text.js';
import { readsLazily } from './state-cache.js';

/**
 * Boards this large are read this way. Below, parsing costs a command little
 * and stand-ins would cost a long-lived process more on every later read.
 */
export const LAZY_BOARD_TASKS = 20_000;

interface LazyRun {
  piece: RunPiece;
  /** Its tasks, once parsed. */
  tasks: object[] | null;
  /** Its stand-ins, once made (shared by every copy of a lazy list). */
  stands?: Task[];
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
  const lazily = readsLazily();
  filled.forEach((name, i) => {
    let total = 0;
    for (const run of lists[i]) total += run.piece.count;
    let tasks: Task[];
    if (lazily) tasks = lazyList(lists[i], total);
    else {
      tasks = new Array<Task>(total);
      let k = 0;
      for (const run of lists[i]) for (const t of standIns(run)) tasks[k++] = t;
    }
    rememberIds(tasks, lists[i].map((r) => r.piece.idsText).join(' '));
    state.workstreams[name] = { ...state.workstreams[name], tasks };
  });
  if (!lazily) {
    adoptRuns(
      state,
      lists.flatMap((l) => l.map((r) => r.piece)),
    );
  }
  return state;
}

function standIns(run: LazyRun): Task[] {
  if (!run.stands) {
    const stands = new Array<Task>(run.piece.count);
    for (let index = 0; index < stands.length; index++) stands[index] = new Proxy({ run, index } satisfies Stand, HANDLER) as unknown as Task;
    run.stands = stands;
  }
  return run.stands;
}

/** A lazy list's runs and where each starts; shared by its copies. */
interface Layout {
  runs: LazyRun[];
  starts: number[];
  /** How many tasks the runs hold. */
  length: number;
}

/** One lazy list: its layout, and whether every place was filled (it is then a plain array behind the Proxy). */
interface ListState {
  layout: Layout;
  full: boolean;
}

const states = new WeakMap<object, ListState>();
/** Each lazy list's array of places. */
const targets = new WeakMap<object, Task[]>();

function lazyList(runs: LazyRun[], length: number): Task[] {
  const starts: number[] = [];
  let at = 0;
  for (const r of runs) {
    starts.push(at);
    at += r.piece.count;
  }
  return makeList({ runs, starts, length }, new Array<Task>(length));
}

function makeList(layout: Layout, places: Task[]): Task[] {
  const st: ListState = { layout, full: false };
  const list = new Proxy(places, LIST_HANDLER);
  states.set(places, st);
  states.set(list, st);
  targets.set(list, places);
  registerIntactList(list, () => (st.full ? null : { pieces: layout.runs.map((r) => r.piece), starts: layout.starts, length: layout.length } satisfies IntactList));
  return list;
}

/** The run of place `i` (< layout.length). */
function runAt(layout: Layout, i: number): number {
  let lo = 0;
  let hi = layout.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (layout.starts[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Fills the places of run `r` still empty with its stand-ins (and registers the run for writing). */
function fillRun(places: Task[], layout: Layout, r: number): void {
  const run = layout.runs[r];
  const first = !run.stands;
  const stands = standIns(run);
  if (first) adoptRun(run.piece, stands);
  const start = layout.starts[r];
  const end = Math.min(start + stands.length, places.length);
  for (let i = start; i < end; i++) if (!(i in places)) places[i] = stands[i - start];
}

/** Fills every place: from now on the list is a plain array. */
function fillAll(places: Task[], st: ListState): void {
  if (st.full) return;
  const end = Math.min(st.layout.length, places.length);
  for (let r = 0; r < st.layout.runs.length && st.layout.starts[r] < end; r++) fillRun(places, st.layout, r);
  st.full = true;
}

/** The array index a property key names, or -1. */
function placeOf(key: string | symbol): number {
  if (typeof key !== 'string' || key.length === 0 || key.length > 9) return -1;
  if (key.charCodeAt(0) === 48 && key.length > 1) return -1;
  let i = 0;
  for (let k = 0; k < key.length; k++) {
    const c = key.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    i = i * 10 + c;
  }
  return i;
}

/** A place read as it was read from the cache (and not yet filled). */
function unfilled(places: Task[], st: ListState, i: number): boolean {
  return i >= 0 && i < st.layout.length && i < places.length && !(i in places);
}

/** `slice()` of a lazy list: a lazy copy (editWorkstream copies the list it changes); any other slice as arrays do. */
function lazySlice(this: Task[], start?: number, end?: number): Task[] {
  const st = states.get(this);
  const places = targets.get(this);
  if (st && places && !st.full && start === undefined && end === undefined) return makeList(st.layout, places.slice());
  return Array.prototype.slice.call(this, start, end) as Task[];
}

const LIST_HANDLER: ProxyHandler<Task[]> = {
  get(places, key, receiver) {
    const st = states.get(places)!;
    if (!st.full) {
      const i = placeOf(key);
      if (i >= 0) {
        if (unfilled(places, st, i)) fillRun(places, st.layout, runAt(st.layout, i));
        return places[i];
      }
      if (key === 'slice') return lazySlice;
    }
    return Reflect.get(places, key, receiver);
  },
  has(places, key) {
    const st = states.get(places)!;
    return (!st.full && unfilled(places, st, placeOf(key))) || Reflect.has(places, key);
  },
  getOwnPropertyDescriptor(places, key) {
    const st = states.get(places)!;
    const i = placeOf(key);
    if (!st.full && unfilled(places, st, i)) fillRun(places, st.layout, runAt(st.layout, i));
    return Reflect.getOwnPropertyDescriptor(places, key);
  },
  ownKeys(places) {
    fillAll(places, states.get(places)!);
    return Reflect.ownKeys(places);
  },
  set(places, key, value) {
    const st = states.get(places)!;
    // Appending keeps the runs as read; changing a place they hold, or shortening the list, fills it first.
    const i = placeOf(key);
    if (!st.full && (i >= 0 ? i < st.layout.length : key === 'length' && !(Number(value) >= places.length))) fillAll(places, st);
    return Reflect.set(places, key, value);
  },
  deleteProperty(places, key) {
    fillAll(places, states.get(places)!);
    return Reflect.deleteProperty(places, key);
  },
  defineProperty(places, key, descriptor) {
    fillAll(places, states.get(places)!);
    return Reflect.defineProperty(places, key, descriptor);
  },
};
