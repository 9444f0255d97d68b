/**
 * Text that is shown on one line: which characters may not enter such a
 * field, and how text read from the branch is shown so that a stored value
 * (written before these rules, or by an import) can neither reorder a line
 * nor break it. Bidirectional formatting characters reorder what follows
 * them on screen (a title could show another task's id, or hide words); the
 * C0/C1 controls and the Unicode line and paragraph separators break the
 * line or drive the terminal. On display each becomes a visible escape
 * (`\n`, `\u202e`), as JSON would write it.
 */
import { OrchestratorError } from '../errors.js';

/** Embeddings, overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C), and U+2028/U+2029. */
export const BIDI_OR_SEPARATOR = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

const UNSAFE_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
// Multi-line text keeps its newlines and tabs.
const UNSAFE_IN_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escape(c: string): string {
  return SHORT[c] ?? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
}

/** A value shown inside one line: every control, bidi or separator character escaped. */
export function oneLine(value: unknown): string {
  return String(value).replace(UNSAFE_IN_LINE, escape);
}

/** Multi-line text shown as it is, except controls, bidi and separator characters (newlines and tabs kept). */
export function safeLines(value: unknown): string {
  return String(value).replace(UNSAFE_IN_LINES, escape);
}

/**
 * Bytes that must be UTF-8 text (knowledge read from a file or standard
 * input). Anything else would become U+FFFD silently, so it is refused:
 * INVALID_INPUT naming `what`. A byte-order mark is kept, like every byte.
 */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new OrchestratorError('INVALID_INPUT', `${what} is not UTF-8 text; knowledge holds text only (store binary files elsewhere and link to them)`, { field: what });
  }
}
