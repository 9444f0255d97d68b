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

// Descriptors that refused a write for good (closed, a reader gone, a full disk): their output is dropped.
const dead = new Set<Fd>();

/** Writes `text` to `fd` whole. */
export function writeFd(fd: Fd, text: string): void {
  const s = streams[fd];
  if (s) {
    s.write(text);
    return;
  }
  if (dead.has(fd)) return;
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < bytes.length) {
    try {
      done += fs.writeSync(fd, bytes, done, bytes.length - done);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        stream(fd).write(bytes.subarray(done));
        return;
      }
      // Output that cannot be written (EPIPE, EBADF, ENOSPC...) must not fail a command whose change
      // may have landed: it is dropped, as Node's own streams drop output to a closed descriptor.
      dead.add(fd);
      return;
    }
  }
}

/**
 * For a command that keeps running (`serve`, `mcp`): output goes through
 * Node's streams from now on, which queue what a reader has not taken yet
 * instead of blocking the process on a full pipe.
 */
export function useStreams(): void {
  stream(1);
  stream(2);
}

/** The streams output went through that still hold output: the process exits once they flushed. */
export function pendingStreams(): NodeJS.WriteStream[] {
  return [streams[1], streams[2]].filter((s): s is NodeJS.WriteStream => s !== undefined && s.writableLength > 0);
}

/** Whether standard output is a terminal (reads `process.stdout`: call it only when it matters). */
export function stdoutIsTTY(): boolean {
  return !!stream(1).isTTY;
}
