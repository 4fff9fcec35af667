import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { joinSignals } from "../../src/util/abort.js";

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
