import { describe, expect, it } from "vitest";
import { TtlCache } from "../../src/util/ttl-cache.js";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("TtlCache", () => {
  it("answers from memory until the TTL passes, then loads again", async () => {
    const time = clock();
    const cache = new TtlCache<number>({ ttlMs: 10_000, now: time.now });
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get("k", load)).toBe(1);
    time.advance(9_999);
    expect(await cache.get("k", load)).toBe(1);
    expect(loads).toBe(1);
    time.advance(1);
    expect(await cache.get("k", load)).toBe(2);
    expect(loads).toBe(2);
  });

  it("keys answers separately", async () => {
    const cache = new TtlCache<string>({ ttlMs: 60_000 });
    expect(await cache.get("a", async () => "A")).toBe("A");
    expect(await cache.get("b", async () => "B")).toBe("B");
    expect(await cache.get("a", async () => "other")).toBe("A");
  });

  it("with a TTL of 0 never stores, but still loads every time", async () => {
    const cache = new TtlCache<number>({ ttlMs: 0 });
    let loads = 0;
    await cache.get("k", async () => ++loads);
    await cache.get("k", async () => ++loads);
    expect(loads).toBe(2);
    expect(cache.size).toBe(0);
  });

  it("does not cache failures", async () => {
    const cache = new TtlCache<number>({ ttlMs: 60_000 });
    await expect(cache.get("k", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await cache.get("k", async () => 7)).toBe(7);
  });

  it("shares one in-flight load between concurrent identical requests", async () => {
    const cache = new TtlCache<number>({ ttlMs: 60_000 });
    let loads = 0;
    let release!: (value: number) => void;
    const load = () => {
      loads++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const first = cache.get("k", load);
    const second = cache.get("k", load);
    release(42);
    expect(await Promise.all([first, second])).toEqual([42, 42]);
    expect(loads).toBe(1);
  });

  it("drops the least recently used entries beyond its bound", async () => {
    const cache = new TtlCache<string>({ ttlMs: 60_000, maxEntries: 2 });
    await cache.get("a", async () => "A");
    await cache.get("b", async () => "B");
    await cache.get("a", async () => "A2"); // touch a: b is now the oldest
    await cache.get("c", async () => "C");
    expect(cache.size).toBe(2);
    expect(await cache.get("a", async () => "reloaded")).toBe("A");
    expect(await cache.get("b", async () => "reloaded")).toBe("reloaded");
  });

  it("a cancelled caller does not break another waiting for the same load", async () => {
    const cache = new TtlCache<number>({ ttlMs: 60_000 });
    let loadSignal: AbortSignal | undefined;
    let release!: (value: number) => void;
    const load = (signal: AbortSignal) => {
      loadSignal = signal;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const impatient = new AbortController();
    const first = cache.get("k", load, impatient.signal);
    const second = cache.get("k", load, new AbortController().signal);
    impatient.abort(new Error("cancelled by the client"));
    await expect(first).rejects.toThrow("cancelled by the client");
    expect(loadSignal?.aborted).toBe(false);
    release(5);
    expect(await second).toBe(5);
  });

  it("aborts the load when every caller has gone", async () => {
    const cache = new TtlCache<number>({ ttlMs: 60_000 });
    let loadSignal: AbortSignal | undefined;
    const load = (signal: AbortSignal) => {
      loadSignal = signal;
      return new Promise<number>((_resolve, reject) =>
        signal.addEventListener("abort", () => reject(new Error("load aborted"))),
      );
    };
    const a = new AbortController();
    const b = new AbortController();
    const first = cache.get("k", load, a.signal);
    const second = cache.get("k", load, b.signal);
    a.abort(new Error("a gone"));
    b.abort(new Error("b gone"));
    await expect(first).rejects.toThrow("a gone");
    await expect(second).rejects.toThrow("b gone");
    expect(loadSignal?.aborted).toBe(true);
    // Nothing stored: the next call loads afresh.
    expect(await cache.get("k", async () => 9)).toBe(9);
  });

  it("refuses at once when the caller is already cancelled", async () => {
    const cache = new TtlCache<number>({ ttlMs: 60_000 });
    let loads = 0;
    await expect(
      cache.get("k", async () => ++loads, AbortSignal.abort(new Error("already"))),
    ).rejects.toThrow("already");
    expect(loads).toBe(0);
  });
});

describe("TtlCache keep", () => {
  it("does not store values the caller marks as not worth keeping", async () => {
    const cache = new TtlCache<{ source: string }>({ ttlMs: 60_000 });
    let loads = 0;
    const keep = (value: { source: string }) => value.source === "primary";
    await cache.get("k", async () => ({ source: `fallback-${++loads}` }), undefined, keep);
    await cache.get("k", async () => ({ source: `fallback-${++loads}` }), undefined, keep);
    expect(loads).toBe(2);
    await cache.get("k", async () => ({ source: "primary" }), undefined, keep);
    expect(await cache.get("k", async () => ({ source: "again" }), undefined, keep)).toEqual({
      source: "primary",
    });
  });
});
