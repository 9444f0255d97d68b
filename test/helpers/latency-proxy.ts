/**
 * A TCP forwarder that makes loopback behave like a WAN: every chunk, each
 * way, reaches the other side `delayMs` after it arrived, in order, with
 * half-closes (FIN) delayed the same way. A round trip through it costs at
 * least 2 x delayMs. Counts connections, so a test can prove that a client
 * reuses one (an ssh ControlMaster opens one connection for many commands).
 *
 * It runs on the event loop of the process that starts it: a process that
 * also does heavy synchronous work adds that stall to the delay.
 */
import * as net from 'node:net';

export interface LatencyProxyOptions {
  /** The port on 127.0.0.1 to forward to. */
  target: number;
  /** One-way delay added to every chunk in each direction, in ms (default 0). */
  delayMs?: number;
  /** Port to listen on, on 127.0.0.1 (default: a free one). */
  port?: number;
}

export interface LatencyProxy {
  /** The port to connect to instead of the target's. */
  readonly port: number;
  readonly target: number;
  /** One-way delay in ms; may be changed while running (applies to chunks that arrive afterwards). */
  delayMs: number;
  /** Connections accepted since start (or since `resetCount()`). */
  readonly connections: number;
  /** Connections open now. */
  readonly open: number;
  resetCount(): void;
  /** Stops listening and ends every connection at once. */
  close(): Promise<void>;
}

type Item = { due: number; chunk?: Buffer };

/** Starts a latency proxy in front of 127.0.0.1:`target`. */
export async function startLatencyProxy(opts: LatencyProxyOptions): Promise<LatencyProxy> {
  if (!Number.isInteger(opts.target) || opts.target <= 0 || opts.target > 65535) throw new RangeError(`latency proxy: target port ${opts.target} is not a port`);
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let delayMs = checkDelay(opts.delayMs ?? 0);
  let connections = 0;
  let open = 0;
  let closed = false;

  /** Forwards `from` to `to`, each chunk due `delayMs` after it arrived, never before the one ahead of it. */
  function forward(from: net.Socket, to: net.Socket): void {
    const queue: Item[] = [];
    let timer: NodeJS.Timeout | null = null;
    let lastDue = 0;
    const flush = () => {
      timer = null;
      const now = performance.now();
      while (queue.length && queue[0].due <= now) {
        const item = queue.shift()!;
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
    const push = (item: Item) => {
      // A delay lowered mid-stream must not reorder: never due before the item ahead.
      item.due = Math.max(item.due, lastDue);
      lastDue = item.due;
      queue.push(item);
      if (!timer) flush();
    };
    from.on('data', (chunk: Buffer) => push({ due: performance.now() + delayMs, chunk }));
    // A half-close travels as late as the data before it.
    from.on('end', () => push({ due: performance.now() + delayMs }));
  }

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    if (closed) return void client.destroy();
    connections++;
    open++;
    const upstream = net.connect({ host: '127.0.0.1', port: opts.target, allowHalfOpen: true });
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
        if (++closes === 2) open--;
      });
    }
    forward(client, upstream);
    forward(upstream, client);
    client.resume();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    target: opts.target,
    get delayMs() {
      return delayMs;
    },
    set delayMs(ms: number) {
      delayMs = checkDelay(ms);
    },
    get connections() {
      return connections;
    },
    get open() {
      return open;
    },
    resetCount() {
      connections = 0;
    },
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function checkDelay(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency proxy: delay ${ms} ms is not a duration`);
  return ms;
}
