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
