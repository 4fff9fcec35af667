import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ownTempFilesLikeTheEntryPoint } from "../helpers/temp-owner.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { summarizeInput } from "../../src/jobs/input-summary.js";
import { JOB_RECORD_VERSION, JobStore, recordFileName } from "../../src/jobs/store.js";
import type { Logger } from "../../src/util/log.js";
import { captureLogger } from "../helpers/logger.js";

let stateDir: string;
let logLines: string[];
let logger: Logger;

ownTempFilesLikeTheEntryPoint();

beforeEach(async () => {
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-jobs-"));
  logLines = [];
  logger = captureLogger(logLines);
});

afterEach(async () => {
  await fs.rm(stateDir, { recursive: true, force: true });
});

const jobsDir = () => path.join(stateDir, "jobs");

describe("JobStore", () => {
  it("recordsSince: only jobs submitted since then, however recently their file was touched", async () => {
    const store = new JobStore(stateDir, logger);
    const job = (requestId: string) =>
      store.create({
        requestId,
        endpointId: "fal-ai/flux/dev",
        tool: "submit_job",
        input: { prompt: requestId },
      });
    await job("old");
    await job("recent");
    // "old" was submitted 60 hours ago and not touched since.
    const oldFile = path.join(jobsDir(), "old.json");
    const longAgo = new Date(Date.now() - 60 * 3600_000);
    const record = JSON.parse(await fs.readFile(oldFile, "utf8")) as Record<string, unknown>;
    await fs.writeFile(oldFile, JSON.stringify({ ...record, submitted_at: longAgo.toISOString() }));
    await fs.utimes(oldFile, longAgo, longAgo);
    const since = new Date(Date.now() - 50 * 3600_000);
    expect((await store.recordsSince(since)).map((found) => found.request_id)).toEqual(["recent"]);
    // A late status update makes its file fresh: its job was still submitted long ago.
    await store.update("old", { status: "COMPLETED" });
    await job("newest");
    expect((await store.recordsSince(since)).map((found) => found.request_id).sort()).toEqual([
      "newest",
      "recent",
    ]);
    expect((await store.recordsSince(since)).map((found) => found.request_id).sort()).toEqual([
      "newest",
      "recent",
    ]);
  });

  it("writes one JSON file per job and reads it back by request id", async () => {
    const store = new JobStore(stateDir, logger);
    await store.create({
      requestId: "req-1",
      endpointId: "fal-ai/flux/dev",
      tool: "run_model",
      input: { prompt: "a fox", num_images: 2 },
      uploads: [
        {
          path: "/home/me/a.png",
          url: "https://v3.fal.media/files/a.png",
          size: 10,
          content_type: "image/png",
        },
      ],
      queuePosition: 3,
    });
    expect(await fs.readdir(jobsDir())).toEqual(["req-1.json"]);
    const onDisk = JSON.parse(await fs.readFile(path.join(jobsDir(), "req-1.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(onDisk.version).toBe(JOB_RECORD_VERSION);
    const found = await store.get("req-1");
    expect(found.kind).toBe("found");
    if (found.kind !== "found") return;
    expect(found.record).toMatchObject({
      request_id: "req-1",
      endpoint_id: "fal-ai/flux/dev",
      tool: "run_model",
      status: "IN_QUEUE",
      queue_position: 3,
      input_summary: { prompt: "a fox", num_images: 2 },
      uploads: [
        {
          path: "/home/me/a.png",
          url: "https://v3.fal.media/files/a.png",
          size: 10,
          content_type: "image/png",
        },
      ],
    });
    expect(Date.parse(found.record.submitted_at)).not.toBeNaN();
    expect(await store.get("other")).toEqual({ kind: "missing" });
  });

  it("updates replace the whole record, keep earlier fields and leave no temporary files", async () => {
    const store = new JobStore(stateDir, logger);
    await store.create({
      requestId: "req-2",
      endpointId: "fal-ai/flux/dev",
      tool: "submit_job",
      input: { prompt: "x" },
    });
    await store.update("req-2", { status: "IN_PROGRESS" });
    const updated = await store.update("req-2", {
      status: "COMPLETED",
      output: { images: [{ url: "https://v3.fal.media/files/x.png" }] },
      billable_units: 1,
    });
    expect(updated).toMatchObject({
      status: "COMPLETED",
      billable_units: 1,
      endpoint_id: "fal-ai/flux/dev",
      input_summary: { prompt: "x" },
    });
    const again = await new JobStore(stateDir, logger).get("req-2");
    expect(again.kind === "found" && again.record.output).toEqual({
      images: [{ url: "https://v3.fal.media/files/x.png" }],
    });
    expect((await fs.readdir(jobsDir())).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    expect(await store.update("never-submitted", { status: "COMPLETED" })).toBeUndefined();
  });

  it("keeps a huge output in full in a file beside the record, not inline (never dropped)", async () => {
    const store = new JobStore(stateDir, logger);
    await store.create({ requestId: "big", endpointId: "fal-ai/flux/dev", tool: "run_model", input: {} });
    const updated = await store.update("big", {
      status: "COMPLETED",
      output: { text: "x".repeat(5 * 1024 * 1024) },
    });
    expect(updated?.output).toBeUndefined();
    expect(updated?.output_file).toBe(path.join(jobsDir(), "big.output.json"));
    expect(await store.outputOf(updated!)).toEqual({ text: "x".repeat(5 * 1024 * 1024) });
  });

  it("moves a corrupt record aside into quarantine, reports it, and keeps its bytes", async () => {
    const store = new JobStore(stateDir, logger);
    await fs.mkdir(jobsDir(), { recursive: true });
    await fs.writeFile(path.join(jobsDir(), "broken.json"), '{"version": 1, "request_id": "bro');
    const found = await store.get("broken");
    expect(found.kind).toBe("unreadable");
    if (found.kind !== "unreadable") return;
    expect(found.reason).toMatch(/not valid JSON/);
    expect(found.movedTo).toBeDefined();
    expect(path.dirname(found.movedTo ?? "")).toBe(path.join(jobsDir(), "quarantine"));
    expect(await fs.readFile(found.movedTo ?? "", "utf8")).toBe('{"version": 1, "request_id": "bro');
    await expect(fs.stat(path.join(jobsDir(), "broken.json"))).rejects.toThrow();
    expect(store.problems()).toHaveLength(1);
    expect(logLines.some((line) => line.includes("broken.json") && line.includes("kept aside"))).toBe(true);
  });

  it("quarantines a record with the wrong shape too", async () => {
    const store = new JobStore(stateDir, logger);
    await fs.mkdir(jobsDir(), { recursive: true });
    await fs.writeFile(path.join(jobsDir(), "shape.json"), JSON.stringify({ version: 1, request_id: 42 }));
    const found = await store.get("shape");
    expect(found.kind === "unreadable" && found.reason).toMatch(/shape of a job record/);
    expect(await fs.readdir(path.join(jobsDir(), "quarantine"))).toHaveLength(1);
  });

  it("leaves a record from a newer fal-mcp in place, reports it and never overwrites it", async () => {
    const store = new JobStore(stateDir, logger);
    await fs.mkdir(jobsDir(), { recursive: true });
    const newer = JSON.stringify({ version: JOB_RECORD_VERSION + 1, request_id: "future", something: "new" });
    await fs.writeFile(path.join(jobsDir(), "future.json"), newer);
    const found = await store.get("future");
    expect(found.kind === "unreadable" && found.reason).toMatch(/newer fal-mcp/);
    expect(await store.update("future", { status: "COMPLETED" })).toBeUndefined();
    await expect(
      store.create({ requestId: "future", endpointId: "a/b", tool: "run_model", input: {} }),
    ).rejects.toThrow(/newer fal-mcp/);
    expect(await fs.readFile(path.join(jobsDir(), "future.json"), "utf8")).toBe(newer);
    expect(store.problems().map((problem) => problem.movedTo)).toEqual([undefined]);
  });

  it("records an unconfirmed submit without a request id, and lists it", async () => {
    const store = new JobStore(stateDir, logger);
    const record = await store.recordUnconfirmed({
      endpointId: "fal-ai/flux/dev",
      tool: "run_model",
      input: { prompt: "p" },
      reason: "HTTP 503",
    });
    expect(record).toMatchObject({ request_id: null, status: "SUBMIT_UNCONFIRMED", note: "HTTP 503" });
    const names = await fs.readdir(jobsDir());
    expect(names).toEqual([`unconfirmed-${record.attempt_id}.json`]);
    const listed = await store.list();
    expect(listed.map((entry) => entry.status)).toEqual(["SUBMIT_UNCONFIRMED"]);
  });

  it("scanOnce quarantines corrupt records and removes stale temporary files from a crash", async () => {
    const store = new JobStore(stateDir, logger);
    await store.create({ requestId: "good", endpointId: "a/b", tool: "run_model", input: {} });
    await fs.writeFile(path.join(jobsDir(), "bad.json"), "not json");
    const stale = path.join(jobsDir(), ".good.json.123.abc.tmp");
    // A temp file whose writer (named by pid) is still running is left alone.
    const fresh = path.join(jobsDir(), `.good.json.${process.ppid}.def.tmp`);
    await fs.writeFile(stale, "{");
    await fs.writeFile(fresh, "{");
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await fs.utimes(stale, old, old);
    const problems = await store.scanOnce();
    expect(problems.map((problem) => path.basename(problem.file))).toEqual(["bad.json"]);
    await expect(fs.stat(stale)).rejects.toThrow();
    await fs.stat(fresh);
    expect(await store.scanOnce()).toBe(problems);
    expect((await store.list()).map((record) => record.request_id)).toEqual(["good"]);
  });

  it("an update builds on what is on disk: another writer's record, a newer one, an edit in place", async () => {
    const ours = new JobStore(stateDir, logger);
    const other = new JobStore(stateDir, logger);
    const file = path.join(jobsDir(), "kept.json");
    await ours.create({ requestId: "kept", endpointId: "a/b", tool: "run_model", input: {} });
    // Another server replaces the record (a new file renamed over it): ours sees its note.
    await other.update("kept", { note: "from the other server" });
    expect(await ours.update("kept", { status: "IN_PROGRESS" })).toMatchObject({
      status: "IN_PROGRESS",
      note: "from the other server",
    });
    // Edited in place (same inode), longer: the edit is read, not what this process wrote.
    const onDisk = JSON.parse(await fs.readFile(file, "utf8")) as Record<string, unknown>;
    await fs.writeFile(file, JSON.stringify({ ...onDisk, note: "edited by hand, in place" }, null, 2));
    expect(await ours.update("kept", { billable_units: 2 })).toMatchObject({
      note: "edited by hand, in place",
      billable_units: 2,
    });
    // Replaced by a newer fal-mcp's record: never overwritten.
    const newer = JSON.stringify({ version: JOB_RECORD_VERSION + 1, request_id: "kept" });
    await fs.writeFile(`${file}.new`, newer);
    await fs.rename(`${file}.new`, file);
    expect(await ours.update("kept", { status: "COMPLETED" })).toBeUndefined();
    expect(await fs.readFile(file, "utf8")).toBe(newer);
  });

  it("two stores racing on the same folder never leave a torn or unreadable record", async () => {
    const first = new JobStore(stateDir, logger);
    const second = new JobStore(stateDir, logger);
    await first.create({ requestId: "shared", endpointId: "a/b", tool: "run_model", input: {} });
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      writes.push(first.update("shared", { status: `A${i}` }));
      writes.push(second.update("shared", { status: `B${i}` }));
      writes.push(
        second.create({ requestId: `own-${i}`, endpointId: "a/b", tool: "submit_job", input: { i } }),
      );
    }
    await Promise.all(writes);
    const found = await first.get("shared");
    expect(found.kind).toBe("found");
    expect(found.kind === "found" && /^[AB]\d+$/.test(found.record.status)).toBe(true);
    expect(await first.list()).toHaveLength(41);
    expect(first.problems()).toEqual([]);
    expect((await fs.readdir(jobsDir())).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});

describe("recordFileName", () => {
  it("uses plain request ids as they are and hashes anything else, so no id escapes the folder", () => {
    expect(recordFileName("764cabcf-b745-4b3e-ae38-1200304cf45b")).toBe(
      "764cabcf-b745-4b3e-ae38-1200304cf45b.json",
    );
    for (const id of ["../../etc/passwd", "a/b", ".hidden", "x".repeat(300), "C:\\x"]) {
      const name = recordFileName(id);
      expect(name).toMatch(/^h-[0-9a-f]{40}\.json$/);
    }
    expect(recordFileName("a/b")).not.toBe(recordFileName("a\\b"));
  });
});

describe("summarizeInput", () => {
  it("masks secrets, replaces data URIs, cuts long strings and trims big collections", () => {
    const summary = summarizeInput({
      prompt: "p".repeat(1000),
      image_url: `data:image/png;base64,${"A".repeat(4000)}`,
      api_key: "sk-very-secret",
      nested: { hf_token: "hf_secret", auth: "xyz", max_tokens: 5 },
      list: Array.from({ length: 30 }, (_, i) => i),
      ok: true,
      none: null,
    });
    const text = JSON.stringify(summary);
    expect(text).not.toContain("sk-very-secret");
    expect(text).not.toContain("hf_secret");
    expect(text).not.toContain("AAAAAAAA");
    expect(summary).toMatchObject({
      image_url: "<data URI, image/png, about 3000 bytes>",
      api_key: "<redacted>",
      nested: { hf_token: "<redacted>", auth: "<redacted>", max_tokens: 5 },
      ok: true,
      none: null,
    });
    const record = summary as { prompt: string; list: unknown[] };
    expect(record.prompt).toHaveLength(300 + "…<700 more characters>".length);
    expect(record.list).toHaveLength(21);
    expect(record.list[20]).toBe("<10 more items>");
  });
});
