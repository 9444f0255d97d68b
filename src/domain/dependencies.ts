/**
 * The dependency graph of tasks (`depends_on`, across workstreams) and its
 * cycles. A cycle would leave every task on it blocked forever, so no
 * operation may close one; the messages name the whole cycle
 * (`a -> b -> c -> a`) so the user sees which edge to drop.
 */
import type { State } from './types.js';

export type DepsOf = (id: string) => readonly string[] | undefined;

/** Each task's dependencies, by id, read from the state. */
export function depsOf(state: State): DepsOf {
  const map = new Map<string, readonly string[]>();
  for (const ws of Object.values(state.workstreams)) for (const t of ws.tasks) if (t.depends_on?.length) map.set(t.id, t.depends_on);
  return (id) => map.get(id);
}

/**
 * The cycle that giving task `id` the dependencies `deps` would close, as
 * the path `[id, dep, ..., id]`, or null. Walks from each new dependency
 * along the existing edges looking for `id` (iterative: chains may be long).
 */
export function cycleThrough(deps: DepsOf, id: string, newDeps: readonly string[]): string[] | null {
  const parent = new Map<string, string>();
  const stack: string[] = [];
  for (const d of newDeps) {
    if (d === id) return [id, id];
    if (!parent.has(d)) {
      parent.set(d, id);
      stack.push(d);
    }
  }
  while (stack.length) {
    const cur = stack.pop()!;
    for (const next of deps(cur) ?? []) {
      if (next === id) {
        const path = [id];
        for (let at: string | undefined = cur; at !== undefined && at !== id; at = parent.get(at)) path.push(at);
        // path is id, cur, ..., firstDep (walking back); the cycle reads id -> firstDep -> ... -> cur -> id.
        return [id, ...path.slice(1).reverse(), id];
      }
      if (!parent.has(next)) {
        parent.set(next, cur);
        stack.push(next);
      }
    }
  }
  return null;
}

/** Some cycle among `ids` (as `[a, b, ..., a]`), or null when the graph has none: for checking data that did not come from operations. */
export function anyCycle(deps: DepsOf, ids: Iterable<string>): string[] | null {
  const done = new Set<string>();
  for (const start of ids) {
    if (done.has(start)) continue;
    // Iterative depth-first search keeping the current path.
    const path: string[] = [];
    const onPath = new Set<string>();
    const iters: Array<Iterator<string>> = [];
    const enter = (id: string) => {
      path.push(id);
      onPath.add(id);
      iters.push((deps(id) ?? [])[Symbol.iterator]());
    };
    enter(start);
    while (iters.length) {
      const step = iters[iters.length - 1].next();
      if (step.done) {
        iters.pop();
        const id = path.pop()!;
        onPath.delete(id);
        done.add(id);
        continue;
      }
      const next = step.value;
      if (onPath.has(next)) return [...path.slice(path.indexOf(next)), next];
      if (!done.has(next)) enter(next);
    }
  }
  return null;
}

export function showCycle(cycle: readonly string[]): string {
  return cycle.join(' -> ');
}
