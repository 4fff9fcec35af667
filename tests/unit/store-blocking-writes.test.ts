import { execFileSync } from "node:child_process";
import fsSync from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JobStore, MAX_BLOCKING_WRITE_CHARS } from "../../src/jobs/store.js";
import { captureLogger } from "../helpers/logger.js";
import { ownTempFilesLikeTheEntryPoint } from "../helpers/temp-owner.js";

// When nothing else waits on the process the store writes with blocking calls, not through the
// thread pool (whose round trips each wait for a turn of a busy event loop). Told apart here by
// the pool itself: with every pool thread held, a blocking write still finishes and a pool write
// waits until the threads are let go. No timing is measured: a held thread waits for a FIFO.

ownTempFilesLikeTheEntryPoint();

let stateDir: string;
const held: { release(): Promise<void> }[] = [];
beforeEach(async () => {
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-blocking-"));
});
afterEach(async () => {
  // A failed test must not leave the pool held for the next one.
  for (const pool of held.splice(0)) await pool.release();
  await fs.rm(stateDir, { recursive: true, force: true });
});

const entry = (requestId: string) => ({
  requestId,
  endpointId: "fal-ai/flux/dev",
  tool: "run_model",
  input: { prompt: "x" },
});

/**
 * Holds every thread of libuv's pool (`UV_THREADPOOL_SIZE`, default 4) in an open() of a FIFO for
 * reading, which waits until a writer opens it; the pool's queue is first come, first served, so
 * every fs call made after this waits too. `release` opens each FIFO as the writer.
 */
function holdThreadPool(): { release(): Promise<void> } {
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const dir = fsSync.mkdtempSync(path.join(os.tmpdir(), "fal-mcp-pool-"));
  const fifos = Array.from({ length: threads }, (_, i) => path.join(dir, `held-${i}`));
  for (const fifo of fifos) execFileSync("mkfifo", [fifo]);
  const readers = fifos.map(
    (fifo) =>
      new Promise<number>((resolve, reject) =>
        fsSync.open(fifo, "r", (error, fd) => (error ? reject(error) : resolve(fd))),
      ),
  );
  let released: Promise<void> | undefined;
  const pool = {
    release: () =>
      (released ??= (async () => {
        // O_RDWR never waits on Linux, and it is the writer each waiting reader needs.
        const writers = fifos.map((fifo) => fsSync.openSync(fifo, fsSync.constants.O_RDWR));
        for (const fd of await Promise.all(readers)) fsSync.closeSync(fd);
        for (const fd of writers) fsSync.closeSync(fd);
        fsSync.rmSync(dir, { recursive: true, force: true });
      })()),
  };
  held.push(pool);
  return pool;
}

/** Whether `promise` settles within `ms` (it goes on either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
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
    const pool = holdThreadPool();
    expect(await settlesWithin(store.create(entry("req-1")), 10_000)).toBe(true);
    const update = store.update("req-1", { status: "COMPLETED", output: { ok: true } });
    expect(await settlesWithin(update, 10_000)).toBe(true);
    await pool.release();
    expect(await onDisk(store, "req-1")).toMatchObject({ status: "COMPLETED", output: { ok: true } });
    expect(await fs.readdir(store.directory)).toEqual(["req-1.json"]); // no temp file left
  });

  it("goes through the thread pool without mayBlock, or when it says no", async () => {
    for (const store of [
      new JobStore(stateDir),
      new JobStore(path.join(stateDir, "b"), undefined, undefined, { mayBlock: () => false }),
    ]) {
      const pool = holdThreadPool();
      const written = store.create(entry("req-2"));
      expect(await settlesWithin(written, 300)).toBe(false);
      await pool.release();
      await written;
      expect((await onDisk(store, "req-2")).request_id).toBe("req-2");
    }
  });

  it("asks again after letting the event loop turn: a call that arrived meanwhile keeps the pool", async () => {
    // Yes before the turn, no after it: another call arrived while the loop turned.
    const answers = [true, false];
    let asked = 0;
    const store = new JobStore(stateDir, undefined, undefined, { mayBlock: () => answers[asked++] ?? false });
    const pool = holdThreadPool();
    const written = store.create(entry("req-3"));
    expect(await settlesWithin(written, 300)).toBe(false);
    expect(asked).toBe(2);
    await pool.release();
    await written;
    expect((await onDisk(store, "req-3")).request_id).toBe("req-3");
  });

  it("a blocking write slower than the limit ends blocking writes for good, and says so in the log", async () => {
    const lines: string[] = [];
    const store = new JobStore(stateDir, captureLogger(lines, "debug"), undefined, {
      mayBlock: () => true,
      blockingLimitMs: 0, // every write is slower than 0 ms
    });
    const pool = holdThreadPool();
    expect(await settlesWithin(store.create(entry("req-4")), 10_000)).toBe(true);
    expect(lines.join("\n")).toMatch(/job record write took [\d.]+ ms .*thread pool from now on/);
    const update = store.update("req-4", { status: "COMPLETED", output: { ok: true } });
    expect(await settlesWithin(update, 300)).toBe(false);
    await pool.release();
    await update;
    expect(await onDisk(store, "req-4")).toMatchObject({ status: "COMPLETED", output: { ok: true } });
  });

  it("a large record goes through the pool even when mayBlock says yes, and never trips the slow-disk limit", async () => {
    const lines: string[] = [];
    let allowed = false; // the record is created through the pool (it is remembered, not read back)
    const store = new JobStore(stateDir, captureLogger(lines, "debug"), undefined, {
      mayBlock: () => allowed,
      blockingLimitMs: 0, // any blocking write would trip it
    });
    await store.create(entry("req-6"));
    allowed = true;
    const large = { text: "x".repeat(MAX_BLOCKING_WRITE_CHARS + 1) };
    const pool = holdThreadPool();
    const update = store.update("req-6", { status: "COMPLETED", output: large });
    expect(await settlesWithin(update, 300)).toBe(false);
    await pool.release();
    const updated = await update;
    expect(updated?.output).toEqual(large);
    expect(lines.join("\n")).not.toMatch(/thread pool from now on/);
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
