import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FalApiError } from "../../src/errors.js";
import type { Fal } from "../../src/fal/index.js";
import { submitToQueue } from "../../src/fal/queue.js";
import { waitForJob } from "../../src/fal/queue-wait.js";
import type { FakeFal } from "../fake-fal/server.js";
import { startFalOnFake } from "../helpers/fal-on-fake.js";

/** The polling loop: failed status reads go through the one retry loop, bounded by the deadline. */

let fake: FakeFal;
let fal: Fal;
let onFake: Awaited<ReturnType<typeof startFalOnFake>>;

beforeAll(async () => {
  onFake = await startFalOnFake();
  ({ fake, fal } = onFake);
});

afterAll(() => onFake?.close());

beforeEach(() => fake.reset());

async function submitted(): Promise<string> {
  const answer = await submitToQueue(fal, { endpointId: "fake/instant", input: { prompt: "a cat" } });
  return answer.requestId;
}

const statusPath = (requestId: string) => `/fake/instant/requests/${requestId}/status`;

describe("waitForJob", () => {
  it("keeps reading through failed status reads and reports each to the caller", async () => {
    const requestId = await submitted();
    // More failures than one read's own retries (4 attempts), so the polling loop must retry too.
    fake.inject({
      host: "queue.fal.run",
      path: statusPath(requestId),
      times: 6,
      fault: { kind: "status", status: 503 },
    });
    const transient: unknown[] = [];
    const outcome = await waitForJob(fal, {
      endpointId: "fake/instant",
      requestId,
      deadline: Date.now() + 30_000,
      minIntervalMs: 10,
      maxIntervalMs: 20,
      onTransientError: (error) => void transient.push(error),
    });
    expect(outcome.reason).toBe("completed");
    expect(outcome.status?.status).toBe("COMPLETED");
    expect(transient.length).toBeGreaterThanOrEqual(1);
    expect(fake.countRequests({ host: "queue.fal.run", method: "GET", path: statusPath(requestId) })).toBe(7);
  });

  it("stops at the deadline while every read fails, without throwing, and the job is left alone", async () => {
    const requestId = await submitted();
    fake.inject({
      host: "queue.fal.run",
      path: statusPath(requestId),
      fault: { kind: "status", status: 503 },
    });
    const started = Date.now();
    const outcome = await waitForJob(fal, {
      endpointId: "fake/instant",
      requestId,
      deadline: started + 1_500,
      minIntervalMs: 10,
      maxIntervalMs: 50,
    });
    expect(outcome).toEqual({ reason: "deadline", status: undefined });
    expect(Date.now() - started).toBeLessThan(1_500 + 1_000);
    expect(
      fake.countRequests({
        host: "queue.fal.run",
        method: "PUT",
        path: `/fake/instant/requests/${requestId}/cancel`,
      }),
    ).toBe(0);
  });

  it("throws a definite failure at once instead of retrying it", async () => {
    const requestId = await submitted();
    fake.inject({
      host: "queue.fal.run",
      path: statusPath(requestId),
      fault: { kind: "status", status: 401, body: { detail: "bad key" } },
    });
    await expect(
      waitForJob(fal, { endpointId: "fake/instant", requestId, deadline: Date.now() + 10_000 }),
    ).rejects.toBeInstanceOf(FalApiError);
    expect(fake.countRequests({ host: "queue.fal.run", method: "GET", path: statusPath(requestId) })).toBe(1);
  });

  it("returns 'aborted' when the caller stops waiting, between failed reads", async () => {
    const requestId = await submitted();
    fake.inject({
      host: "queue.fal.run",
      path: statusPath(requestId),
      fault: { kind: "status", status: 503 },
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("client went away")), 300);
    const outcome = await waitForJob(fal, {
      endpointId: "fake/instant",
      requestId,
      deadline: Date.now() + 20_000,
      signal: controller.signal,
      minIntervalMs: 10,
      maxIntervalMs: 50,
    });
    expect(outcome.reason).toBe("aborted");
  });
});
