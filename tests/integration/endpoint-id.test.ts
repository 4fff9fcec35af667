import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, textOf, type Harness } from "../helpers/harness.js";

/**
 * Every tool that takes an endpoint id checks it with the one schema (src/tools/schemas.ts):
 * "." and ".." segments are refused, since URL parsing would resolve them and the request would
 * reach another endpoint. get_model_schema used to allow them and get_pricing did not check.
 */
let fake: FakeFal;
let harness: Harness;

beforeAll(async () => {
  fake = await startFakeFal();
  harness = await startHarness({ baseUrl: fake.url });
});

afterAll(async () => {
  await harness.close();
  await fake.close();
});

const BAD_IDS = ["fal-ai/../flux/dev", "fal-ai/flux/./dev", "fal-ai/flux/..", "fal-ai", "../fal-ai/flux"];

const calls: [tool: string, args: (id: string) => Record<string, unknown>][] = [
  ["run_model", (id) => ({ endpoint_id: id, input: { prompt: "x" }, wait_seconds: 0 })],
  ["submit_job", (id) => ({ endpoint_id: id, input: { prompt: "x" } })],
  ["check_job", (id) => ({ request_id: "0123456789abcdef", endpoint_id: id })],
  ["get_model_schema", (id) => ({ endpoint_id: id })],
  ["get_pricing", (id) => ({ endpoint_ids: [id] })],
];

describe("the shared endpoint-id schema", () => {
  for (const [tool, args] of calls) {
    it(`${tool} refuses . and .. segments before anything is sent to fal`, async () => {
      for (const id of BAD_IDS) {
        const before = fake.requests.length;
        const result = await harness.call(tool, args(id));
        expect(result.isError, `${tool} ${id}`).toBe(true);
        expect(textOf(result)).toMatch(/endpoint id such as fal-ai\/flux\/dev/);
        expect(fake.requests.length).toBe(before);
      }
    });
  }

  it("still accepts real ids, including dotted version segments", async () => {
    const result = await harness.call("get_model_schema", {
      endpoint_id: "fal-ai/kling-video/v2.1/master/image-to-video",
    });
    expect(textOf(result)).not.toMatch(/endpoint id such as/);
  });
});
