/**
 * Watches the coordination branch for the server: notices commits made by
 * other processes on this clone (the ref is polled; reading it costs
 * microseconds), fetches the remote on an interval, and tells subscribers
 * (the SSE stream, the response caches) when the tip moves.
 */
/** What the watcher needs of the branch: no more (the session gives it). */
export interface TipSource {
  /** Whether there is a remote to fetch. */
  online(): Promise<boolean>;
  /** The local tip (a ref read). */
  tip(): Promise<string | null>;
  /** Fetches the remote. */
  fetch(): Promise<unknown>;
}

export type TipListener = (commit: string | null) => void;

export interface WatcherOptions {
  /** How often to read the local ref (ms). */
  pollMs?: number;
  /** How often to fetch the remote (ms; 0 = never). */
  fetchMs?: number;
  onError?: (err: unknown) => void;
}

export class BranchWatcher {
  private tip: string | null = null;
  private listeners = new Set<TipListener>();
  private timers: NodeJS.Timeout[] = [];
  private fetching = false;
  /** Last fetch failure, shown by /api/health; null when the last fetch worked. */
  lastFetchError: string | null = null;

  constructor(
    private readonly branch: TipSource,
    private readonly opts: WatcherOptions = {},
  ) {}

  get current(): string | null {
    return this.tip;
  }

  async start(): Promise<void> {
    const online = await this.branch.online();
    if (online) await this.fetch();
    this.tip = await this.branch.tip();
    const poll = setInterval(() => void this.check(), this.opts.pollMs ?? 200);
    poll.unref();
    this.timers.push(poll);
    if (online && (this.opts.fetchMs ?? 5000) > 0) {
      const f = setInterval(() => void this.fetch().then(() => this.check()), this.opts.fetchMs ?? 5000);
      f.unref();
      this.timers.push(f);
    }
  }

  /** Re-reads the tip now (after a write through this server, say). */
  async check(): Promise<void> {
    try {
      const tip = await this.branch.tip();
      if (tip !== this.tip) {
        this.tip = tip;
        for (const l of this.listeners) l(tip);
      }
    } catch (err) {
      this.opts.onError?.(err);
    }
  }

  private async fetch(): Promise<void> {
    if (this.fetching) return;
    this.fetching = true;
    try {
      await this.branch.fetch();
      this.lastFetchError = null;
    } catch (err) {
      this.lastFetchError = err instanceof Error ? err.message : String(err);
      this.opts.onError?.(err);
    } finally {
      this.fetching = false;
    }
  }

  subscribe(l: TipListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.listeners.clear();
  }
}
