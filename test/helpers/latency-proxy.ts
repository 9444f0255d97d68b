/**
 * A TCP forwarder that makes loopback behave like a WAN: every chunk, each
 * way, reaches the other side `delayMs` after it arrived, in order, with
 * half-closes (FIN) delayed the same way. A round trip through it costs at
 * least 2 x delayMs. A new connection also pays TCP's handshake, as on a
 * real network (unless `handshake` is off): the target accepts it 3 x
 * delayMs after the client connected (SYN, SYN-ACK, ACK), and what the
 * client sent meanwhile arrives then. Counts connections, so a test can prove that a client
 * reuses one (an ssh ControlMaster opens one connection for many commands).
 *
 * It runs in a worker thread of its own: the process that starts it may
 * block its event loop (execFileSync of a git that goes through the proxy,
 * heavy synchronous work in a benchmark) without stalling or skewing the
 * traffic. The worker's code is a string, so bundles of this file (the
 * benchmark's) need no separate file; counters and the delay live in shared
 * memory, so reading and changing them is synchronous.
 */
import { Worker } from 'node:worker_threads';

export interface LatencyProxyOptions {
  /** The port on 127.0.0.1 to forward to. */
  target: number;
  /** One-way delay added to every chunk in each direction, in ms (default 0). */
  delayMs?: number;
  /** Port to listen on, on 127.0.0.1 (default: a free one). */
  port?: number;
  /** Delay new connections by TCP's handshake (default true). */
  handshake?: boolean;
}

export interface LatencyProxy {
  /** The port to connect to instead of the target's. */
  readonly port: number;
  readonly target: number;
  /** One-way delay in ms; may be changed while running (applies to chunks that arrive afterwards). */
  delayMs: number;
  /** Whether new connections pay the handshake's round trip; may be changed while running. */
  handshake: boolean;
  /** Connections accepted since start (or since `resetCount()`). */
  readonly connections: number;
  /** Connections open now. */
  readonly open: number;
  resetCount(): void;
  /** The next `n` connections are reset (RST) as soon as they are accepted, as a flaky network does. */
  resetNext(n: number): void;
  /** Connections reset so far by `resetNext`. */
  readonly resets: number;
  /** Stops listening and ends every connection at once. */
  close(): Promise<void>;
}

// Shared Int32 slots.
const DELAY_US = 0;
const CONNECTIONS = 1;
const OPEN = 2;
const HANDSHAKE = 3;
const RESET_NEXT = 4;
const RESETS = 5;

/** The forwarder, run by the worker (plain JavaScript: it is evaluated, not bundled). */
const WORKER_SOURCE = String.raw`
'use strict';
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const shared = new Int32Array(workerData.shared);
const [DELAY_US, CONNECTIONS, OPEN, HANDSHAKE, RESET_NEXT, RESETS] = [0, 1, 2, 3, 4, 5];
const sockets = new Set();
const timers = new Set();
let closed = false;

// Forwards from -> to, each chunk due delay after it arrived, never before the one ahead of it.
function forward(from, to) {
  const queue = [];
  let timer = null;
  let lastDue = 0;
  const flush = () => {
    timer = null;
    // Not connected yet (the handshake is under way): everything waits, then flows at once.
    if (to.pending) return;
    const now = performance.now();
    while (queue.length && queue[0].due <= now) {
      const item = queue.shift();
      if (to.destroyed) continue;
      if (!item.chunk) to.end();
      else if (!to.write(item.chunk) && !from.isPaused()) {
        // Back-pressure: stop reading until the other side drains.
        from.pause();
        to.once('drain', () => from.resume());
      }
    }
    if (queue.length) {
      // Timers may fire up to a millisecond early against performance.now(): round up, check again.
      const t = setTimeout(() => {
        timers.delete(t);
        flush();
      }, Math.max(1, Math.ceil(queue[0].due - now)));
      timers.add(t);
      timer = t;
    }
  };
  const push = (chunk) => {
    // A delay lowered mid-stream must not reorder: never due before the item ahead.
    const due = Math.max(performance.now() + Atomics.load(shared, DELAY_US) / 1000, lastDue);
    lastDue = due;
    queue.push({ due, chunk });
    if (!timer) flush();
  };
  from.on('data', (chunk) => push(chunk));
  // A half-close travels as late as the data before it.
  from.on('end', () => push(null));
  to.once('connect', () => {
    if (!timer) flush();
  });
}

const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
  if (closed) return void client.destroy();
  Atomics.add(shared, CONNECTIONS, 1);
  // A reset asked for: taken by one connection only, even when several arrive at once.
  for (let left = Atomics.load(shared, RESET_NEXT); left > 0; left = Atomics.load(shared, RESET_NEXT)) {
    if (Atomics.compareExchange(shared, RESET_NEXT, left, left - 1) !== left) continue;
    Atomics.add(shared, RESETS, 1);
    client.on('error', () => {});
    return void client.resetAndDestroy();
  }
  Atomics.add(shared, OPEN, 1);
  const upstream = new net.Socket({ allowHalfOpen: true });
  const connect = () => {
    if (!closed && !client.destroyed) upstream.connect({ host: '127.0.0.1', port: workerData.target });
    else upstream.destroy();
  };
  const handshakeMs = Atomics.load(shared, HANDSHAKE) ? (3 * Atomics.load(shared, DELAY_US)) / 1000 : 0;
  if (handshakeMs > 0) {
    const t = setTimeout(() => {
      timers.delete(t);
      connect();
    }, handshakeMs);
    timers.add(t);
  } else connect();
  let closes = 0;
  for (const s of [client, upstream]) {
    sockets.add(s);
    s.setNoDelay(true);
    // A reset or error on either side ends the connection on both.
    s.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
    s.on('close', () => {
      sockets.delete(s);
      if (++closes === 2) Atomics.sub(shared, OPEN, 1);
    });
  }
  forward(client, upstream);
  forward(upstream, client);
  client.resume();
});
server.once('error', (err) => parentPort.postMessage({ error: err.message }));
server.listen(workerData.port, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));

parentPort.on('message', (m) => {
  if (m !== 'close') return;
  closed = true;
  for (const t of timers) clearTimeout(t);
  for (const s of sockets) s.destroy();
  server.close(() => parentPort.postMessage({ closed: true }));
});
`;

/** Starts a latency proxy in front of 127.0.0.1:`target`. */
export async function startLatencyProxy(opts: LatencyProxyOptions): Promise<LatencyProxy> {
  if (!Number.isInteger(opts.target) || opts.target <= 0 || opts.target > 65535) throw new RangeError(`latency proxy: target port ${opts.target} is not a port`);
  const shared = new Int32Array(new SharedArrayBuffer(6 * Int32Array.BYTES_PER_ELEMENT));
  Atomics.store(shared, DELAY_US, micros(opts.delayMs ?? 0));
  Atomics.store(shared, HANDSHAKE, opts.handshake === false ? 0 : 1);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { shared: shared.buffer, target: opts.target, port: opts.port ?? 0 } });
  let onError!: (err: Error) => void;
  let onExit!: (code: number) => void;
  const port = await new Promise<number>((resolve, reject) => {
    onError = reject;
    onExit = (code) => reject(new Error(`latency proxy: worker exited with ${code} before listening`));
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.once('message', (m: { port?: number; error?: string }) => (m.port ? resolve(m.port) : reject(new Error(`latency proxy: ${m.error}`))));
  }).catch(async (err) => {
    await worker.terminate();
    throw err;
  });
  // (removeAllListeners would also drop the worker's own bookkeeping of its message port.)
  worker.off('error', onError);
  worker.off('exit', onExit);
  worker.on('error', () => {});
  // A proxy left open never keeps a process alive.
  worker.unref();

  let closing: Promise<void> | null = null;
  return {
    port,
    target: opts.target,
    get delayMs() {
      return Atomics.load(shared, DELAY_US) / 1000;
    },
    set delayMs(ms: number) {
      Atomics.store(shared, DELAY_US, micros(ms));
    },
    get handshake() {
      return Atomics.load(shared, HANDSHAKE) === 1;
    },
    set handshake(on: boolean) {
      Atomics.store(shared, HANDSHAKE, on ? 1 : 0);
    },
    get connections() {
      return Atomics.load(shared, CONNECTIONS);
    },
    get open() {
      return Atomics.load(shared, OPEN);
    },
    resetCount() {
      Atomics.store(shared, CONNECTIONS, 0);
    },
    resetNext(n: number) {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`latency proxy: ${n} is not a number of connections`);
      Atomics.store(shared, RESET_NEXT, n);
    },
    get resets() {
      return Atomics.load(shared, RESETS);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        const done = () => void worker.terminate().then(() => resolve());
        worker.once('message', done);
        worker.once('exit', () => resolve());
        // Sockets and timers end at once; give up waiting after a second.
        setTimeout(done, 1000).unref();
        worker.postMessage('close');
      });
      return closing;
    },
  };
}

function micros(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > 600_000) throw new RangeError(`latency proxy: delay ${ms} ms is not a duration (0 to 600000)`);
  return Math.round(ms * 1000);
}
