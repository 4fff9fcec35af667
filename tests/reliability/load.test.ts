// Concurrency and load: 100 concurrent tool calls (discovery, submit, check) through one stdio
// connection to the built server, and two server processes sharing one state folder submitting
// 50 jobs each. Afterwards every job fal has is in the record exactly once, and readable.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CallToolResultSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobStore } from "../../src/jobs/store.js";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { BIN, childEnv } from "../helpers/bin.js";
import { TEST_KEY, textOf } from "../helpers/harness.js";
import { inspectRecordFolder } from "./support.js";

let fake: FakeFal;
let root: string;
beforeAll(async () => {
  fake = await startFakeFal();
  root = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-load-"));
});
afterAll(async () => {
  await fake.close();
  await fs.rm(root, { recursive: true, force: true });
});

async function connect(
  stateDir: string,
): Promise<{ client: Client; close: () => Promise<void>; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    env: childEnv({
      FAL_KEY: TEST_KEY,
      FAL_MCP_BASE_URL: fake.url,
      FAL_MCP_STATE_DIR: stateDir,
      FAL_MCP_OUTPUT_DIR: path.join(root, "output"),
      HOME: root,
      FAL_MCP_LOG_LEVEL: "warning",
    }),
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: "load-test", version: "0" });
  await client.connect(transport);
  return { client, close: () => client.close(), stderr: () => stderr };
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args }, CallToolResultSchema, {
    timeout: 60_000,
  })) as CallToolResult;
}

function requestIdOf(result: CallToolResult): string {
  expect(result.isError, textOf(result)).toBeFalsy();
  return (result.structuredContent as { request_id: string }).request_id;
}

describe("concurrency and load", () => {
  it("100 concurrent mixed calls through one stdio connection all complete correctly; the record is consistent", async () => {
    fake.reset();
    const stateDir = path.join(root, "state-one");
    const server = await connect(stateDir);
    try {
      // Jobs to check, submitted beforehand.
      const earlier = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          call(server.client, "submit_job", { endpoint_id: "fake/echo", input: { prompt: `earlier ${i}` } }),
        ),
      );
      const earlierIds = earlier.map(requestIdOf);

      const started = Date.now();
      const calls: Promise<{ kind: string; result: CallToolResult; index: number }>[] = [];
      for (let i = 0; i < 100; i++) {
        const kind = [
          "search",
          "schema",
          "pricing",
          "docs",
          "recommend",
          "submit",
          "submit",
          "submit",
          "check",
          "check",
        ][i % 10]!;
        const run = async (): Promise<CallToolResult> => {
          switch (kind) {
            case "search":
              return call(server.client, "search_models", {
                query: ["flux", "video", "upscale", "speech"][i % 4],
                limit: 5,
              });
            case "schema":
              return call(server.client, "get_model_schema", {
                endpoint_id: i % 20 === 1 ? "fal-ai/flux/dev" : "fal-ai/flux/schnell",
              });
            case "pricing":
              return call(server.client, "get_pricing", {
                endpoint_ids: ["fal-ai/flux/dev", "fake/echo"],
                quantity: i,
              });
            case "docs":
              return call(server.client, "search_docs", { query: "queue" });
            case "recommend":
              return call(server.client, "recommend_model", { task: "a video of a cat", limit: 2 });
            case "submit":
              return call(server.client, "submit_job", {
                endpoint_id: "fake/echo",
                input: { prompt: `load ${i}` },
              });
            default:
              return i % 20 === 8
                ? call(server.client, "check_job", { request_id: earlierIds[i % earlierIds.length]! })
                : call(server.client, "get_job_result", {
                    request_id: earlierIds[i % earlierIds.length]!,
                    save: false,
                  });
          }
        };
        calls.push(run().then((result) => ({ kind, result, index: i })));
      }
      const outcomes = await Promise.all(calls);
      const elapsed = Date.now() - started;
      for (const { kind, result, index } of outcomes)
        expect(result.isError, `call ${index} (${kind}): ${textOf(result)}`).toBeFalsy();

      // Each submit created one job, with its own prompt; each check saw its own job.
      const submits = outcomes.filter((outcome) => outcome.kind === "submit");
      expect(submits).toHaveLength(30);
      const submitted = submits.map(({ result }) => requestIdOf(result));
      expect(new Set(submitted).size).toBe(30);
      expect(fake.jobs.size).toBe(40);
      for (const { result, index } of submits) {
        const job = fake.jobs.get(requestIdOf(result));
        expect(job?.input).toEqual({ prompt: `load ${index}` });
      }
      for (const { kind, result, index } of outcomes) {
        if (kind !== "check") continue;
        expect((result.structuredContent as { request_id: string }).request_id).toBe(
          earlierIds[index % earlierIds.length],
        );
      }

      const store = new JobStore(stateDir);
      const records = await store.list();
      expect(store.problems()).toEqual([]);
      expect(records.map((record) => record.request_id).sort()).toEqual([...fake.jobs.keys()].sort());
      const folder = await inspectRecordFolder(stateDir);
      expect(folder.unreadable).toEqual([]);
      expect(folder.temporaries).toEqual([]);
      // Checked results were kept in the record.
      const checkedResults = outcomes
        .filter((o) => o.kind === "check" && o.index % 20 !== 8)
        .map((o) => earlierIds[o.index % earlierIds.length]);
      for (const id of new Set(checkedResults)) {
        const record = records.find((r) => r.request_id === id);
        expect(record?.status).toBe("COMPLETED");
        expect(record?.output).toBeDefined();
      }
      process.stderr.write(`100 concurrent calls over one stdio connection: ${elapsed} ms\n`);
      expect(server.stderr()).not.toMatch(/unexpected error|unhandled/i);
    } finally {
      await server.close();
    }
  }, 90_000);

  it("two server processes sharing one state folder, 50 submits each, leave 100 readable records", async () => {
    fake.reset();
    const stateDir = path.join(root, "state-shared");
    const [a, b] = await Promise.all([connect(stateDir), connect(stateDir)]);
    try {
      const submitAll = (server: { client: Client }, tag: string) =>
        Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            call(server.client, "submit_job", {
              endpoint_id: "fake/echo",
              input: { prompt: `${tag} ${i}` },
            }).then(requestIdOf),
          ),
        );
      const [idsA, idsB] = await Promise.all([submitAll(a, "a"), submitAll(b, "b")]);
      // Both processes also update records the other one wrote (status reads of every job).
      await Promise.all([
        ...idsB.slice(0, 20).map((id) => call(a.client, "check_job", { request_id: id })),
        ...idsA.slice(0, 20).map((id) => call(b.client, "check_job", { request_id: id })),
      ]);

      expect(fake.jobs.size).toBe(100);
      const store = new JobStore(stateDir);
      const records = await store.list();
      expect(store.problems()).toEqual([]);
      expect(records).toHaveLength(100);
      expect(records.map((record) => record.request_id).sort()).toEqual([...idsA, ...idsB].sort());
      for (const record of records) {
        const job = fake.jobs.get(record.request_id ?? "");
        expect(record.endpoint_id).toBe("fake/echo");
        expect(record.input_summary).toEqual(job?.input);
      }
      const folder = await inspectRecordFolder(stateDir);
      expect(folder.records).toHaveLength(100);
      expect(folder.unreadable).toEqual([]);
      expect(folder.temporaries).toEqual([]);
      // Each process can check a job the other submitted, by request id alone.
      const crossed = await call(a.client, "check_job", { request_id: idsB[49]! });
      expect(crossed.isError, textOf(crossed)).toBeFalsy();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 90_000);
});
