// Crash safety: a process writing job records is killed with SIGKILL at random moments, again and
// again. Every record it reported as written must be readable afterwards, nothing may be left
// unreadable, and a record that is damaged anyway (a truncated last write by another tool, a bad
// disk) is set aside in quarantine with a warning, never dropped and never fatal.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobStore } from "../../src/jobs/store.js";
import { captureLogger } from "../helpers/logger.js";
import { inspectRecordFolder } from "./support.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const WRITER = path.join(here, "crash-writer.ts");
const KILLS = Number(process.env.CRASH_KILLS ?? 25);

let stateDir: string;
beforeAll(async () => {
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-crash-"));
});
afterAll(async () => {
  await fs.rm(stateDir, { recursive: true, force: true });
});

/** Starts the writer, lets it write for a random moment after its first record, then SIGKILLs it. */
async function writeAndKill(mode: "blocking" | "pool"): Promise<string[]> {
  const child = spawn(process.execPath, ["--import", "tsx", WRITER, stateDir, mode], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const created: string[] = [];
  let pending = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const firstWrite = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.startsWith("created ")) created.push(line.slice(8));
      }
      if (created.length > 0) resolve();
    });
    child.on("exit", () => reject(new Error(`writer exited before writing: ${stderr}`)));
  });
  await firstWrite;
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 120));
  const exited = new Promise((resolve) => child.on("close", resolve));
  child.kill("SIGKILL");
  await exited;
  return created;
}

describe("crash safety of the job record", () => {
  it(`SIGKILL during record writes (${KILLS} times, through the thread pool and with blocking calls) never leaves an unreadable record or loses a written one`, async () => {
    const written: string[] = [];
    for (let i = 0; i < KILLS; i++) written.push(...(await writeAndKill(i % 2 ? "blocking" : "pool")));
    expect(written.length).toBeGreaterThan(KILLS);

    // What a new process finds: every file either a readable record or a temporary the store ignores.
    const folder = await inspectRecordFolder(stateDir);
    expect(folder.unreadable).toEqual([]);
    expect(folder.quarantined).toEqual([]);
    const store = new JobStore(stateDir);
    const records = await store.list();
    expect(store.problems()).toEqual([]);
    const ids = new Set(records.map((record) => record.request_id));
    const lost = written.filter((id) => !ids.has(id));
    expect(lost, "records reported as written but missing").toEqual([]);
    for (const id of written) {
      const lookup = await store.get(id);
      expect(lookup.kind).toBe("found");
      if (lookup.kind === "found") expect(JSON.stringify(lookup.record)).not.toContain("must-not-be-kept");
    }

    // Temporaries of killed writes are harmless; old ones are cleaned up by the start-up scan.
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    for (const name of folder.temporaries) await fs.utimes(path.join(stateDir, "jobs", name), old, old);
    const fresh = new JobStore(stateDir);
    await fresh.scanOnce();
    expect((await inspectRecordFolder(stateDir)).temporaries).toEqual([]);
  }, 120_000);

  it("a truncated record is set aside in quarantine with a warning; the others stay readable", async () => {
    const store = new JobStore(stateDir);
    const before = await store.list();
    expect(before.length).toBeGreaterThan(0);
    const victim = before[0]!;
    const file = path.join(stateDir, "jobs", `${victim.request_id}.json`);
    const text = await fs.readFile(file, "utf8");
    await fs.writeFile(file, text.slice(0, Math.floor(text.length / 2)));
    await fs.writeFile(path.join(stateDir, "jobs", "empty-record.json"), "");

    const warnings: string[] = [];
    const reopened = new JobStore(stateDir, captureLogger(warnings));
    const problems = await reopened.scanOnce();
    const after = await reopened.list();
    expect(problems.map((problem) => path.basename(problem.file)).sort()).toEqual(
      [`${victim.request_id}.json`, "empty-record.json"].sort(),
    );
    for (const problem of problems) expect(problem.movedTo).toBeTruthy();
    expect(warnings.filter((line) => line.includes("warning") && line.includes("quarantine")).length).toBe(2);
    expect(after.length).toBe(before.length - 1);
    const folder = await inspectRecordFolder(stateDir);
    expect(folder.unreadable).toEqual([]);
    expect(folder.quarantined).toHaveLength(2);
    // Kept, not dropped: the damaged bytes are still there to recover by hand.
    const kept = await fs.readFile(
      path.join(
        stateDir,
        "jobs",
        "quarantine",
        folder.quarantined.find((name) => name.startsWith(victim.request_id ?? "")) ?? "",
      ),
      "utf8",
    );
    expect(kept).toBe(text.slice(0, Math.floor(text.length / 2)));
  });
});
