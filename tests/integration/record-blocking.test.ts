import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, textOf, type Harness } from "../helpers/harness.js";

// The server counts its tool calls and the job store writes a record with blocking calls only
// while one call (or none) is running; under concurrency every write goes through the thread pool.
const writes = vi.hoisted(() => ({ blocking: 0, pool: 0 }));
vi.mock("../../src/jobs/atomic-write.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/jobs/atomic-write.js")>();
  return {
    ...original,
    writeAtomic: (...args: Parameters<typeof original.writeAtomic>) => {
      writes.pool += 1;
      return original.writeAtomic(...args);
    },
    writeAtomicBlocking: (...args: Parameters<typeof original.writeAtomicBlocking>) => {
      writes.blocking += 1;
      return original.writeAtomicBlocking(...args);
    },
  };
});

let fake: FakeFal;
let harness: Harness | undefined;
beforeAll(async () => {
  fake = await startFakeFal();
});
beforeEach(() => {
  writes.blocking = 0;
  writes.pool = 0;
});
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  fake.reset();
});
afterAll(() => fake.close());

const runModel = (h: Harness, prompt: string) =>
  h.call("run_model", { endpoint_id: "fake/instant", input: { prompt }, save: false });

describe("record writes and the calls in flight", () => {
  it("a call alone writes its record and its output with blocking calls, and is counted only while it runs", async () => {
    harness = await startHarness({ baseUrl: fake.url });
    const h = harness;
    const running: number[] = [];
    const update = h.services.jobs.update.bind(h.services.jobs);
    vi.spyOn(h.services.jobs, "update").mockImplementation((...args) => {
      running.push(h.services.calls.running);
      return update(...args);
    });
    const result = await runModel(h, "a fox");
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(running.length).toBeGreaterThan(0);
    expect(new Set(running)).toEqual(new Set([1]));
    expect(h.services.calls.running).toBe(0);
    expect(writes).toEqual({ blocking: 2, pool: 0 });
  });

  it("calls in flight together write through the thread pool", async () => {
    harness = await startHarness({ baseUrl: fake.url });
    const h = harness;
    // Each status read waits, so the four calls are all in flight when their records are written.
    fake.inject({ path: /\/requests\/[^/]+\/status$/, fault: { kind: "delay", ms: 300 } });
    const results = await Promise.all([1, 2, 3, 4].map((n) => runModel(h, `fox ${n}`)));
    for (const result of results) expect(result.isError, textOf(result)).toBeFalsy();
    expect(h.services.calls.running).toBe(0);
    // Every submit record was written while the others were running; the last outputs may be
    // written alone, as the other calls finish.
    expect(writes.pool).toBeGreaterThanOrEqual(4);
    expect(writes.blocking + writes.pool).toBe(8);
  });

  it("an error result leaves the count too", async () => {
    harness = await startHarness({ baseUrl: fake.url });
    const result = await harness.call("run_model", { endpoint_id: "no/such-model", input: {} });
    expect(result.isError).toBe(true);
    expect(harness.services.calls.running).toBe(0);
  });
});
