// The built bin's fast start (src/boot.ts + src/fast-front.ts): its handshake answers must be the
// bytes the real server writes (these tests fail the day they drift: a new tool, a changed
// description, an SDK upgrade without a rebuild), and the handover to the full server must keep
// everything a real client relies on working over real stdio: roots, progress, logging, pipelined
// requests, exits.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CallToolResultSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  type CallToolResult,
  type Progress,
} from "@modelcontextprotocol/sdk/types.js";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { BIN, childEnv, spawnRaw, type RawServer } from "../helpers/bin.js";
import { initializeRequest, referenceAnswers } from "../helpers/handshake.js";

const KEY = "test-key-id:test-key-secret";
let fake: FakeFal;
let tempDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  fake = await startFakeFal();
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-front-"));
  await fs.mkdir(path.join(tempDir, "home"));
  env = {
    FAL_KEY: KEY,
    FAL_MCP_BASE_URL: fake.url,
    FAL_MCP_OUTPUT_DIR: path.join(tempDir, "out"),
    FAL_MCP_STATE_DIR: path.join(tempDir, "state"),
    HOME: path.join(tempDir, "home"),
    FAL_MCP_LOG_LEVEL: "debug",
  };
});
afterAll(async () => {
  await fake?.close();
  await fs.rm(tempDir, { recursive: true, force: true });
});

const INITIALIZED = { jsonrpc: "2.0", method: "notifications/initialized" };
const waitFor = async (check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** Runs `messages` through the bin; resolves with its stdout lines (newline included) once `lastId` is answered, and its stderr. */
async function handshake(
  messages: Record<string, unknown>[],
  lastId: number | string,
): Promise<{ lines: string[]; stderr: string }> {
  const server = spawnRaw(env);
  const answered = server.response(lastId);
  for (const message of messages) server.send(message);
  await answered;
  const lines = server.stdoutLines.map((line) => line + "\n");
  server.child.stdin.end();
  await server.exited;
  return { lines, stderr: server.stderr() };
}

/** The same through the full program alone (dist/server.cjs, no front). */
async function fullServerHandshake(messages: Record<string, unknown>[]): Promise<string> {
  const child = spawn(process.execPath, [path.join(path.dirname(BIN), "../dist/server.cjs")], {
    env: childEnv({ ...env, FAL_MCP_LOG_LEVEL: "error" }),
  });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stdin.write(messages.map((m) => JSON.stringify(m) + "\n").join(""));
  await waitFor(
    () => stdout.split("\n").length > messages.filter((m) => m.id !== undefined).length,
    "the full server's answers",
  );
  child.stdin.end();
  await new Promise((resolve) => child.on("close", resolve));
  return stdout;
}

/**
 * The in-memory server's answers, with the one thing only the build sets: the version in
 * serverInfo (source runs say 0.0.0-dev; tsup injects package.json's version).
 */
async function reference(messages: Record<string, unknown>[]): Promise<string[]> {
  const pkg = JSON.parse(await fs.readFile(path.join(path.dirname(BIN), "../package.json"), "utf8")) as {
    version: string;
  };
  return (await referenceAnswers(messages)).map((line) => {
    const message = JSON.parse(line) as { result?: { serverInfo?: { version: string } } };
    if (!message.result?.serverInfo) return line;
    message.result.serverInfo.version = pkg.version;
    return JSON.stringify(message) + "\n";
  });
}

describe("the fast start of the built bin", () => {
  it("answers initialize, tools/list and ping byte for byte as the SDK server does, for every protocol version", async () => {
    const cases = [...SUPPORTED_PROTOCOL_VERSIONS, "2099-01-01", "draft"].map((version, i) => [
      initializeRequest(
        i % 2 ? `init-${i}` : i,
        version,
        i % 2 ? { roots: { listChanged: true }, sampling: {} } : {},
      ),
      INITIALIZED,
      { jsonrpc: "2.0", id: 100 + i, method: "tools/list" },
      { jsonrpc: "2.0", id: "last", method: "ping" },
    ]);
    const runs = await Promise.all(cases.map((messages) => handshake(messages, "last")));
    for (const [i, run] of runs.entries()) {
      expect(run.lines).toEqual(await reference(cases[i]!));
      // …and they came from the front, so the comparison is of the fast path.
      expect(run.stderr).toContain("fast front answered initialize");
      expect(run.stderr).toContain("fast front answered tools/list");
    }
    // The full server over stdio (front off) writes the same bytes too.
    expect(await fullServerHandshake(cases[1]!)).toBe(runs[1]!.lines.join(""));
  });

  it("is off with FAL_MCP_FAST_START=0, and the answers are the same", async () => {
    const messages = [
      initializeRequest(0, "2025-06-18", {}),
      INITIALIZED,
      { jsonrpc: "2.0", id: 1, method: "tools/list" },
    ];
    const server = spawnRaw({ ...env, FAL_MCP_FAST_START: "0" });
    const answered = server.response(1);
    for (const message of messages) server.send(message);
    await answered;
    server.child.stdin.end();
    await server.exited;
    expect(server.stderr()).not.toContain("fast front");
    expect(server.stdoutLines.map((line) => line + "\n")).toEqual(await reference(messages));
  });

  it("leaves an initialize the SDK would refuse to the full server", async () => {
    const refused = {
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "no-version" } },
    };
    const run = await handshake([refused, { jsonrpc: "2.0", id: 1, method: "ping" }], 1);
    expect(run.stderr).not.toContain("fast front answered");
    expect(run.lines).toEqual(await reference([refused, { jsonrpc: "2.0", id: 1, method: "ping" }]));
  });

  it("answers every request pipelined with the handshake exactly once, and nothing but JSON-RPC", async () => {
    const server = spawnRaw(env);
    const requests = [
      initializeRequest(0, "2025-06-18"),
      INITIALIZED,
      { jsonrpc: "2.0", id: 1, method: "tools/list" },
      ...Array.from({ length: 6 }, (_, i) => ({
        jsonrpc: "2.0",
        id: 2 + i,
        method: "tools/call",
        params: { name: "search_models", arguments: { query: "flux", limit: 1 + (i % 3) } },
      })),
      { jsonrpc: "2.0", id: 8, method: "ping" },
      { jsonrpc: "2.0", id: 9, method: "tools/list" },
    ];
    server.child.stdin.write(requests.map((r) => JSON.stringify(r) + "\n").join(""));
    await waitFor(() => server.stdoutLines.length >= 10, "ten answers");
    await new Promise((resolve) => setTimeout(resolve, 100)); // a duplicate would show up here
    server.child.stdin.end();
    await server.exited;
    const ids = server.stdoutLines.map((line) => (JSON.parse(line) as { id: unknown }).id);
    expect([...ids].sort((a, b) => Number(a) - Number(b))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ids[0]).toBe(0);
    for (const line of server.stdoutLines.filter((l) => l.includes('"id":2') || l.includes('"id":7')))
      expect(line).toContain('"models"');
    expect(server.stdoutLines.join("\n")).not.toContain("fast-front");
  });

  it("hands over to a server that knows the client's roots, sends progress and MCP log lines (SDK client over stdio)", async () => {
    const root = path.join(tempDir, "workspace");
    await fs.mkdir(root, { recursive: true });
    await fs.writeFile(path.join(root, "in-root.txt"), "inside the client's root");
    await fs.writeFile(path.join(env.HOME!, "in-home.txt"), "home, but not a root");
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      env: childEnv(env),
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client(
      { name: "roots-client", version: "1" },
      { capabilities: { roots: { listChanged: true } } },
    );
    let rootsAsked = 0;
    client.setRequestHandler(ListRootsRequestSchema, async () => {
      rootsAsked++;
      return { roots: [{ uri: pathToFileURL(root).href, name: "workspace" }] };
    });
    const logs: string[] = [];
    client.setNotificationHandler(
      LoggingMessageNotificationSchema,
      (notification) => void logs.push(String(notification.params.data)),
    );
    try {
      await client.connect(transport);
      const listed = await client.listTools();
      expect(listed.tools.map((tool) => tool.name)).toContain("upload_file");
      // stderr and stdout are separate pipes: the debug line may arrive after the answer.
      await waitFor(() => stderr.includes("fast front answered tools/list"), "the front's tools/list line");
      await waitFor(() => stderr.includes("hands over"), "the handover");
      await client.setLoggingLevel("info");

      const call = async (name: string, args: Record<string, unknown>, onprogress?: (p: Progress) => void) =>
        (await client.callTool({ name, arguments: args }, CallToolResultSchema, {
          timeout: 60_000,
          ...(onprogress ? { onprogress } : {}),
        })) as CallToolResult;
      const uploaded = await call("upload_file", { path: path.join(root, "in-root.txt") });
      expect(uploaded.isError, JSON.stringify(uploaded.content)).toBeFalsy();
      expect(rootsAsked).toBeGreaterThanOrEqual(1);
      const home = await call("upload_file", { path: path.join(env.HOME!, "in-home.txt") });
      expect(home.isError).toBe(true); // roots replace the home default: the server did get the client's capabilities

      fake.setBehavior("fal-ai/flux/schnell", {
        queueMs: 300,
        runMs: 600,
        queuePosition: 1,
        logs: ["Loading weights"],
      });
      const progress: Progress[] = [];
      const run = await call(
        "run_model",
        { endpoint_id: "fal-ai/flux/schnell", input: { prompt: "x" }, save: false },
        (p) => progress.push(p),
      );
      expect(run.isError, JSON.stringify(run.content)).toBeFalsy();
      expect(progress.length).toBeGreaterThanOrEqual(2);
      expect(logs.some((line) => line.includes("Loading weights"))).toBe(true);
    } finally {
      await client.close();
    }
  });

  const phases = [
    ["before the handover", false],
    ["after the handover", true],
  ] as const;

  async function started(handedOver: boolean): Promise<RawServer> {
    const server = spawnRaw(env);
    server.send(initializeRequest(0, "2025-06-18"));
    await server.response(0);
    if (handedOver) {
      server.send(INITIALIZED);
      server.send({ jsonrpc: "2.0", id: 1, method: "tools/list" });
      await server.response(1);
      await waitFor(() => server.stderr().includes("ready on stdio"), "the full server");
    } else {
      expect(server.stderr()).not.toContain("hands over");
    }
    return server;
  }

  for (const [phase, handedOver] of phases) {
    it(`exits with 0 within 2 s on SIGTERM, SIGINT, stdin close and a closed stdout, ${phase}`, async () => {
      for (const end of ["SIGTERM", "SIGINT", "stdin", "stdout"] as const) {
        const server = await started(handedOver);
        const at = Date.now();
        if (end === "stdin") server.child.stdin.end();
        else if (end === "stdout") {
          server.child.stdout.destroy();
          server.send({ jsonrpc: "2.0", id: 2, method: "ping" });
          server.send({
            jsonrpc: "2.0",
            id: 3,
            method: "tools/call",
            params: { name: "search_models", arguments: { query: "flux" } },
          });
        } else server.child.kill(end);
        const exit = await server.exited;
        expect(exit.at - at, `${end} ${phase}`).toBeLessThan(2_000);
        if (end !== "stdout") expect(exit.code, `${end} ${phase}`).toBe(0);
        if (end === "stdin") expect(server.stderr()).toContain("ready on stdio"); // the full program ran: its warnings are never skipped
      }
    });
  }

  it("exits 2 with the message on a bad setting even while the client keeps stdin open after the handshake", async () => {
    const server = spawnRaw({ ...env, FAL_MCP_WAIT_SECONDS: "forever" });
    server.send(initializeRequest(0, "2025-06-18"));
    server.send(INITIALIZED);
    server.send({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    const exit = await server.exited;
    expect(exit.code).toBe(2);
    expect(server.stderr()).toMatch(/invalid configuration: .*FAL_MCP_WAIT_SECONDS/);
  });
});
