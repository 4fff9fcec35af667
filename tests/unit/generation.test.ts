import { describe, expect, it } from "vitest";
import { generationHeaders, pollAfterSeconds, recipeOf } from "../../src/jobs/generation.js";

describe("generationHeaders", () => {
  it("maps fal's relay arguments to the documented headers", () => {
    expect(generationHeaders({ storePayload: true })).toEqual({});
    expect(generationHeaders({ storePayload: false })).toEqual({ "x-fal-store-io": "0" });
    const headers = generationHeaders({ storePayload: true, expirationSeconds: 3600 });
    expect(headers).toEqual({ "x-fal-object-lifecycle-preference": '{"expiration_duration_seconds":3600}' });
    expect(JSON.parse(headers["x-fal-object-lifecycle-preference"] ?? "")).toEqual({
      expiration_duration_seconds: 3600,
    });
  });
});

describe("recipeOf", () => {
  it("repeats the input, or omits it when no payload is to be kept or it is large", () => {
    const input = { prompt: "a red fox" };
    expect(recipeOf("fal-ai/flux/dev", input, true)).toEqual({ endpoint_id: "fal-ai/flux/dev", input });
    expect(recipeOf("fal-ai/flux/dev", input, false)).toEqual({
      endpoint_id: "fal-ai/flux/dev",
      input_omitted: true,
      reason: "store_payload_false",
    });
    expect(recipeOf("fal-ai/flux/dev", { prompt: "x".repeat(5000) }, true)).toEqual({
      endpoint_id: "fal-ai/flux/dev",
      input_omitted: true,
      reason: "too_large",
    });
  });
});

describe("pollAfterSeconds", () => {
  it("waits longer the further back a job is, within 2–60 s", () => {
    expect(pollAfterSeconds("IN_QUEUE", 0)).toBe(5);
    expect(pollAfterSeconds("IN_QUEUE", 3)).toBe(11);
    expect(pollAfterSeconds("IN_QUEUE", 500)).toBe(60);
    expect(pollAfterSeconds("IN_QUEUE", undefined)).toBe(5);
    expect(pollAfterSeconds("IN_PROGRESS", undefined)).toBe(10);
    expect(pollAfterSeconds("SOMETHING_NEW", undefined)).toBe(15);
  });
});
