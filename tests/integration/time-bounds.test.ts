import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, textOf, type Harness } from "../helpers/harness.js";
import { SHORT, SHORT_ENV, SLACK_MS, timeBoundMs } from "../reliability/support.js";

// Issue 11, size and time: a CDN that trickles bytes, never pausing as long as the stall timeout,
// must not stretch a tool past its documented bound (tests/reliability/support.ts) plus
// X = FAL_MCP_TRANSFER_TIMEOUT_MS.
const X = 2000;
let fake: FakeFal;
let harness: Harness;

beforeAll(async () => {
  fake = await startFakeFal();
  harness = await startHarness({
    baseUrl: fake.url,
    env: { ...SHORT_ENV, FAL_MCP_TRANSFER_TIMEOUT_MS: String(X) },
  });
});
afterAll(async () => {
  await harness.close();
  await fake.close();
});

describe("a trickling CDN (a few bytes every 200 ms, forever)", () => {
  for (const save of [true, false]) {
    it(`run_model (save: ${save}) answers within its documented bound + X, the job a success`, async () => {
      fake.reset();
      fake.inject({ host: "*.fal.media", path: "/files/*", fault: { kind: "trickle", intervalMs: 200 } });
      const started = Date.now();
      const result = await harness.call("run_model", {
        endpoint_id: "fake/instant",
        input: { prompt: "a slow fox" },
        save,
      });
      const took = Date.now() - started;
      expect(result.isError, textOf(result)).toBeFalsy();
      expect((result.structuredContent as { status: string }).status).toBe("COMPLETED");
      if (save)
        expect((result.structuredContent as { files: { error: string | null }[] }).files[0]?.error).toMatch(
          /FAL_MCP_TRANSFER_TIMEOUT_MS/,
        );
      expect(took, `took ${took} ms`).toBeLessThanOrEqual(timeBoundMs("run_model", SHORT) + X + SLACK_MS);
    });
  }
});
