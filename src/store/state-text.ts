/**
 * state.json as pieces: the same bytes as `JSON.stringify(state, null, 2)`,
 * cut so that a mutation re-serializes and recompresses only what it
 * changed. Operations copy only the objects they change (see domain/draft),
 * so an unchanged task is the same object as before: the text of a run of
 * tasks is kept with the first task of the run and reused while the run
 * holds the same objects. Runs end after tasks whose id hashes to a mark
 * (about one in 24), so adding or removing a task changes one run only.
 */
import type { State, Task } from '../domain/types.js';
import { isPiece, type Piece } from './pieces.js';

/** The piece of a run of tasks: how many tasks, whether it starts its list, and their ids. */
export interface RunPiece extends Piece {
  readonly count: number;
  readonly first: boolean;
  readonly ids: readonly string[];
  /** The ids joined by spaces (task ids never contain one: see the rules). */
  readonly idsText: string;
}

/** The last id of a run, without splitting its ids. */
function lastId(p: RunPiece): string {
  return p.idsText.slice(p.idsText.lastIndexOf(' ') + 1);
}

export function isRunPiece(p: unknown): p is RunPiece {
  return typeof p === 'object' && p !== null && typeof (p as RunPiece).count === 'number' && isPiece(p);
}

/** Boards this large are always written by runs (and kept in the state cache): see stateParts. */
export const LARGE_BOARD_TASKS = 5000;

// Tasks sit at depth 4: state > workstreams > workstream > tasks > task.
const TASK_INDENT = '        ';
const LIST_END = '\n      ]';
const MAX_RUN = 96;

interface Run {
  /** The tasks of the run, by identity. */
  tasks: Task[];
  /** Whether the run starts its list (no comma before it). */
  first: boolean;
  piece: RunPiece;
}

const runs = new WeakMap<Task, Run>();

function endsRun(id: unknown): boolean {
  if (typeof id !== 'string') return false;
  // FNV-1a: task ids need not be random (imported ones may count up).
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % 24 === 0;
}

function runText(tasks: Task[], start: number, end: number): string {
  let s = '';
  for (let j = start; j < end; j++) {
    s += (j === 0 ? '\n' : ',\n') + TASK_INDENT + JSON.stringify(tasks[j], null, 2).replace(/\n/g, '\n' + TASK_INDENT);
  }
  return s;
}

/** The pieces of one task list (without its brackets). */
/** Does the kept run fit at `start` as it would be cut now? Compared by identity and its own ids: nothing of the tasks is read. */
function fits(run: Run, tasks: Task[], start: number): boolean {
  const n = run.tasks.length;
  if (run.first !== (start === 0) || start + n > tasks.length) return false;
  for (let j = 0; j < n; j++) if (run.tasks[j] !== tasks[start + j]) return false;
  // It ends where a run ends: at a mark, at the longest run, or at the end of the list (still the end).
  return start + n === tasks.length || n === MAX_RUN || endsRun(lastId(run.piece));
}

/**
 * A task list read lazily (see lazy-tasks.ts) that still holds its runs as
 * read, at their places, with only tasks appended: its runs, where each
 * starts, and how many tasks it held.
 */
export interface IntactList {
  pieces: readonly RunPiece[];
  starts: readonly number[];
  length: number;
}

const intactLists = new WeakMap<readonly Task[], () => IntactList | null>();

/** Registers how to ask a lazily read list whether it is still intact. */
export function registerIntactList(tasks: readonly Task[], intact: () => IntactList | null): void {
  intactLists.set(tasks, intact);
}

/** Registers one run read back from the state cache: `tasks` are its tasks, by identity. */
export function adoptRun(piece: RunPiece, tasks: Task[]): void {
  if (tasks.length === piece.count && tasks.length > 0) runs.set(tasks[0], { tasks, first: piece.first, piece });
}

function taskPieces(tasks: Task[], out: Piece[]): void {
  let start = 0;
  const intact = intactLists.get(tasks)?.();
  if (intact) {
    // Its runs are where they were read, unchanged: kept without looking at a task. Only a last
    // run that ended with the list, now that tasks were appended, is cut again with them.
    const n = intact.pieces.length;
    for (let r = 0; r < n; r++) {
      const p = intact.pieces[r];
      if (intact.starts[r] !== start || start + p.count > tasks.length) break;
      if (r === n - 1 && tasks.length > intact.length && p.count !== MAX_RUN && !endsRun(lastId(p))) break;
      out.push(p);
      start += p.count;
    }
  }
  while (start < tasks.length) {
    const head = tasks[start];
    let run = typeof head === 'object' && head !== null ? runs.get(head) : undefined;
    if (!run || !fits(run, tasks, start)) {
      let end = start;
      while (end < tasks.length && end - start < MAX_RUN) {
        if (endsRun((tasks[end++] as { id?: unknown } | null)?.id)) break;
      }
      const slice = tasks.slice(start, end);
      const ids = slice.map((t) => String(t.id));
      run = { tasks: slice, first: start === 0, piece: { bytes: Buffer.from(runText(tasks, start, end)), count: end - start, first: start === 0, ids, idsText: ids.join(' ') } };
      if (typeof head === 'object' && head !== null) runs.set(head, run);
    }
    out.push(run.piece);
    start += run.tasks.length;
  }
}

let nonce = '';

/**
 * Registers the runs of a state read back from the state cache: `pieces`
 * cover its task lists in order. Runs that do not fit are simply not found
 * later (a run is used only for the very task objects it was made of).
 */
export function adoptRuns(state: State, pieces: RunPiece[]): void {
  let k = 0;
  for (const ws of Object.values(state.workstreams)) {
    const tasks = ws.tasks;
    for (let start = 0; start < tasks.length; ) {
      const p = pieces[k++];
      const head = tasks[start];
      if (!p || p.first !== (start === 0) || p.count < 1 || start + p.count > tasks.length || typeof head !== 'object' || head === null) return;
      runs.set(head, { tasks: tasks.slice(start, start + p.count), first: p.first, piece: p });
      start += p.count;
    }
  }
}

function taskCount(state: State): number {
  let n = 0;
  for (const ws of Object.values(state.workstreams)) n += Array.isArray(ws?.tasks) ? ws.tasks.length : 0;
  return n;
}

/**
 * The bytes of `JSON.stringify(state, null, 2) + "\n"` as text and pieces:
 * the state without its task lists is stringified whole (it is small), and
 * each list is spliced in from its runs' pieces. The first state a process
 * writes is stringified whole, natively (twice as fast as by runs), unless
 * the board is large: a large board is kept in the state cache by runs, so
 * that the next command rewrites only the runs it changes.
 */
export function stateParts(state: State): Array<string | Piece> {
  if (!nonce) {
    nonce = `@orchestrator-tasks-${Math.random().toString(36).slice(2)}-`;
    if (taskCount(state) < LARGE_BOARD_TASKS) return [JSON.stringify(state, null, 2) + '\n'];
  }
  const lists: Task[][] = [];
  const workstreams: Record<string, unknown> = {};
  for (const [name, ws] of Object.entries(state.workstreams)) {
    if (!Array.isArray(ws?.tasks)) return [JSON.stringify(state, null, 2) + '\n'];
    workstreams[name] = { ...ws, tasks: nonce + lists.length };
    lists.push(ws.tasks);
  }
  const skeleton = JSON.stringify({ ...state, workstreams }, null, 2) + '\n';
  const out: Array<string | Piece> = [];
  let at = 0;
  for (let i = 0; i < lists.length; i++) {
    const marker = `"${nonce}${i}"`;
    const found = skeleton.indexOf(marker, at);
    // A marker lost (it cannot be: the nonce is this process's own): the plain way.
    if (found < 0) return [JSON.stringify(state, null, 2) + '\n'];
    const tasks = lists[i];
    if (tasks.length === 0) {
      out.push(skeleton.slice(at, found) + '[]');
    } else {
      out.push(skeleton.slice(at, found) + '[');
      taskPieces(tasks, out as Piece[]);
      out.push(LIST_END);
    }
    at = found + marker.length;
  }
  out.push(skeleton.slice(at));
  return out;
}
