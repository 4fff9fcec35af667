import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, textOf, type Harness } from "../helpers/harness.js";

// Issue 11, paid results: after a submit, nothing local (a folder that cannot be written, a record
// that cannot be saved) may turn a paid job into an error without its request id, and a message
// says "recorded" only when the record was written.
let fake: FakeFal;
let harness: Harness | undefined;
let scratch: string;

beforeAll(async () => {
  fake = await startFakeFal();
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-paid-"));
});
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  fake.reset();
});
afterAll(async () => {
  await fake.close();
  await fs.rm(scratch, { recursive: true, force: true });
});

/** A path under a regular file: no folder can ever be created there (ENOTDIR), even as root. */
async function uncreatable(name: string): Promise<string> {
  const blocker = path.join(scratch, `${name}-is-a-file`);
  await fs.writeFile(blocker, "not a folder");
  return path.join(blocker, name);
}

describe("paid results survive local failures", () => {
  it("an output folder that cannot be created: the completed job stays a success with its request id, the file error says what to do", async () => {
    const outputDir = await uncreatable("output");
    harness = await startHarness({ baseUrl: fake.url, env: { FAL_MCP_OUTPUT_DIR: outputDir } });
    const result = await harness.call("run_model", {
      endpoint_id: "fake/instant",
      input: { prompt: "a paid fox" },
      wait_seconds: 20,
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    const out = result.structuredContent as {
      status: string;
      request_id: string;
      files: { path: string | null; error: string | null }[];
    };
    expect(out.status).toBe("COMPLETED");
    expect(fake.jobsFor("fake/instant").map((job) => job.requestId)).toEqual([out.request_id]);
    expect(out.files.length).toBeGreaterThan(0);
    for (const file of out.files) {
      expect(file.path).toBeNull();
      expect(file.error).toMatch(/output folder .* could not be created \(ENOTDIR\).*FAL_MCP_OUTPUT_DIR/);
    }
    expect(textOf(result)).toContain(out.request_id);
  });

  it("a result that cannot be read after the submit: the error names the job and says get_job_result, never run_model again", async () => {
    harness = await startHarness({ baseUrl: fake.url, env: { FAL_MCP_REQUEST_TIMEOUT_MS: "1500" } });
    // The job completes, but every read of its result fails (a 500 that retries do not cure).
    fake.inject({
      host: "queue.fal.run",
      method: "GET",
      path: /\/requests\/[^/]+$/,
      fault: { kind: "status", status: 500 },
    });
    const result = await harness.call("run_model", { endpoint_id: "fake/instant", input: { prompt: "x" } });
    expect(result.isError).toBe(true);
    const [job] = fake.jobsFor("fake/instant");
    const text = textOf(result);
    expect(text).toContain(`The job ${job?.requestId} (fake/instant) was submitted and is paid for`);
    expect(text).toMatch(
      /Next step: Do NOT call run_model again: that would pay for a second job\. Call get_job_result with request_id/,
    );
    // fal's own advice for a failed read ("try again … not billed") would pay twice here.
    expect(text).not.toMatch(/not billed|try again in a moment/i);
    expect(fake.jobsFor("fake/instant")).toHaveLength(1);
  });

  it("an unconfirmed submit says it was recorded only when the record was written", async () => {
    // The connection drops as the submit arrives (fal never makes the job, so its request
    // history cannot resolve the attempt): the outcome is unknown to fal-mcp.
    const dropSubmit = () =>
      fake.inject({
        host: "queue.fal.run",
        method: "POST",
        path: "/fake/instant",
        times: 1,
        fault: { kind: "drop-before" },
      });

    harness = await startHarness({ baseUrl: fake.url });
    dropSubmit();
    const recorded = await harness.call("submit_job", {
      endpoint_id: "fake/instant",
      input: { prompt: "x" },
    });
    expect(recorded.isError).toBe(true);
    expect(textOf(recorded)).toMatch(/recorded in fal-mcp's job record as .* \(status SUBMIT_UNCONFIRMED/);
    const jobsDir = path.join(harness.config.stateDir, "jobs");
    const names = (await fs.readdir(jobsDir)).filter((name) => name.startsWith("unconfirmed-"));
    expect(names).toHaveLength(1);
    await harness.close();

    // The record write fails (a read-only or full disk): injected at the store, so everything
    // before it (the money gate's ledger reads the same folder) works as usual.
    harness = await startHarness({ baseUrl: fake.url });
    vi.spyOn(harness.services.jobs, "recordUnconfirmed").mockRejectedValueOnce(
      Object.assign(new Error("EROFS: read-only file system"), { code: "EROFS" }),
    );
    dropSubmit();
    const unrecorded = await harness.call("submit_job", {
      endpoint_id: "fake/instant",
      input: { prompt: "x" },
    });
    expect(unrecorded.isError).toBe(true);
    const text = textOf(unrecorded);
    expect(text).not.toMatch(/was recorded|recorded in fal-mcp's job record as/);
    expect(text).not.toMatch(/stays in fal-mcp.s job record/);
    expect(text).toMatch(/could NOT be recorded \(EROFS: read-only file system\): keep this message/);
    expect(text).toMatch(/Do NOT resubmit blindly/);
  });
});
