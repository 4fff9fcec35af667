// Claude Desktop hands the model a chat attachment as a path in its own sandbox
// (/mnt/user-data/uploads/…). Through a real client over stdio against the built bin: such a path,
// in upload_file or inside a model input, gets a message saying what to do, and nothing is sent.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { BIN, childEnv } from "../helpers/bin.js";
import { TEST_KEY, textOf } from "../helpers/harness.js";

let fake: FakeFal;
let root: string;
let client: Client;

beforeAll(async () => {
  fake = await startFakeFal();
  root = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-attach-"));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    env: childEnv({
      FAL_KEY: TEST_KEY,
      FAL_MCP_BASE_URL: fake.url,
      FAL_MCP_OUTPUT_DIR: path.join(root, "output"),
      FAL_MCP_STATE_DIR: path.join(root, "state"),
      HOME: root,
      FAL_MCP_LOG_LEVEL: "error",
    }),
    stderr: "pipe",
  });
  client = new Client({ name: "claude-ai", version: "0" });
  await client.connect(transport);
});
afterAll(async () => {
  await client.close();
  await fake.close();
  await fs.rm(root, { recursive: true, force: true });
});

const MESSAGE =
  /chat attachment inside Claude's own sandbox[\s\S]*Save the file on your computer and give its real path/;

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

describe("chat attachments (sandbox paths)", () => {
  it("upload_file with /mnt/user-data/uploads/… says to save the file and give its real path", async () => {
    for (const reference of [
      "/mnt/user-data/uploads/photo.png",
      "file:///mnt/user-data/uploads/photo%20one.jpg",
    ]) {
      const result = await call("upload_file", { path: reference });
      expect(result.isError, reference).toBe(true);
      expect(textOf(result)).toMatch(MESSAGE);
      expect(textOf(result)).toMatch(/drag it into a folder fal-mcp may read/);
    }
    expect(fake.requests.filter((request) => request.path.includes("storage"))).toEqual([]);
  });

  it("a sandbox path inside a run_model or submit_job input stops the call before the submit", async () => {
    for (const name of ["run_model", "submit_job"]) {
      const result = await call(name, {
        endpoint_id: "fal-ai/flux/dev",
        input: { prompt: "animate this", image_url: "/mnt/user-data/uploads/IMG_0042.HEIC" },
      });
      expect(result.isError, name).toBe(true);
      expect(textOf(result)).toMatch(MESSAGE);
      expect(textOf(result)).toContain("/mnt/user-data/uploads/IMG_0042.HEIC");
    }
    expect(fake.jobs.size).toBe(0);
  });

  it("other slash-led strings in an input are still passed on as written", async () => {
    const result = await call("run_model", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "/imagine a lighthouse" },
      save: false,
    });
    expect(result.isError, textOf(result)).toBeFalsy();
  });
});
