/**
 * The parts of zod the rules and operations use, imported by name (so the
 * bundle holds only these), and loaded only through zod.ts.
 */
export {
  array,
  boolean,
  custom,
  enum,
  gte,
  int,
  literal,
  looseObject,
  lte,
  maxLength,
  minLength,
  nullable,
  number,
  object,
  optional,
  record,
  refine,
  regex,
  strictObject,
  string,
  superRefine,
  union,
  unknown,
} from 'zod/mini';
