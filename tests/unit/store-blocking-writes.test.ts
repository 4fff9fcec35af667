import { pbkdf2 } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JobStore } from "../../src/jobs/store.js";
import { CallCounter } from "../../src/util/call-counter.js";
import { captureLogger } from "../helpers/logger.js";
import { ownTempFilesLikeTheEntryPoint } from "../helpers/temp-owner.js";

// When nothing else waits on the process the store writes with blocking calls, not through the
// thread pool (whose round trips each wait for a turn of a busy event loop). Told apart here by
// the pool itself: with every pool thread busy, a blocking write finishes before any of that work,
// a pool write only after some of it (the pool's queue is first come, first served).

ownTempFilesLikeTheEntryPoint();

let stateDir: string;
beforeEach(async () => {
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-blocking-"));
});
afterEach(() => fs.rm(stateDir, { recursive: true, force: true }));

const entry = (requestId: string) => ({
  requestId,
  endpointId: "fal-ai/flux/dev",
  tool: "run_model",
  input: { prompt: "x" },
});

/**
 * Fills every thread of the pool (and more) with CPU work of at least ~40 ms each, and counts the
 * jobs done. `UV_THREADPOOL_SIZE` is read as libuv reads it (default 4).
 */
function occupyThreadPool(): { done(): number; finished: Promise<void> } {
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  let done = 0;
  const jobs = Array.from(
    { length: threads * 2 },
    () =>
      new Promise<void>((resolve, reject) =>
        pbkdf2("password", "salt", 200_000, 32, "sha256", (error) => {
          done += 1;
          if (error) reject(error);
          else resolve();
        }),
      ),
  );
  return { done: () => done, finished: Promise.all(jobs).then(() => undefined) };
}

async function onDisk(store: JobStore, requestId: string) {
  return JSON.parse(await fs.readFile(path.join(store.directory, `${requestId}.json`), "utf8")) as {
    request_id: string;
    status: string;
    output?: unknown;
  };
}

describe("JobStore blocking writes", () => {
  it("writes a new record and its update without the thread pool when mayBlock says so", async () => {
    const store = new JobStore(stateDir, undefined, undefined, { mayBlock: () => true });
    const pool = occupyThreadPool();
    await store.create(entry("req-1"));
    await store.update("req-1", { status: "COMPLETED", output: { ok: true } });
    expect(pool.done()).toBe(0);
    await pool.finished;
    expect(await onDisk(store, "req-1")).toMatchObject({ status: "COMPLETED", output: { ok: true } });
    expect(await fs.readdir(store.directory)).toEqual(["req-1.json"]); // no temp file left
  });

  it("goes through the thread pool without mayBlock, or when it says no", async () => {
    for (const store of [
      new JobStore(stateDir),
      new JobStore(path.join(stateDir, "b"), undefined, undefined, { mayBlock: () => false }),
    ]) {
      const pool = occupyThreadPool();
      await store.create(entry("req-2"));
      expect(pool.done()).toBeGreaterThan(0);
      await pool.finished;
      expect((await onDisk(store, "req-2")).request_id).toBe("req-2");
    }
  });

  it("asks again after letting the event loop turn: a call that arrived meanwhile keeps the pool", async () => {
    // Yes before the turn, no after it: another call arrived while the loop turned.
    const answers = [true, false];
    let asked = 0;
    const store = new JobStore(stateDir, undefined, undefined, { mayBlock: () => answers[asked++] ?? false });
    const pool = occupyThreadPool();
    await store.create(entry("req-3"));
    expect(asked).toBe(2);
    expect(pool.done()).toBeGreaterThan(0);
    await pool.finished;
    expect((await onDisk(store, "req-3")).request_id).toBe("req-3");
  });

  it("a blocking write slower than the limit ends blocking writes for good, and says so in the log", async () => {
    const lines: string[] = [];
    const store = new JobStore(stateDir, captureLogger(lines, "debug"), undefined, {
      mayBlock: () => true,
      blockingLimitMs: 0, // every write is slower than 0 ms
    });
    let pool = occupyThreadPool();
    await store.create(entry("req-4"));
    expect(pool.done()).toBe(0);
    await pool.finished;
    expect(lines.join("\n")).toMatch(/job record write took [\d.]+ ms .*thread pool from now on/);

    pool = occupyThreadPool();
    await store.update("req-4", { status: "COMPLETED", output: { ok: true } });
    expect(pool.done()).toBeGreaterThan(0);
    await pool.finished;
    expect(await onDisk(store, "req-4")).toMatchObject({ status: "COMPLETED", output: { ok: true } });
  });

  it("a failed blocking write rejects like a pool write and leaves no temp file", async () => {
    const store = new JobStore(stateDir, undefined, undefined, { mayBlock: () => true });
    await store.create(entry("req-5"));
    // A folder where the next temp file's rename target is: the rename fails.
    await fs.rm(path.join(store.directory, "req-5.json"));
    await fs.mkdir(path.join(store.directory, "req-5.json", "inside"), { recursive: true });
    await expect(store.create(entry("req-5"))).rejects.toThrow();
    const names = await fs.readdir(store.directory);
    expect(names.filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});

describe("CallCounter", () => {
  it("counts calls until each leaves, once", () => {
    const calls = new CallCounter();
    const first = calls.enter();
    const second = calls.enter();
    expect(calls.running).toBe(2);
    first();
    first();
    expect(calls.running).toBe(1);
    second();
    expect(calls.running).toBe(0);
  });
});
