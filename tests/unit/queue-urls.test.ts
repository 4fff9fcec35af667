import { describe, expect, it } from "vitest";
import { checkQueueUrl, queueUrls } from "../../src/fal/queue-urls.js";

const ID = "764cabcf-b745-4b3e-ae38-1200304cf45b";
const BASE = `https://queue.fal.run/fal-ai/flux/requests/${ID}`;

describe("queueUrls", () => {
  it("builds fal's app-root URLs, as the submit answer has them", () => {
    expect(queueUrls("fal-ai/flux/dev", ID)).toEqual({
      status_url: `${BASE}/status`,
      response_url: BASE,
      cancel_url: `${BASE}/cancel`,
    });
    expect(queueUrls("workflows/alice/flow/step", "r1").status_url).toBe(
      "https://queue.fal.run/workflows/alice/flow/requests/r1/status",
    );
  });
});

describe("checkQueueUrl", () => {
  const job = { requestId: ID, endpointId: "fal-ai/flux/dev" };

  it("accepts fal's own URLs for this job, in the app-root and the full-endpoint forms", () => {
    expect(checkQueueUrl(`${BASE}/status`, "status", job)).toEqual({ root: "fal-ai/flux" });
    expect(checkQueueUrl(`${BASE}/status?logs=1`, "status", job)).toEqual({ root: "fal-ai/flux" });
    expect(checkQueueUrl(BASE, "response", job)).toEqual({ root: "fal-ai/flux" });
    expect(checkQueueUrl(`${BASE}/response`, "response", job)).toEqual({ root: "fal-ai/flux" });
    expect(checkQueueUrl(`${BASE}/cancel`, "cancel", job)).toEqual({ root: "fal-ai/flux" });
    const full = `https://queue.fal.run/fal-ai/flux/dev/requests/${ID}/cancel`;
    expect(checkQueueUrl(full, "cancel", job)).toEqual({ root: "fal-ai/flux" });
    expect(checkQueueUrl(BASE, "response", { requestId: ID })).toEqual({ root: "fal-ai/flux" });
  });

  it("refuses any URL that would send the key somewhere else or name another job", () => {
    const refused: [string, "status" | "response" | "cancel", RegExp][] = [
      [`https://evil.example/fal-ai/flux/requests/${ID}`, "response", /not a https:\/\/queue\.fal\.run URL/],
      [`http://queue.fal.run/fal-ai/flux/requests/${ID}`, "response", /not a https/],
      [`https://queue.fal.run.evil.example/fal-ai/flux/requests/${ID}`, "response", /not a https/],
      [`https://queue.fal.run:8443/fal-ai/flux/requests/${ID}`, "response", /not a https/],
      [`https://user:pw@queue.fal.run/fal-ai/flux/requests/${ID}`, "response", /not a https/],
      [`https://queue.fal.run/fal-ai/flux/requests/other-id`, "response", /names request other-id/],
      [`https://queue.fal.run/fal-ai/other/requests/${ID}`, "response", /belongs to fal-ai\/other/],
      [`${BASE}/cancel`, "response", /not a response URL/],
      [`${BASE}/status`, "cancel", /not a cancel URL/],
      [`https://queue.fal.run/fal-ai/flux/dev`, "status", /not a job URL/],
      [`https://queue.fal.run/flux/requests/${ID}/status`, "status", /invalid endpoint path|belongs to/],
      ["not a url", "status", /not a URL/],
      ["file:///etc/passwd", "status", /not a https/],
    ];
    for (const [raw, kind, message] of refused) {
      expect(() => checkQueueUrl(raw, kind, job), raw).toThrow(message);
    }
    expect(() =>
      checkQueueUrl(`https://queue.fal.run/flux/requests/${ID}/status`, "status", { requestId: ID }),
    ).toThrow(/invalid endpoint path/);
  });

  it("says what to do instead", () => {
    try {
      checkQueueUrl("https://evil.example/x", "cancel", job);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/cancel_url/);
      expect((error as { nextStep?: string }).nextStep).toMatch(/Leave cancel_url out/);
    }
  });
});
