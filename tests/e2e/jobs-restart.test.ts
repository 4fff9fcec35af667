import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CallToolResultSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { BIN } from "../helpers/bin.js";

/**
 * The durable job record across a crash: the built bin is killed with SIGKILL right after
 * submit_job returns, a new process on the same state folder finds the job by request id alone,
 * fetches it and saves its file. Needs `npm run build` first (npm test does it).
 */
const KEY = "test-key-id:test-key-secret";

let fake: FakeFal;
let tempDir: string;

beforeAll(async () => {
  await fs.access(path.resolve(path.dirname(BIN), "../dist/index.cjs")).catch(() => {
    throw new Error("dist/ is missing: run `npm run build` first (npm test does it)");
  });
  fake = await startFakeFal();
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-restart-"));
});

afterAll(async () => {
  await fake?.close();
  await fs.rm(tempDir, { recursive: true, force: true });
});

interface Running {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
}

async function startServer(): Promise<Running> {
  // The child does not inherit the environment: pass everything it needs explicitly.
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: path.join(tempDir, "home"),
      FAL_KEY: KEY,
      FAL_MCP_BASE_URL: fake.url,
      FAL_MCP_STATE_DIR: path.join(tempDir, "state"),
      FAL_MCP_OUTPUT_DIR: path.join(tempDir, "out"),
    },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const client = new Client({ name: "restart-test", version: "0.0.0" });
  await client.connect(transport);
  return { client, transport, stderr: () => stderr };
}

async function call(server: Running, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await server.client.callTool({ name, arguments: args }, CallToolResultSchema, {
    timeout: 30_000,
  })) as CallToolResult;
}

function text(result: CallToolResult): string {
  const block = result.content.find((item) => item.type === "text");
  return block?.type === "text" ? block.text : "";
}

describe("a job survives kill -9 of the server", () => {
  it("is found, fetched and saved by a new process from its request id alone", async () => {
    await fs.mkdir(path.join(tempDir, "home"), { recursive: true });
    const first = await startServer();
    const submitted = await call(first, "submit_job", {
      endpoint_id: "fake/slow-video",
      input: { prompt: "a glacier at dawn" },
    });
    expect(submitted.isError, text(submitted)).toBeFalsy();
    const requestId = (submitted.structuredContent as { request_id: string }).request_id;
    expect(fake.jobsFor("fake/slow-video").map((job) => job.requestId)).toEqual([requestId]);

    // No graceful shutdown: SIGKILL right after the answer.
    const pid = first.transport.pid;
    expect(pid).toBeTypeOf("number");
    process.kill(pid ?? 0, "SIGKILL");
    await first.client.close().catch(() => undefined);

    fake.advanceTime(6 * 60_000);
    const second = await startServer();
    try {
      const status = await call(second, "check_job", { request_id: requestId });
      expect(status.isError, text(status)).toBeFalsy();
      expect((status.structuredContent as { status: string; endpoint_id: string }).endpoint_id).toBe(
        "fake/slow-video",
      );
      const result = await call(second, "get_job_result", { request_id: requestId });
      expect(result.isError, text(result)).toBeFalsy();
      const files = (result.structuredContent as { files: { path: string | null; size: number | null }[] })
        .files;
      expect(files).toHaveLength(1);
      const saved = await fs.stat(files[0]?.path ?? "");
      expect(saved.size).toBe(files[0]?.size);
      expect(files[0]?.path?.startsWith(path.join(tempDir, "out"))).toBe(true);
      const record = JSON.parse(
        await fs.readFile(path.join(tempDir, "state", "jobs", `${requestId}.json`), "utf8"),
      ) as { status: string };
      expect(record.status).toBe("COMPLETED");
      // Still one job on fal: nothing was resubmitted.
      expect(fake.jobsFor("fake/slow-video")).toHaveLength(1);
      expect(second.stderr()).not.toContain(KEY);
    } finally {
      await second.client.close();
    }
  });
});
