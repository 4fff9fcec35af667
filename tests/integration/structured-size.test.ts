import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, textOf, type Harness } from "../helpers/harness.js";
import { TOOL_NAMES } from "../helpers/tool-names.js";

/**
 * Claude Code shows the model JSON.stringify(structuredContent) instead of the text, so every
 * tool's structuredContent must stay compact: a typical answer under 4 KB. The figures are
 * printed so the README and the report can quote them.
 */
const LIMIT = 4096;
const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");

let fake: FakeFal;
let harness: Harness;
const sizes = new Map<string, number>();

beforeAll(async () => {
  fake = await startFakeFal();
  harness = await startHarness({ baseUrl: fake.url });
});

afterAll(async () => {
  process.stderr.write(
    `structuredContent bytes per tool (typical answer):\n${[...sizes].map(([name, size]) => `  ${name}: ${size}`).join("\n")}\n`,
  );
  await harness?.close();
  await fake?.close();
});

async function measure(
  label: string,
  name: string,
  args: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const result = await harness.call(name, args);
  expect(result.isError, `${label}: ${textOf(result)}`).toBeFalsy();
  const size = Buffer.byteLength(JSON.stringify(result.structuredContent));
  sizes.set(label, size);
  expect(size, `${label} structuredContent is ${size} bytes`).toBeLessThan(LIMIT);
  return result.structuredContent as Record<string, unknown>;
}

describe("structuredContent stays compact", () => {
  it("for a typical answer of every one of the eleven tools", async () => {
    await measure("search_models", "search_models", {}); // default page: 20 models
    await measure("get_model_schema", "get_model_schema", { endpoint_id: "fal-ai/flux/dev" });
    await measure("get_pricing", "get_pricing", {
      endpoint_id: "fal-ai/flux/dev,fal-ai/kling-video/v2.1/master/image-to-video",
    });
    await measure("search_docs", "search_docs", { query: "queue webhooks" });
    await measure("recommend_model", "recommend_model", { task: "create a 10s cinematic video" });
    await measure("run_model", "run_model", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "a red fox" },
    });
    const submitted = await measure("submit_job", "submit_job", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "a lighthouse at dusk" },
    });
    const requestId = String(submitted.request_id);
    await measure("check_job", "check_job", { request_id: requestId });
    fake.advanceTime(60_000);
    await measure("get_job_result", "get_job_result", { request_id: requestId });
    const video = await harness.call("submit_job", {
      endpoint_id: "fake/slow-video",
      input: { prompt: "waves" },
    });
    await measure("cancel_job", "cancel_job", {
      request_id: String((video.structuredContent as { request_id: string }).request_id),
    });
    await measure("upload_file", "upload_file", { data: PNG.toString("base64") });
    await measure("upload_file (prepare_upload)", "upload_file", {
      prepare_upload: true,
      file_size: 5_000_000,
      file_name: "clip.mp4",
    });
    const measured = new Set([...sizes.keys()].map((label) => label.split(" ")[0]));
    expect([...measured].sort()).toEqual([...TOOL_NAMES].sort());
  });
});
