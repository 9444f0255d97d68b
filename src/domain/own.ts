/**
 * Records keyed by user input (workstreams, agents, locks, knowledge) are
 * plain objects, so a name like "constructor" or "__proto__" would read the
 * object's inherited members and, written with `record[key] = value`,
 * "__proto__" would replace its prototype. Every lookup by a user's key goes
 * through `own`; records built from user keys start from `newRecord`.
 */

/** The record's own value for `key`, never an inherited member. */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** An empty record with no prototype: any key, "__proto__" included, is a plain entry. */
export function newRecord<T>(from?: Readonly<Record<string, T>>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  if (from) for (const key of Object.keys(from)) out[key] = from[key];
  return out;
}

/**
 * Where a "__proto__" key is in parsed JSON (`data.a[0].__proto__`), or null:
 * JSON.parse keeps such a key, but most JavaScript that copies the object
 * takes it for the prototype. Iterative: data may nest deeply.
 */
export function protoKeyPath(value: unknown, root = 'data'): string | null {
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length) {
    const [v, where] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${where}[${i}]`]);
      continue;
    }
    if (Object.hasOwn(v, '__proto__')) return `${where}.__proto__`;
    for (const key of Object.keys(v).reverse()) stack.push([(v as Record<string, unknown>)[key], `${where}.${key}`]);
  }
  return null;
}
