import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as V1StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { BIN, childEnv, spawnRaw } from "../helpers/bin.js";
import { negotiation, TEST_KEY, textOf, type ClientEra } from "../helpers/harness.js";
import { TOOL_NAMES } from "../helpers/tool-names.js";

// Both protocol eras over stdio against the built bin, with the clients people use.

let fake: FakeFal;
let tempDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  fake = await startFakeFal();
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-eras-"));
  env = {
    FAL_KEY: TEST_KEY,
    FAL_MCP_BASE_URL: fake.url,
    HOME: path.join(tempDir, "home"),
    FAL_MCP_OUTPUT_DIR: path.join(tempDir, "output"),
    FAL_MCP_STATE_DIR: path.join(tempDir, "state"),
  };
  await fs.mkdir(env.HOME!, { recursive: true });
});

afterAll(async () => {
  await fake?.close();
  await fs.rm(tempDir, { recursive: true, force: true });
});

describe("both eras over stdio", () => {
  for (const era of ["legacy", "auto", "2026-07-28"] as const satisfies readonly ClientEra[]) {
    it(`a v2 client (${era}) lists every tool and runs a model`, async () => {
      const client = new Client(
        { name: "eras-test", version: "0.0.0" },
        { versionNegotiation: negotiation(era) },
      );
      const logs: unknown[] = [];
      client.setNotificationHandler(
        "notifications/message",
        (notification) => void logs.push(notification.params),
      );
      await client.connect(
        new StdioClientTransport({ command: process.execPath, args: [BIN], env: childEnv(env) }),
      );
      try {
        expect(client.getProtocolEra()).toBe(
          era === "2026-07-28" ? "modern" : era === "auto" ? "modern" : "legacy",
        );
        const { tools } = await client.listTools();
        expect(tools.map((tool) => tool.name)).toEqual(TOOL_NAMES);
        const run = await client.callTool({
          name: "run_model",
          arguments: { endpoint_id: "fake/instant", input: { prompt: "a fox" }, save: false },
        });
        expect(run.isError, textOf(run)).toBeFalsy();
        // Nobody asked for MCP logs (no logging/setLevel, no per-request log level): none came.
        expect(logs).toEqual([]);
      } finally {
        await client.close();
      }
    });
  }

  it("the v1 client (SDK 1.32) still works", async () => {
    const client = new V1Client({ name: "v1-test", version: "0.0.0" });
    await client.connect(
      new V1StdioClientTransport({ command: process.execPath, args: [BIN], env: childEnv(env) }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(TOOL_NAMES);
      const found = await client.callTool(
        { name: "search_models", arguments: { query: "flux", limit: 2 } },
        CallToolResultSchema,
      );
      expect(found.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });

  it("Claude Code's sequence: server/discover, then initialize, on the same process", async () => {
    const server = spawnRaw(env);
    try {
      server.send({
        jsonrpc: "2.0",
        id: 1,
        method: "server/discover",
        params: {
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": { name: "claude-code", version: "2.1.332" },
          },
        },
      });
      const discover = await server.response(1);
      expect((discover.result as { supportedVersions: string[] }).supportedVersions).toContain("2026-07-28");
      server.send({
        jsonrpc: "2.0",
        id: 2,
        method: "initialize",
        params: {
          protocolVersion: "2025-11-25",
          capabilities: { roots: { listChanged: true } },
          clientInfo: { name: "claude-code", version: "2.1.332" },
        },
      });
      const initialize = await server.response(2);
      expect((initialize.result as { protocolVersion: string }).protocolVersion).toBe("2025-11-25");
      server.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      server.send({ jsonrpc: "2.0", id: 3, method: "tools/list" });
      const list = await server.response(3);
      expect((list.result as { tools: { name: string }[] }).tools.map((tool) => tool.name)).toEqual(
        TOOL_NAMES,
      );
      // The full server learnt the client's roots capability: it asks for roots when a path needs them.
      server.send({
        jsonrpc: "2.0",
        id: 4,
        method: "tools/call",
        params: { name: "upload_file", arguments: { path: path.join(env.HOME!, "nothing.png") } },
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(server.stdoutLines.some((line) => line.includes('"method":"roots/list"'))).toBe(true);
      for (const line of server.stdoutLines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    } finally {
      server.child.stdin.end();
      await server.exited;
    }
  });

  it("2026-07-28: log notifications only for requests that carry a log level", async () => {
    const server = spawnRaw(env);
    const meta = (extra: Record<string, unknown> = {}) => ({
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientCapabilities": {},
      "io.modelcontextprotocol/clientInfo": { name: "raw", version: "0" },
      ...extra,
    });
    try {
      fake.setBehavior("fal-ai/flux/schnell", { queueMs: 100, runMs: 300, logs: ["Loading weights"] });
      const args = { endpoint_id: "fal-ai/flux/schnell", input: { prompt: "x" }, save: false };
      server.send({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "run_model", arguments: args, _meta: meta() },
      });
      await server.response(1);
      expect(server.stdoutLines.some((line) => line.includes("notifications/message"))).toBe(false);
      server.send({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: {
          name: "run_model",
          arguments: args,
          _meta: meta({ "io.modelcontextprotocol/logLevel": "debug" }),
        },
      });
      await server.response(2);
      expect(server.stdoutLines.some((line) => line.includes("notifications/message"))).toBe(true);
    } finally {
      server.child.stdin.end();
      await server.exited;
    }
  });
});
