// Closing stdin while a submit is in flight: the built bin over stdio, the fake of fal holding its
// answer to the submit. The paid job must never be left without a record: either fal answers
// within the shutdown grace and the ordinary record (with its request id) is written, or the
// process writes a SUBMIT_UNCONFIRMED record synchronously before it exits. Either way it exits.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { BIN, INITIALIZE, INITIALIZED, spawnRaw } from "../helpers/bin.js";

const KEY = "test-key-id:test-key-secret";
const ENDPOINT = "fal-ai/flux/dev";

let fake: FakeFal;
let root: string;

beforeAll(async () => {
  await fs.access(BIN.replace(/bin[/\\]fal-mcp\.js$/, "dist/index.cjs")).catch(() => {
    throw new Error("dist/ is missing: run `npm run build` first (npm test does it)");
  });
  fake = await startFakeFal();
});
afterEach(() => fake.reset());
afterAll(async () => {
  await fake.close();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

interface RecordFile {
  name: string;
  text: string;
  record: { status: string; request_id: string | null; endpoint_id: string; tool: string; note?: string };
}

async function records(stateDir: string): Promise<RecordFile[]> {
  const dir = path.join(stateDir, "jobs");
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith(".json"));
  return Promise.all(
    names.map(async (name) => {
      const text = await fs.readFile(path.join(dir, name), "utf8");
      return { name, text, record: JSON.parse(text) as RecordFile["record"] };
    }),
  );
}

/** Starts the bin, sends a submit_job, and resolves once the fake has received the POST. */
async function submitThenCloseStdin(delayMs: number) {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-shutdown-"));
  const stateDir = path.join(root, "state");
  fake.inject({
    host: "queue.fal.run",
    method: "POST",
    path: `/${ENDPOINT}`,
    times: 1,
    fault: { kind: "delay", ms: delayMs },
  });
  const server = spawnRaw({
    FAL_KEY: KEY,
    FAL_MCP_BASE_URL: fake.url,
    FAL_MCP_OUTPUT_DIR: path.join(root, "out"),
    FAL_MCP_STATE_DIR: stateDir,
    HOME: root,
    FAL_MCP_LOG_LEVEL: "info",
  });
  server.send(INITIALIZE);
  await server.response(0);
  server.send(INITIALIZED);
  server.send({
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: "submit_job", arguments: { endpoint_id: ENDPOINT, input: { prompt: "a paid fox" } } },
  });
  const sentBy = Date.now() + 15_000;
  while (!fake.requests.some((request) => request.method === "POST" && request.host === "queue.fal.run")) {
    if (Date.now() > sentBy) throw new Error(`the submit never reached the fake; stderr: ${server.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const closedAt = Date.now();
  server.child.stdin.end();
  const exit = await server.exited;
  return { server, stateDir, exit, tookMs: exit.at - closedAt };
}

describe("stdin closed while a submit is in flight (the built bin)", () => {
  it("fal's answer never comes in time: a SUBMIT_UNCONFIRMED record is written and the process exits", async () => {
    const { server, stateDir, exit, tookMs } = await submitThenCloseStdin(30_000);
    expect(exit.code).toBe(0);
    // The README's bound for stdin close (2 s): the grace for in-flight submits fits inside it.
    expect(tookMs).toBeLessThan(2_000);
    const written = await records(stateDir);
    expect(written.map((file) => file.record.status)).toEqual(["SUBMIT_UNCONFIRMED"]);
    expect(written[0]?.record).toMatchObject({ endpoint_id: ENDPOINT, tool: "submit_job", request_id: null });
    expect(written[0]?.record.note).toMatch(/shut down \(stdin closed\) while this submit was in flight/);
    expect(written[0]?.text).not.toContain(KEY);
    expect(server.stderr()).toMatch(/was in flight at shutdown; recorded in .*unconfirmed-/);
    // No temp file is left beside the record.
    const left = await fs.readdir(path.join(stateDir, "jobs"));
    expect(left.filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("fal answers within the grace: shutdown waits and the record carries fal's request id", async () => {
    const { stateDir, exit, tookMs } = await submitThenCloseStdin(400);
    expect(exit.code).toBe(0);
    expect(tookMs).toBeLessThan(2_000);
    const jobs = fake.jobsFor(ENDPOINT);
    expect(jobs).toHaveLength(1);
    const written = await records(stateDir);
    expect(written.map((file) => file.record.request_id)).toEqual([jobs[0]?.requestId]);
    expect(written[0]?.record.status).not.toBe("SUBMIT_UNCONFIRMED");
  });
});
