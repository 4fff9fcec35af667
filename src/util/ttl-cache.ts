import { untilAborted } from "./abort.js";

export interface TtlCacheOptions {
  /** 0 disables caching (concurrent identical requests still share one call). */
  ttlMs: number;
  /** Oldest entries are dropped beyond this many. */
  maxEntries?: number;
  now?: () => number;
}

interface InFlight<V> {
  promise: Promise<V>;
  controller: AbortController;
  waiters: number;
}

/**
 * A small TTL + LRU cache of async answers. Concurrent callers of the same key share one load;
 * the load is aborted only when every caller waiting for it has gone (so one cancelled call does
 * not break another). Failures are never cached.
 */
export class TtlCache<V> {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #inFlight = new Map<string, InFlight<V>>();

  constructor(options: TtlCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 500;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }

  /** `keep` decides whether a loaded value is stored (e.g. not a degraded fallback answer). */
  async get(
    key: string,
    load: (signal: AbortSignal) => Promise<V>,
    signal?: AbortSignal,
    keep?: (value: V) => boolean,
  ): Promise<V> {
    signal?.throwIfAborted();
    const entry = this.#entries.get(key);
    if (entry) {
      if (entry.expiresAt > this.#now()) {
        // Refresh the position: Map iteration order is insertion order, the oldest go first.
        this.#entries.delete(key);
        this.#entries.set(key, entry);
        return entry.value;
      }
      this.#entries.delete(key);
    }
    let flight = this.#inFlight.get(key);
    if (!flight) {
      const controller = new AbortController();
      const created: InFlight<V> = {
        controller,
        waiters: 0,
        promise: load(controller.signal).then(
          (value) => {
            this.#inFlight.delete(key);
            if (this.#ttlMs > 0 && (keep?.(value) ?? true)) this.#store(key, value);
            return value;
          },
          (error: unknown) => {
            this.#inFlight.delete(key);
            throw error;
          },
        ),
      };
      // A load whose callers have all gone may still reject later: nobody listens, that is fine.
      created.promise.catch(() => undefined);
      this.#inFlight.set(key, created);
      flight = created;
    }
    return this.#wait(flight, signal);
  }

  #store(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  #wait(flight: InFlight<V>, signal: AbortSignal | undefined): Promise<V> {
    flight.waiters++;
    if (!signal) return flight.promise;
    // The load is shared: it is cancelled only when the last caller waiting for it has gone.
    return untilAborted(flight.promise, signal, () => {
      flight.waiters--;
      if (flight.waiters <= 0) flight.controller.abort(signal.reason);
    });
  }
}
