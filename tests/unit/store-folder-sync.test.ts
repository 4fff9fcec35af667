import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// Which record writes sync the folder: a new file needs it (its folder entry is what a crash
// could lose), replacing a durable record does not (the new file is fsynced before the rename,
// so a crash leaves the old record or the new one, both whole). The same rules whether the store
// writes through the thread pool or, when nothing else waits on the process, with blocking calls.
const syncedFolders = vi.hoisted(() => [] as string[]);
vi.mock("../../src/jobs/atomic-write.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/jobs/atomic-write.js")>();
  return {
    ...original,
    syncDirectory: async (directory: string) => {
      syncedFolders.push(directory);
      await original.syncDirectory(directory);
    },
    syncDirectoryBlocking: (directory: string) => {
      syncedFolders.push(directory);
      original.syncDirectoryBlocking(directory);
    },
  };
});
const { JobStore } = await import("../../src/jobs/store.js");

let stateDir: string;
beforeEach(async () => {
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-folder-sync-"));
  syncedFolders.length = 0;
});
afterEach(() => fs.rm(stateDir, { recursive: true, force: true }));

const entry = {
  requestId: "req-1",
  endpointId: "fal-ai/flux/dev",
  tool: "run_model",
  input: { prompt: "x" },
};

const modes = [
  { mode: "through the thread pool", writes: {} },
  { mode: "with blocking calls", writes: { mayBlock: () => true } },
];

describe.each(modes)("JobStore folder fsyncs, writing $mode", ({ writes }) => {
  it("a new record syncs its folder before create returns; an update of it does not", async () => {
    const store = new JobStore(stateDir, undefined, undefined, writes);
    await store.create(entry);
    expect(syncedFolders).toEqual([store.directory]);
    await store.update("req-1", { status: "COMPLETED", output: { ok: true } });
    expect(syncedFolders).toEqual([store.directory]);
    const onDisk = JSON.parse(await fs.readFile(path.join(store.directory, "req-1.json"), "utf8")) as {
      status: string;
      output: unknown;
    };
    expect(onDisk).toMatchObject({ status: "COMPLETED", output: { ok: true } });
  });

  it("an output kept in a new file beside the record syncs the folder before the record names it", async () => {
    const store = new JobStore(stateDir, undefined, undefined, writes);
    await store.create(entry);
    const large = { text: "x".repeat(300 * 1024) };
    const updated = await store.update("req-1", { status: "COMPLETED", output: large });
    expect(updated?.output_file).toBeTruthy();
    expect(syncedFolders).toEqual([store.directory, store.directory]);
    expect(await store.outputOf(updated!)).toEqual(large);
  });

  it("startCreate hands out the record at once and settles `written` only once it is on disk", async () => {
    const store = new JobStore(stateDir, undefined, undefined, writes);
    const { record, written } = store.startCreate(entry);
    expect(record.request_id).toBe("req-1");
    expect(syncedFolders).toEqual([]);
    await expect(written).resolves.toBe(record);
    expect(syncedFolders).toEqual([store.directory]);
    const lookup = await store.get("req-1");
    expect(lookup.kind).toBe("found");
  });
});
