import type { CallToolResult } from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, textOf, type Harness } from "../helpers/harness.js";

/**
 * fal's current job surface (fal-platform-api.md §15.3): the retention arguments as headers,
 * `recipe`, `poll_after_seconds` and the queue URLs in answers, and the URLs taken back by
 * check_job, get_job_result and cancel_job only when they name that job on fal's queue.
 */

interface JobAnswer {
  request_id: string;
  endpoint_id: string;
  status: string;
  poll_after_seconds?: number;
  status_url?: string;
  response_url?: string;
  cancel_url?: string;
  recipe?: { endpoint_id: string; input?: Record<string, unknown>; input_omitted?: true; reason?: string };
  files?: { path: string | null }[];
  cancel?: { outcome: string };
  next_step?: string;
}

let fake: FakeFal;
let harness: Harness;

beforeAll(async () => {
  fake = await startFakeFal();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  fake.reset();
  harness = await startHarness({ baseUrl: fake.url });
});
afterEach(async () => {
  await harness.close();
  expect(fake.errors).toEqual([]);
  expect(fake.authLeaks).toBe(0);
});

function answer(result: CallToolResult): JobAnswer {
  expect(result.isError, textOf(result)).toBeFalsy();
  return result.structuredContent as JobAnswer;
}

async function submit(
  extra: Record<string, unknown> = {},
  endpointId = "fake/slow-video",
): Promise<JobAnswer> {
  return answer(
    await harness.call("submit_job", { endpoint_id: endpointId, input: { prompt: "waves" }, ...extra }),
  );
}

describe("run_model and submit_job answers", () => {
  it("carry fal's recipe, the queue URLs and poll_after_seconds while pending", async () => {
    const job = await submit();
    expect(job.status).toBe("IN_QUEUE");
    expect(job.recipe).toEqual({ endpoint_id: "fake/slow-video", input: { prompt: "waves" } });
    expect(job.poll_after_seconds).toBeGreaterThanOrEqual(2);
    expect(job.poll_after_seconds).toBeLessThanOrEqual(60);
    const base = `https://queue.fal.run/fake/slow-video/requests/${job.request_id}`;
    expect(job).toMatchObject({
      status_url: `${base}/status`,
      response_url: base,
      cancel_url: `${base}/cancel`,
    });
    expect(job.next_step).toMatch(/check_job[\s\S]*get_job_result/);

    const ran = answer(
      await harness.call("run_model", { endpoint_id: "fake/instant", input: { prompt: "a fox" } }),
    );
    expect(ran.status).toBe("COMPLETED");
    expect(ran.recipe).toEqual({ endpoint_id: "fake/instant", input: { prompt: "a fox" } });
    expect(ran.poll_after_seconds).toBeUndefined();
  });

  it("send expiration_seconds as X-Fal-Object-Lifecycle-Preference and store_payload false as X-Fal-Store-IO: 0", async () => {
    const job = await submit({ expiration_seconds: 3600, store_payload: false });
    const headers = fake.jobs.get(job.request_id)?.headers ?? {};
    expect(JSON.parse(headers["x-fal-object-lifecycle-preference"] ?? "null")).toEqual({
      expiration_duration_seconds: 3600,
    });
    expect(headers["x-fal-store-io"]).toBe("0");
    expect(job.recipe).toEqual({
      endpoint_id: "fake/slow-video",
      input_omitted: true,
      reason: "store_payload_false",
    });

    const plain = await submit();
    const plainHeaders = fake.jobs.get(plain.request_id)?.headers ?? {};
    expect(plainHeaders["x-fal-object-lifecycle-preference"]).toBeUndefined();
    expect(plainHeaders["x-fal-store-io"]).toBeUndefined();
  });

  it("take their defaults from FAL_MCP_STORE_PAYLOAD and FAL_MCP_MEDIA_EXPIRATION_SECONDS, which a call overrides", async () => {
    const configured = await startHarness({
      baseUrl: fake.url,
      env: { FAL_MCP_STORE_PAYLOAD: "0", FAL_MCP_MEDIA_EXPIRATION_SECONDS: "86400" },
    });
    try {
      const job = answer(
        await configured.call("submit_job", { endpoint_id: "fake/slow-video", input: { prompt: "p" } }),
      );
      const headers = fake.jobs.get(job.request_id)?.headers ?? {};
      expect(headers["x-fal-store-io"]).toBe("0");
      expect(headers["x-fal-object-lifecycle-preference"]).toBe('{"expiration_duration_seconds":86400}');
      expect(job.recipe?.input_omitted).toBe(true);

      const overridden = answer(
        await configured.call("submit_job", {
          endpoint_id: "fake/slow-video",
          input: { prompt: "p" },
          store_payload: true,
          expiration_seconds: 60,
        }),
      );
      const again = fake.jobs.get(overridden.request_id)?.headers ?? {};
      expect(again["x-fal-store-io"]).toBeUndefined();
      expect(again["x-fal-object-lifecycle-preference"]).toBe('{"expiration_duration_seconds":60}');
    } finally {
      await configured.close();
    }
  });

  it("refuse an expiration_seconds that is not a positive whole number, sending nothing", async () => {
    for (const expiration_seconds of [0, -5, 1.5, "3600"]) {
      const result = await harness.call("submit_job", {
        endpoint_id: "fake/instant",
        input: { prompt: "p" },
        expiration_seconds,
      });
      expect(result.isError, String(expiration_seconds)).toBe(true);
      expect(textOf(result)).toMatch(/expiration_seconds/);
    }
    expect(fake.countRequests({ host: "queue.fal.run" })).toBe(0);
  });
});

describe("check_job, get_job_result and cancel_job with fal's URLs", () => {
  it("accept the URLs the submit answer gave, even without endpoint_id or a record", async () => {
    const job = await submit({}, "fake/instant");
    const status = answer(
      await harness.call("check_job", { request_id: job.request_id, status_url: job.status_url }),
    );
    expect(status.status).toBe("COMPLETED");
    expect(status.next_step).toMatch(/get_job_result/);
    const result = answer(
      await harness.call("get_job_result", { request_id: job.request_id, response_url: job.response_url }),
    );
    expect(result.status).toBe("COMPLETED");
    expect(result.files?.[0]?.path).toBeTruthy();

    const other = await submit();
    const cancelled = answer(
      await harness.call("cancel_job", { request_id: other.request_id, cancel_url: other.cancel_url }),
    );
    expect(cancelled.cancel?.outcome).toBe("CANCELLATION_REQUESTED");
  });

  it("refuse a URL that names another host or another job, before anything is sent", async () => {
    const job = await submit();
    const before = fake.countRequests();
    const cases: [string, Record<string, unknown>][] = [
      ["check_job", { status_url: `https://evil.example/fake/slow-video/requests/${job.request_id}/status` }],
      ["get_job_result", { response_url: `https://queue.fal.run/fake/slow-video/requests/someone-else` }],
      ["cancel_job", { cancel_url: `https://queue.fal.run/fake/other/requests/${job.request_id}/cancel` }],
      ["cancel_job", { cancel_url: job.status_url }],
    ];
    for (const [tool, args] of cases) {
      const result = await harness.call(tool, { request_id: job.request_id, ...args });
      expect(result.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(textOf(result)).toMatch(/(status|response|cancel)_url/);
    }
    expect(fake.countRequests()).toBe(before);
    expect(fake.jobs.get(job.request_id)?.cancelled).toBe(false);
  });

  it("get_job_result on a pending job says how long to wait, and cancels nothing", async () => {
    const job = await submit();
    const early = await harness.call("get_job_result", { request_id: job.request_id });
    expect(early.isError).toBe(true);
    expect(textOf(early)).toMatch(/not complete yet[\s\S]*Wait about \d+ s/);
    expect(fake.countRequests({ method: "PUT" })).toBe(0);
  });
});

describe("in HTTP mode (no job record, no local files)", () => {
  it("needs endpoint_id for the job tools, takes fal's URLs beside it, and uploads only url, data or prepared", async () => {
    const remote = await startHarness({ baseUrl: fake.url, mode: "http" });
    try {
      const job = answer(
        await remote.call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "p" } }),
      );
      expect(job.recipe).toEqual({ endpoint_id: "fake/instant", input: { prompt: "p" } });
      for (const tool of ["check_job", "get_job_result", "cancel_job"]) {
        const bare = await remote.call(tool, { request_id: job.request_id });
        expect(bare.isError, tool).toBe(true);
        expect(textOf(bare)).toMatch(/needs endpoint_id/);
      }
      const result = answer(
        await remote.call("get_job_result", {
          request_id: job.request_id,
          endpoint_id: "fake/instant",
          response_url: job.response_url,
        }),
      );
      expect(result.status).toBe("COMPLETED");
      expect(result.files?.every((file) => file.path === null)).toBe(true);
      const foreign = await remote.call("get_job_result", {
        request_id: job.request_id,
        endpoint_id: "fake/instant",
        response_url: `https://evil.example/fake/instant/requests/${job.request_id}`,
      });
      expect(foreign.isError).toBe(true);

      const local = await remote.call("upload_file", { path: "/etc/hosts" });
      expect(local.isError).toBe(true);
      expect(textOf(local)).toMatch(/HTTP server/);
      const data = await remote.call("upload_file", {
        data: Buffer.from("GIF89a\x01\x00\x01\x00").toString("base64"),
      });
      expect(data.isError, textOf(data)).toBeFalsy();
      const prepared = await remote.call("upload_file", {
        prepare_upload: true,
        file_size: 3,
        file_name: "a.txt",
      });
      expect(prepared.isError, textOf(prepared)).toBeFalsy();
    } finally {
      await remote.close();
    }
  });
});
