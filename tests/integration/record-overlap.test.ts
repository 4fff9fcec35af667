import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { JobRecord } from "../../src/jobs/store.js";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, textOf, type Harness } from "../helpers/harness.js";

// run_model writes the submit's record while it reads the job's status and result (issue 15), but
// the durability promise is unchanged: the tool answers only once the record is on disk, shutdown
// waits for a record still being written, and concurrent calls each get their own record.
let fake: FakeFal;
let harness: Harness | undefined;

beforeAll(async () => {
  fake = await startFakeFal();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await harness?.close();
  harness = undefined;
  fake.reset();
});
afterAll(() => fake.close());

/**
 * Holds the end of each record's durable write (a slow disk) until `release` is called; `onDisk`
 * resolves once the store's own write (temp file, fsync, rename, folder fsync) finished.
 */
function holdRecordWrites(h: Harness) {
  const jobs = h.services.jobs;
  const startCreate = jobs.startCreate.bind(jobs);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let markOnDisk!: () => void;
  const onDisk = new Promise<void>((resolve) => (markOnDisk = resolve));
  const events: string[] = [];
  vi.spyOn(jobs, "startCreate").mockImplementation((entry) => {
    const started = startCreate(entry);
    const written = started.written.then(async (record: JobRecord) => {
      markOnDisk();
      await released;
      events.push("record durable");
      return record;
    });
    return { record: started.record, written };
  });
  return { release, onDisk, events };
}

const requestsTo = (pattern: RegExp) =>
  fake.requests.filter((request) => request.method === "GET" && pattern.test(request.path)).length;

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("run_model's record write overlaps its reads, never its answer", () => {
  it("reads the status and the result while the record is written, and answers only once it is durable", async () => {
    harness = await startHarness({ baseUrl: fake.url });
    const hold = holdRecordWrites(harness);
    const call = harness.call("run_model", { endpoint_id: "fake/instant", input: { prompt: "a fox" } });
    const answered = call.then((result) => {
      hold.events.push("answered");
      return result;
    });
    await hold.onDisk;
    // The record write has not returned yet: the job's status and result are read meanwhile.
    await until(() => requestsTo(/\/requests\/[^/]+\/status$/) >= 1, "the status read");
    await until(() => requestsTo(/\/requests\/[^/]+$/) >= 1, "the result read");
    // Long enough for everything else the call does (the cost, the answer) on a loaded machine.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hold.events).toEqual([]);
    hold.release();
    const result = await answered;
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(hold.events).toEqual(["record durable", "answered"]);
    const out = result.structuredContent as { request_id: string; status: string; recorded: boolean };
    expect(out).toMatchObject({ status: "COMPLETED", recorded: true });
    // The output went into the same record once it was on disk.
    const file = path.join(harness.config.stateDir, "jobs", `${out.request_id}.json`);
    const record = JSON.parse(await fs.readFile(file, "utf8")) as JobRecord;
    expect(record).toMatchObject({ request_id: out.request_id, tool: "run_model", status: "COMPLETED" });
    expect(record.output).toBeDefined();
  });

  it("a job still IN_PROGRESS at the deadline is answered only once its record is durable, and says it is recorded", async () => {
    harness = await startHarness({ baseUrl: fake.url });
    const hold = holdRecordWrites(harness);
    const call = harness.call("run_model", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "a fox" },
      wait_seconds: 0,
    });
    const answered = call.then((result) => {
      hold.events.push("answered");
      return result;
    });
    await hold.onDisk;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hold.events).toEqual([]);
    hold.release();
    const result = await answered;
    expect(hold.events).toEqual(["record durable", "answered"]);
    expect(result.isError, textOf(result)).toBeFalsy();
    const out = result.structuredContent as { request_id: string; status: string };
    expect(out.status).not.toBe("COMPLETED");
    expect(textOf(result)).toContain(`request_id "${out.request_id}"`);
    expect(textOf(result)).not.toContain(`endpoint_id "fal-ai/flux/dev"`);
  });

  it("shutdown waits for a record still being written", async () => {
    harness = await startHarness({ baseUrl: fake.url });
    const hold = holdRecordWrites(harness);
    const call = harness.call("run_model", { endpoint_id: "fake/instant", input: { prompt: "a fox" } });
    await hold.onDisk;
    const inFlight = harness.services.inFlight;
    expect(inFlight.size).toBe(1);
    let drained = false;
    const drain = inFlight.drain(10_000).then((pending) => {
      drained = true;
      return pending;
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(drained).toBe(false);
    hold.release();
    expect(await drain).toEqual([]);
    expect(inFlight.size).toBe(0);
    expect((await call).isError).toBeFalsy();
  });

  it("32 concurrent calls each get their own completed record", async () => {
    harness = await startHarness({ baseUrl: fake.url });
    const h = harness;
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        h.call("run_model", { endpoint_id: "fake/instant", input: { prompt: `fox ${i}` }, save: false }),
      ),
    );
    const ids = results.map((result) => {
      expect(result.isError, textOf(result)).toBeFalsy();
      return (result.structuredContent as { request_id: string }).request_id;
    });
    expect(new Set(ids).size).toBe(32);
    expect(fake.jobsFor("fake/instant")).toHaveLength(32);
    for (const id of ids) {
      const lookup = await h.services.jobs.get(id);
      expect(lookup.kind).toBe("found");
      if (lookup.kind !== "found") continue;
      expect(lookup.record).toMatchObject({ request_id: id, status: "COMPLETED" });
      expect(lookup.record.output).toBeDefined();
    }
  });
});
