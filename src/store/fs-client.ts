/**
 * Files written whole or not at all: to a temporary file, renamed into place,
 * so a crash never leaves a torn git object behind. Synchronous calls: Node's
 * promise API costs a thread-pool round trip per call (~0.15 ms here) where
 * the synchronous calls take ~0.02 ms, and a mutation makes dozens of them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { streamRange, type FileRange } from './pieces.js';

let counter = 0;

type Parts = Array<Uint8Array | FileRange>;

function writeNew(file: string, data: string | Uint8Array | Parts, mode: number): void {
  if (!Array.isArray(data)) return fs.writeFileSync(file, data, { mode });
  const fd = fs.openSync(file, 'w', mode);
  try {
    // Bytes in memory go out in one writev each run of them; ranges of other files are copied through a buffer.
    let run: Uint8Array[] = [];
    for (const d of data) {
      if (d instanceof Uint8Array) {
        run.push(d);
        continue;
      }
      writeAll(fd, run);
      run = [];
      streamRange(d, (bytes) => writeAll(fd, [bytes]));
    }
    writeAll(fd, run);
  } finally {
    fs.closeSync(fd);
  }
}

function writeAll(fd: number, data: Uint8Array[]): void {
  if (!data.length) return;
  let total = 0;
  for (const d of data) total += d.byteLength;
  let written = fs.writevSync(fd, data);
  while (written < total) {
    // A short write: the rest, from where it stopped.
    let skip = written;
    const rest: Uint8Array[] = [];
    for (const d of data) {
      if (skip >= d.byteLength) skip -= d.byteLength;
      else {
        rest.push(skip ? d.subarray(skip) : d);
        skip = 0;
      }
    }
    written += fs.writevSync(fd, rest);
  }
}

export function atomicWriteFileSync(file: string, data: string | Uint8Array | Parts, mode = 0o444): void {
  // git's own prefix for temporary objects: its gc leaves such files alone (and
  // cleans up old ones) instead of reporting "bad sha1 file" in gc.log, which
  // would stop automatic gc for a day.
  const tmp = path.join(path.dirname(file), `tmp_obj_${process.pid}_${Date.now().toString(36)}${(counter++).toString(36)}`);
  // The directory may be missing, or removed again by git's pruning of empty object directories: make it and retry.
  for (let attempt = 1; ; attempt++) {
    try {
      writeNew(tmp, data, mode);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw err;
      fs.mkdirSync(path.dirname(file), { recursive: true });
    }
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
}
