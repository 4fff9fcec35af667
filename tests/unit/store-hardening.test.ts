import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ownTempFilesLikeTheEntryPoint } from "../helpers/temp-owner.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JobStore, recordFileName } from "../../src/jobs/store.js";
import { createRedactor } from "../../src/util/redact-deep.js";

const key = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:0123456789abcdef0123456789abcdef";
const secret = key.split(":")[1]!;
const redactor = createRedactor([key]);
let stateDir: string;

ownTempFilesLikeTheEntryPoint();

beforeEach(async () => {
  stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), "fal-mcp-store-"));
});
afterEach(() => fsp.rm(stateDir, { recursive: true, force: true }));

const allFiles = (dir: string): string[] =>
  fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));

describe("the job record and the key", () => {
  it("never names a file after a key-shaped or path-like request id", () => {
    expect(recordFileName(secret, redactor)).toMatch(/^h-[0-9a-f]{40}\.json$/);
    expect(recordFileName("../../etc/x", redactor)).toMatch(/^h-/);
    expect(recordFileName("764cabcf-b745-4b3e-ae38-1200304cf45b", redactor)).toBe(
      "764cabcf-b745-4b3e-ae38-1200304cf45b.json",
    );
  });

  it("redacts the key wherever fal echoed it before anything reaches the disk", async () => {
    const store = new JobStore(stateDir, undefined, redactor);
    await store.create({
      requestId: secret,
      endpointId: "fal-ai/x",
      tool: "run_model",
      input: { prompt: `use ${key}` },
    });
    await store.update(secret, {
      status: "COMPLETED",
      output: {
        debug: { authorization: `Key ${key}` },
        images: [{ url: `https://v3.fal.media/a.png?token=${encodeURIComponent(key)}` }],
      },
    });
    for (const file of allFiles(stateDir)) {
      expect(path.basename(file)).not.toContain(secret);
      expect(fs.readFileSync(file, "utf8")).not.toContain(secret);
    }
  });
});

describe("large outputs", () => {
  it("keeps an output over the inline limit in full in a file beside the record", async () => {
    const store = new JobStore(stateDir, undefined, redactor);
    await store.create({ requestId: "req-big", endpointId: "fal-ai/x", tool: "run_model", input: {} });
    const output = { text: "y".repeat(5 * 1024 * 1024) };
    const record = await store.update("req-big", { status: "COMPLETED", output });
    expect(record?.output).toBeUndefined();
    expect(record?.output_file).toMatch(/req-big\.output\.json$/);
    expect(await store.outputOf(record!)).toEqual(output);
    const found = await store.get("req-big");
    expect(found.kind === "found" && (await store.outputOf(found.record))).toEqual(output);
  });
});

describe("temporary files and shutdown", () => {
  it("a failed record write leaves no temp file behind", async () => {
    const store = new JobStore(stateDir, undefined, redactor);
    await store.create({ requestId: "req-1", endpointId: "fal-ai/x", tool: "run_model", input: {} });
    const temps = () => fs.readdirSync(path.join(stateDir, "jobs")).filter((name) => name.endsWith(".tmp"));
    const realOpen = fs.open.bind(fs) as (
      file: fs.PathLike,
      flags: fs.OpenMode,
      mode: fs.Mode,
      callback: (error: NodeJS.ErrnoException | null, fd: number) => void,
    ) => void;
    const failure = (code: string) => Object.assign(new Error(code), { code });
    // The failure comes after the temp file exists (a full disk while writing, an fsync error),
    // which is when a temp file can be left behind; and at the rename, for completeness. The
    // store writes through file descriptors with fs's callback calls, so they are injected there.
    for (const fail of ["writeFile", "sync", "rename"] as const) {
      const created: string[] = [];
      const open = vi.spyOn(fs, "open").mockImplementation(((
        file: fs.PathLike,
        flags: fs.OpenMode,
        mode: fs.Mode,
        callback: (error: NodeJS.ErrnoException | null, fd: number) => void,
      ) => {
        if (flags === "wx") created.push(String(file));
        realOpen(file, flags, mode, callback);
      }) as unknown as typeof fs.open);
      const failing = (code: string) =>
        ((...args: unknown[]) => (args.at(-1) as (error: Error) => void)(failure(code))) as never;
      const injected =
        fail === "writeFile"
          ? vi.spyOn(fs, "writeFile").mockImplementationOnce(failing("ENOSPC"))
          : fail === "sync"
            ? vi.spyOn(fs, "fsync").mockImplementationOnce(failing("EIO"))
            : vi.spyOn(fs, "rename").mockImplementationOnce(failing("EIO"));
      await expect(store.update("req-1", { status: "IN_PROGRESS" }), fail).rejects.toThrow(/ENOSPC|EIO/);
      open.mockRestore();
      injected.mockRestore();
      // The injected failure really hit a temp file of the store's…
      expect(
        created.map((file) => path.basename(file)),
        fail,
      ).toEqual([expect.stringMatching(/^\.req-1\.json\..*\.tmp$/)]);
      // …and it is gone.
      expect(temps(), fail).toEqual([]);
    }
    // The record itself is untouched by the failed writes.
    const found = await store.get("req-1");
    expect(found.kind === "found" && found.record.status).toBe("IN_QUEUE");
  });

  it("writes an unconfirmed record synchronously, with the request id when fal answered", () => {
    const store = new JobStore(stateDir, undefined, redactor);
    const withoutId = store.recordUnconfirmedSync({
      endpointId: "fal-ai/x",
      tool: "submit_job",
      input: { p: 1 },
      reason: "shutdown",
    });
    const withId = store.recordUnconfirmedSync({
      endpointId: "fal-ai/x",
      tool: "submit_job",
      input: {},
      requestId: "req-9",
      reason: "shutdown",
    });
    expect(JSON.parse(fs.readFileSync(withoutId!, "utf8"))).toMatchObject({
      status: "SUBMIT_UNCONFIRMED",
      request_id: null,
    });
    expect(JSON.parse(fs.readFileSync(withId!, "utf8"))).toMatchObject({ request_id: "req-9" });
  });

  it("sweeps temp files of writers that are gone at the first scan", async () => {
    fs.mkdirSync(path.join(stateDir, "jobs"), { recursive: true });
    const leftover = path.join(stateDir, "jobs", ".req-1.json.999999999.abcd.tmp");
    fs.writeFileSync(leftover, "");
    await new JobStore(stateDir).scanOnce();
    expect(fs.existsSync(leftover)).toBe(false);
  });
});
