import type { CallToolResult, Progress } from "@modelcontextprotocol/client";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, textOf, TEST_KEY, type Harness } from "../helpers/harness.js";
import type { ResultFile } from "../../src/files/media.js";

let fake: FakeFal;
let harness: Harness;
let logMessages: string[];

beforeAll(async () => {
  fake = await startFakeFal();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  fake.reset();
  // Switches are not part of reset(): put back the defaults each test relies on.
  fake.settings.resultRetentionMs = null;
  fake.settings.validateAtSubmit = false;
  logMessages = [];
  harness = await startHarness({
    baseUrl: fake.url,
    setupClient: (client) =>
      client.setNotificationHandler("notifications/message", (notification) => {
        logMessages.push(String(notification.params.data));
      }),
  });
});
afterEach(async () => {
  await harness.close();
  expect(fake.errors).toEqual([]);
  expect(fake.authLeaks).toBe(0);
});

type FileOut = ResultFile;
interface JobOut {
  request_id: string;
  endpoint_id: string;
  status: string;
  queue_position?: number | null;
  files?: FileOut[];
  output?: Record<string, unknown>;
  billable_units?: number | null;
  uploads?: { path: string; url: string; size: number; content_type: string }[];
  cancel?: { outcome: string; message: string };
  logs?: { message: string }[];
  recorded?: boolean;
}

function structured(result: CallToolResult): JobOut {
  expect(result.isError, textOf(result)).toBeFalsy();
  // The SDK client has already validated structuredContent against the advertised outputSchema.
  return result.structuredContent as JobOut;
}

async function recordOf(requestId: string): Promise<Record<string, unknown>> {
  return JSON.parse(
    await fs.readFile(path.join(harness.config.stateDir, "jobs", `${requestId}.json`), "utf8"),
  ) as Record<string, unknown>;
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

async function cdnBytes(url: string): Promise<Buffer> {
  const parsed = new URL(url);
  const response = await fetch(`${fake.url}/${parsed.host}${parsed.pathname}`);
  return Buffer.from(await response.arrayBuffer());
}

describe("run_model", () => {
  it("completes an image job inside the wait: file saved, inline preview, billed units, durable record", async () => {
    const result = await harness.call("run_model", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "a red fox in snow", image_size: "square" },
    });
    const out = structured(result);
    expect(out.status).toBe("COMPLETED");
    expect(out.endpoint_id).toBe("fal-ai/flux/dev");
    expect(fake.jobsFor("fal-ai/flux/dev")).toHaveLength(1);
    expect(fake.jobsFor("fal-ai/flux/dev")[0]?.requestId).toBe(out.request_id);
    // Submitted through the queue, never the sync endpoint.
    expect(fake.countRequests({ host: "fal.run" })).toBe(0);
    expect(fake.wrongRootRequests).toEqual([]);

    expect(out.files).toHaveLength(1);
    const file = out.files?.[0];
    expect(file).toMatchObject({ field: "images[0]", content_type: "image/png", error: null });
    expect(file?.path).toBeTruthy();
    const saved = await fs.readFile(file?.path ?? "");
    expect(path.dirname(file?.path ?? "")).toBe(harness.config.outputDir);
    expect(path.basename(file?.path ?? "")).toMatch(
      new RegExp(`^\\d{4}-\\d{2}-\\d{2}_fal-ai-flux-dev_${out.request_id.slice(0, 8)}_1\\.png$`),
    );
    expect(sha256(saved)).toBe(sha256(await cdnBytes(file?.url ?? "")));
    expect(file?.size).toBe(saved.length);
    expect(out.billable_units).toBeGreaterThan(0);
    expect(out.output).toMatchObject({ prompt: "a red fox in snow" });

    const image = result.content.find((block) => block.type === "image");
    expect(image).toMatchObject({ type: "image", mimeType: "image/png", data: saved.toString("base64") });
    expect(textOf(result)).toContain(file?.path ?? "");
    expect(textOf(result)).toContain(file?.url ?? "");

    const record = await recordOf(out.request_id);
    expect(record).toMatchObject({
      request_id: out.request_id,
      endpoint_id: "fal-ai/flux/dev",
      status: "COMPLETED",
      tool: "run_model",
    });
    expect((record.files as FileOut[])[0]?.path).toBe(file?.path);
    expect(JSON.stringify(record)).not.toContain(TEST_KEY);
  });

  it("sends progress in strictly increasing order and mirrors fal's log lines", async () => {
    fake.setBehavior("fal-ai/flux/schnell", {
      queueMs: 700,
      runMs: 1500,
      queuePosition: 2,
      logs: ["Loading weights", "Step 2/4", "Step 4/4"],
    });
    // MCP log notifications go out only once the client asked for them (logging/setLevel).
    await harness.client.setLoggingLevel("info");
    const seen: Progress[] = [];
    const result = await harness.call(
      "run_model",
      { endpoint_id: "fal-ai/flux/schnell", input: { prompt: "x" }, save: false },
      { onprogress: (progress) => seen.push(progress) },
    );
    expect(structured(result).status).toBe("COMPLETED");
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
    const messages = seen.map((progress) => progress.message ?? "");
    expect(messages.some((message) => message.startsWith("IN_QUEUE"))).toBe(true);
    const firstRunning = messages.findIndex((message) => message.startsWith("IN_PROGRESS"));
    expect(firstRunning).toBeGreaterThan(messages.findIndex((message) => message.startsWith("IN_QUEUE")));
    expect(logMessages.some((line) => line.includes("Loading weights"))).toBe(true);
    expect(logMessages.some((line) => line.includes("Step 4/4"))).toBe(true);
    // Each log line is mirrored once, not on every poll.
    expect(logMessages.filter((line) => line.includes("Loading weights"))).toHaveLength(1);
    // save: false: URLs only, nothing written.
    expect(structured(result).files?.[0]?.path).toBeNull();
    await expect(fs.readdir(harness.config.outputDir)).rejects.toThrow();
  });

  it("returns a long video job as IN_PROGRESS within wait_seconds; it keeps running and check_job later fetches and saves it", async () => {
    const started = Date.now();
    const result = await harness.call("run_model", {
      endpoint_id: "fal-ai/kling-video/v2.1/master/image-to-video",
      input: { prompt: "waves", image_url: "https://v3.fal.media/files/x/start.png" },
      wait_seconds: 1,
    });
    const elapsed = Date.now() - started;
    const out = structured(result);
    expect(elapsed).toBeLessThan(4000);
    expect(["IN_QUEUE", "IN_PROGRESS"]).toContain(out.status);
    expect(out.files).toBeUndefined();
    expect(textOf(result)).toContain("check_job");
    expect(textOf(result)).toContain(out.request_id);
    const job = fake.jobs.get(out.request_id);
    expect(job?.cancelled).toBe(false);
    expect(fake.countRequests({ method: "PUT" })).toBe(0);

    fake.advanceTime(60_000);
    const running = structured(await harness.call("check_job", { request_id: out.request_id, logs: true }));
    expect(running.status).toBe("IN_PROGRESS");
    expect(running.logs?.map((line) => line.message)).toContain("Loading model");

    const early = await harness.call("get_job_result", { request_id: out.request_id });
    expect(early.isError).toBe(true);
    expect(textOf(early)).toMatch(/not complete yet: it is IN_PROGRESS/);

    fake.advanceTime(5 * 60_000);
    const done = structured(await harness.call("check_job", { request_id: out.request_id }));
    expect(done.status).toBe("COMPLETED");
    const fetched = await harness.call("get_job_result", { request_id: out.request_id });
    const final = structured(fetched);
    expect(final.files).toHaveLength(1);
    expect(final.files?.[0]).toMatchObject({
      field: "video",
      content_type: "video/mp4",
      size: 256 * 1024,
      error: null,
    });
    const stat = await fs.stat(final.files?.[0]?.path ?? "");
    expect(stat.size).toBe(256 * 1024);
    expect(final.files?.[0]?.path).toMatch(/\.mp4$/);
    // Never an inline video.
    expect(fetched.content.some((block) => block.type !== "text")).toBe(false);
    expect(fake.jobsFor("fal-ai/kling-video/v2.1/master/image-to-video")).toHaveLength(1);
    expect(fake.wrongRootRequests).toEqual([]);

    // Fetching again reuses the record and the saved file: no second download.
    const cdnGets = fake.countRequests({ method: "GET", host: "v3.fal.media" });
    const again = structured(await harness.call("get_job_result", { request_id: out.request_id }));
    expect(again.files?.[0]?.path).toBe(final.files?.[0]?.path);
    expect(fake.countRequests({ method: "GET", host: "v3.fal.media" })).toBe(cdnGets);
  });

  it("leaves the fal job running when the call is cancelled", async () => {
    const controller = new AbortController();
    const call = harness.call(
      "run_model",
      { endpoint_id: "fake/slow-video", input: { prompt: "slow" }, wait_seconds: 30 },
      { signal: controller.signal },
    );
    await waitFor(() => fake.jobsFor("fake/slow-video").length === 1);
    await waitFor(() => fake.countRequests({ method: "GET", path: /\/status$/ }) >= 1);
    controller.abort();
    await expect(call).rejects.toThrow();
    const polls = fake.countRequests({ method: "GET", path: /\/status$/ });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // It stopped polling, cancelled nothing, and the job is still on record.
    expect(fake.countRequests({ method: "GET", path: /\/status$/ })).toBeLessThanOrEqual(polls + 1);
    expect(fake.countRequests({ method: "PUT" })).toBe(0);
    const job = fake.jobsFor("fake/slow-video")[0];
    expect(job?.cancelled).toBe(false);
    expect(job?.state).not.toBe("COMPLETED");
    const record = await recordOf(job?.requestId ?? "");
    expect(record.endpoint_id).toBe("fake/slow-video");
  });

  it("reports a job that failed on fal as an error with fal's reason and field, and records it", async () => {
    const result = await harness.call("run_model", {
      endpoint_id: "fake/fails",
      input: { prompt: "forbidden" },
    });
    expect(result.isError).toBe(true);
    const text = textOf(result);
    expect(text).toMatch(/failed/);
    expect(text).toContain("content_policy_violation");
    expect(text).toContain("flagged by a content checker");
    expect(text).toMatch(/- prompt: /);
    const job = fake.jobsFor("fake/fails")[0];
    expect(text).toContain(job?.requestId ?? "missing");
    const record = await recordOf(job?.requestId ?? "");
    expect(record.status).toBe("FAILED");
  });

  it("refuses a schema-invalid input before anything is sent, naming the field", async () => {
    const result = await harness.call("run_model", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "x", num_images: 0 },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/Not sent to fal/);
    expect(textOf(result)).toMatch(/- num_images: must be >= 1/);
    expect(textOf(result)).toMatch(/get_model_schema/);
    expect(fake.countRequests({ method: "POST", host: "queue.fal.run" })).toBe(0);
    expect(fake.countRequests({ host: "rest.fal.ai" })).toBe(0);
  });

  it("turns a 422 at submit into the field errors, with one POST (schema unreadable, so not checked first)", async () => {
    fake.settings.validateAtSubmit = true;
    fake.inject({ host: "api.fal.ai", path: "/v1/models", fault: { kind: "status", status: 500 } });
    fake.inject({ host: "fal.ai", fault: { kind: "status", status: 500 } });
    const result = await harness.call("run_model", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "x", num_images: 0 },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/num_images/);
    expect(textOf(result)).toMatch(/get_model_schema/);
    expect(fake.countRequests({ method: "POST", host: "queue.fal.run" })).toBe(1);
  });

  it("uploads a local file named in the input before the submit and reports it", async () => {
    const allowed = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-inputs-"));
    try {
      await fs.writeFile(path.join(allowed, "start.png"), Buffer.alloc(1234, 9));
      await harness.close();
      harness = await startHarness({ baseUrl: fake.url, env: { FAL_MCP_ALLOWED_DIRS: allowed } });
      const result = await harness.call("run_model", {
        endpoint_id: "fake/echo",
        input: { prompt: "p", image_url: path.join(allowed, "start.png") },
      });
      const out = structured(result);
      expect(out.uploads).toHaveLength(1);
      expect(out.uploads?.[0]).toMatchObject({ size: 1234 });
      const job = fake.jobsFor("fake/echo")[0];
      const sent = job?.input as { image_url?: string } | undefined;
      expect(sent?.image_url).toBe(out.uploads?.[0]?.url);
      expect(sent?.image_url).toMatch(/^https:\/\/v3\.fal\.media\//);
      expect(fake.uploads.get(sent?.image_url ?? "")?.size).toBe(1234);
      expect(textOf(result)).not.toContain(TEST_KEY);
    } finally {
      await fs.rm(allowed, { recursive: true, force: true });
    }
  });
});

describe("submit_job and check_job", () => {
  it("submits at once, records the job, and check_job needs only the request id, also from a new server", async () => {
    const submitted = await harness.call("submit_job", {
      endpoint_id: "fake/slow-video",
      input: { prompt: "p" },
    });
    const out = submitted.structuredContent as {
      request_id: string;
      status: string;
      queue_position: number | null;
      recorded: boolean;
    };
    expect(submitted.isError).toBeFalsy();
    expect(out).toMatchObject({ status: "IN_QUEUE", recorded: true });
    expect(fake.jobsFor("fake/slow-video").map((job) => job.requestId)).toEqual([out.request_id]);
    expect((await recordOf(out.request_id)).status).toBe("IN_QUEUE");

    // A second server on the same state folder (a restart) finds it by request id alone.
    const second = await startHarness({
      baseUrl: fake.url,
      env: { FAL_MCP_STATE_DIR: harness.config.stateDir },
    });
    try {
      fake.advanceTime(6 * 60_000);
      const result = await second.call("get_job_result", { request_id: out.request_id });
      const final = structured(result);
      expect(final.status).toBe("COMPLETED");
      expect(final.files?.[0]?.path).toBeTruthy();
      expect((await recordOf(out.request_id)).status).toBe("COMPLETED");
    } finally {
      await second.close();
    }
    expect(fake.jobsFor("fake/slow-video")).toHaveLength(1);
  });

  it("asks for endpoint_id only when the job is not on record", async () => {
    const missing = await harness.call("check_job", { request_id: "not-a-job" });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/no record of job not-a-job/);
    expect(textOf(missing)).toMatch(/endpoint_id/);
    expect(fake.countRequests({ host: "queue.fal.run" })).toBe(0);

    const unknown = await harness.call("check_job", { request_id: "not-a-job", endpoint_id: "fake/instant" });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/no job not-a-job/);

    // A job submitted elsewhere: found through endpoint_id, then kept in the record.
    const submitted = await harness.call("submit_job", {
      endpoint_id: "fake/instant",
      input: { prompt: "p" },
    });
    const requestId = (submitted.structuredContent as { request_id: string }).request_id;
    await fs.rm(path.join(harness.config.stateDir, "jobs", `${requestId}.json`));
    // check_job's deprecated action "result" still works for this release.
    const result = structured(
      await harness.call("check_job", {
        request_id: requestId,
        endpoint_id: "fake/instant",
        action: "result",
      }),
    );
    expect(result.files).toHaveLength(1);
    expect((await recordOf(requestId)).status).toBe("COMPLETED");
  });

  it("cancel_job reaches fal's cancel endpoint on the app root and reports fal's answer", async () => {
    const submitted = await harness.call("submit_job", {
      endpoint_id: "fal-ai/kling-video/v2.1/master/image-to-video",
      input: { prompt: "p", image_url: "https://v3.fal.media/files/x/a.png" },
    });
    const requestId = (submitted.structuredContent as { request_id: string }).request_id;
    const cancelled = structured(await harness.call("cancel_job", { request_id: requestId }));
    expect(cancelled.cancel?.outcome).toBe("CANCELLATION_REQUESTED");
    expect(
      fake.countRequests({
        method: "PUT",
        host: "queue.fal.run",
        path: `/fal-ai/kling-video/requests/${requestId}/cancel`,
      }),
    ).toBe(1);
    expect(fake.jobs.get(requestId)?.cancelled).toBe(true);
    expect(fake.wrongRootRequests).toEqual([]);

    const again = structured(await harness.call("cancel_job", { request_id: requestId }));
    expect(again.cancel?.outcome).toBe("ALREADY_COMPLETED");

    const result = await harness.call("get_job_result", { request_id: requestId });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/client_cancelled|cancelled/);

    const nothing = structured(
      await harness.call("cancel_job", { request_id: "ghost", endpoint_id: "fake/instant" }),
    );
    expect(nothing.cancel?.outcome).toBe("NOT_FOUND");
  });

  it('check_job never cancels: action "cancel" is refused with a pointer to cancel_job, and nothing is sent', async () => {
    const submitted = await harness.call("submit_job", {
      endpoint_id: "fake/slow-video",
      input: { prompt: "p" },
    });
    const requestId = (submitted.structuredContent as { request_id: string }).request_id;
    const refused = await harness.call("check_job", { request_id: requestId, action: "cancel" });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/cancel_job/);
    expect(fake.countRequests({ method: "PUT" })).toBe(0);
    expect(fake.jobs.get(requestId)?.cancelled).toBe(false);
  });

  it("status of a queued job shows its position, and a status check never cancels", async () => {
    fake.setBehavior("fake/slow-video", { queuePosition: 4 });
    const submitted = await harness.call("submit_job", {
      endpoint_id: "fake/slow-video",
      input: { prompt: "p" },
    });
    const requestId = (submitted.structuredContent as { request_id: string; queue_position: number | null })
      .request_id;
    const status = structured(await harness.call("check_job", { request_id: requestId }));
    expect(status.status).toBe("IN_QUEUE");
    expect(status.queue_position).toBeGreaterThan(0);
    expect(textOf(await harness.call("check_job", { request_id: requestId }))).toMatch(/queue position \d+/);
    expect(fake.countRequests({ method: "PUT" })).toBe(0);
  });
});

describe("results that fal deletes", () => {
  it("keeps the output from the first COMPLETED status, so the result still comes after fal's retention window", async () => {
    fake.settings.resultRetentionMs = 6 * 60_000;
    const submitted = structured(
      await harness.call("run_model", {
        endpoint_id: "fake/slow-video",
        input: { prompt: "p" },
        wait_seconds: 0,
      }),
    );
    expect(submitted.status).toBe("IN_QUEUE");
    expect(fake.countRequests({ method: "GET", path: /\/status$/ })).toBe(0);
    fake.advanceTime(5 * 60_000 + 5_000);
    expect(structured(await harness.call("check_job", { request_id: submitted.request_id })).status).toBe(
      "COMPLETED",
    );
    expect((await recordOf(submitted.request_id)).output).toMatchObject({
      video: { content_type: "video/mp4" },
    });

    fake.advanceTime(60 * 60_000);
    const resultGets = () =>
      fake.countRequests({ method: "GET", path: new RegExp(`/requests/${submitted.request_id}$`) });
    const before = resultGets();
    const late = structured(await harness.call("get_job_result", { request_id: submitted.request_id }));
    expect(late.files?.[0]?.path).toBeTruthy();
    expect(resultGets()).toBe(before);
  });

  it("says plainly when fal no longer has a result and there is no local copy", async () => {
    fake.settings.resultRetentionMs = 1000;
    const submitted = await harness.call("submit_job", {
      endpoint_id: "fake/instant",
      input: { prompt: "p" },
    });
    const requestId = (submitted.structuredContent as { request_id: string }).request_id;
    fake.advanceTime(10 * 60_000);
    const result = await harness.call("get_job_result", { request_id: requestId });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/no longer has/);
    expect(textOf(result)).toMatch(/6 minutes/);
  });
});

describe("exactly once", () => {
  it("a submit answered 503 is sent once, creates no second job, and is recorded as unconfirmed", async () => {
    fake.inject({ host: "queue.fal.run", method: "POST", times: 1, fault: { kind: "status", status: 503 } });
    const started = Date.now();
    const result = await harness.call("run_model", { endpoint_id: "fake/instant", input: { prompt: "p" } });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/may or may not have been created/);
    expect(textOf(result)).toMatch(/Do NOT resubmit blindly/);
    expect(fake.countRequests({ method: "POST", host: "queue.fal.run" })).toBe(1);
    expect(fake.jobsFor("fake/instant")).toHaveLength(0);
    const names = await fs.readdir(path.join(harness.config.stateDir, "jobs"));
    expect(names.filter((name) => name.startsWith("unconfirmed-"))).toHaveLength(1);
    const record = JSON.parse(
      await fs.readFile(path.join(harness.config.stateDir, "jobs", names[0] ?? ""), "utf8"),
    ) as Record<string, unknown>;
    expect(record).toMatchObject({
      status: "SUBMIT_UNCONFIRMED",
      request_id: null,
      endpoint_id: "fake/instant",
      input_summary: { prompt: "p" },
    });
  });

  it("a connection dropped after fal accepted the submit leaves exactly one job", async () => {
    fake.inject({ host: "queue.fal.run", method: "POST", times: 1, fault: { kind: "drop-after" } });
    const result = await harness.call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "p" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/may or may not have been created/);
    expect(fake.countRequests({ method: "POST", host: "queue.fal.run" })).toBe(1);
    expect(fake.jobsFor("fake/instant")).toHaveLength(1);
  });

  it("a 429 on submit is a rate-limit error, sent once and not recorded as a job", async () => {
    fake.inject({
      host: "queue.fal.run",
      method: "POST",
      times: 1,
      fault: { kind: "status", status: 429, body: { detail: "Too many requests" } },
    });
    const result = await harness.call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "p" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/rate limiting/);
    expect(fake.countRequests({ method: "POST", host: "queue.fal.run" })).toBe(1);
    await expect(fs.readdir(path.join(harness.config.stateDir, "jobs"))).rejects.toThrow();
  });

  it("status reads are retried through transient errors while waiting", async () => {
    fake.inject({
      host: "queue.fal.run",
      method: "GET",
      path: /\/status$/,
      times: 2,
      fault: { kind: "status", status: 503 },
    });
    const out = structured(
      await harness.call("run_model", { endpoint_id: "fake/instant", input: { prompt: "p" }, save: false }),
    );
    expect(out.status).toBe("COMPLETED");
    expect(fake.countRequests({ method: "GET", path: /\/status$/ })).toBeGreaterThanOrEqual(3);
    expect(fake.jobsFor("fake/instant")).toHaveLength(1);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
