/**
 * Standard output and error written straight to their file descriptors.
 *
 * `process.stdout` is a stream: the first touch of it loads Node's stream
 * modules, and for a pipe (how agents read a command's output) its socket
 * machinery too. A CLI call that reads a board and prints needs none of it:
 * measured, a command writing through `process.stdout` to a pipe took 8-11 ms
 * longer than one writing with `fs.writeSync`.
 *
 * A write is synchronous and whole, in order. A descriptor that someone set
 * non-blocking may refuse a write for a moment (EAGAIN): from then on that
 * descriptor's output goes through Node's stream, which waits for it, and
 * the process exits only once that stream has drained (see `pendingStreams`).
 */
import * as fs from 'node:fs';

type Fd = 1 | 2;

const streams: { [fd in Fd]?: NodeJS.WriteStream } = {};

function stream(fd: Fd): NodeJS.WriteStream {
  return (streams[fd] ??= fd === 1 ? process.stdout : process.stderr);
}

/** Writes `text` to `fd` whole. */
export function writeFd(fd: Fd, text: string): void {
  const s = streams[fd];
  if (s) {
    s.write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < bytes.length) {
    try {
      done += fs.writeSync(fd, bytes, done, bytes.length - done);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A reader that went away: what a stream would do is drop the output (and so does this).
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw err;
      stream(fd).write(bytes.subarray(done));
      return;
    }
  }
}

/** The streams output fell back to (see above) that still hold output: the process exits once they drained. */
export function pendingStreams(): NodeJS.WriteStream[] {
  return [streams[1], streams[2]].filter((s): s is NodeJS.WriteStream => s !== undefined && s.writableLength > 0);
}

/** Whether standard output is a terminal (reads `process.stdout`: call it only when it matters). */
export function stdoutIsTTY(): boolean {
  return !!stream(1).isTTY;
}
