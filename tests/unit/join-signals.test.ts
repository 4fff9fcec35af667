import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { abortAfter, joinSignals } from "../../src/util/abort.js";

describe("joinSignals", () => {
  it("fires with the reason of whichever source fires first", () => {
    const call = new AbortController();
    const stop = new AbortController();
    const joined = joinSignals([call.signal, stop.signal]);
    expect(joined.signal.aborted).toBe(false);
    stop.abort(new Error("shutting down"));
    expect(joined.signal.aborted).toBe(true);
    expect((joined.signal.reason as Error).message).toBe("shutting down");
    call.abort(new Error("later"));
    expect((joined.signal.reason as Error).message).toBe("shutting down");
    // Firing unhooked it from the other source too.
    expect(getEventListeners(call.signal, "abort")).toHaveLength(0);
  });

  it("is aborted at once when a source already is", () => {
    const call = new AbortController();
    call.abort(new Error("cancelled"));
    const joined = joinSignals([call.signal, new AbortController().signal]);
    expect(joined.signal.aborted).toBe(true);
    expect((joined.signal.reason as Error).message).toBe("cancelled");
  });

  it("after release, leaves nothing on a long-lived source and no longer follows it", () => {
    const stop = new AbortController();
    const joins = Array.from({ length: 10_000 }, () =>
      joinSignals([new AbortController().signal, stop.signal]),
    );
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(10_000);
    for (const join of joins) join.release();
    // What AbortSignal.any keeps on Node 20 for the source's life (one entry per call) is gone here.
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
    stop.abort();
    expect(joins.some((join) => join.signal.aborted)).toBe(false);
  });
});

describe("abortAfter", () => {
  it("aborts with a TimeoutError once the time is up, and says it timed out", async () => {
    const deadline = abortAfter(20);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(deadline.controller.signal.aborted).toBe(true);
    expect((deadline.controller.signal.reason as DOMException).name).toBe("TimeoutError");
    expect(deadline.timedOut()).toBe(true);
    deadline.clear();
  });

  it("follows the caller's signal with its reason (at once if it already fired), not as a timeout", () => {
    const caller = new AbortController();
    const deadline = abortAfter(60_000, caller.signal);
    caller.abort(new Error("cancelled"));
    expect((deadline.controller.signal.reason as Error).message).toBe("cancelled");
    expect(deadline.timedOut()).toBe(false);
    deadline.clear();
    const already = abortAfter(60_000, caller.signal);
    expect(already.controller.signal.aborted).toBe(true);
    already.clear();
  });

  it("clear() stops the timer and unhooks the caller's signal", async () => {
    const caller = new AbortController();
    const deadline = abortAfter(20, caller.signal);
    deadline.clear();
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    caller.abort();
    expect(deadline.controller.signal.aborted).toBe(false);
  });
});
