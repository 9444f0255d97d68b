import { decodeUtf8 } from './domain/text.js';

function readAll(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks)));
    process.stdin.on('error', reject);
  });
}

/** All of standard input as text, for the pre-receive check (ref names are bytes; nothing is stored from it). */
export async function readStdin(): Promise<string> {
  return (await readAll()).toString('utf8');
}

/**
 * All of standard input as text, for the CLI (`kb write <topic> -`): bytes
 * that are not UTF-8 are refused with INVALID_INPUT instead of becoming
 * U+FFFD, so binary files are never stored half-replaced.
 */
export async function readStdinText(): Promise<string> {
  return decodeUtf8(await readAll(), 'standard input');
}
