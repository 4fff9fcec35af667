// Raw garbage on stdin: non-JSON lines, huge lines, deeply nested JSON, invalid JSON-RPC. The built
// server must answer with JSON-RPC errors where the protocol calls for them, keep serving, and put
// nothing but JSON-RPC messages on stdout.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { INITIALIZE, INITIALIZED, spawnRaw, type RawServer } from "../helpers/bin.js";
import { TEST_KEY } from "../helpers/harness.js";

let fake: FakeFal;
let server: RawServer;
let nextId = 100;

beforeAll(async () => {
  fake = await startFakeFal();
  server = spawnRaw({ FAL_KEY: TEST_KEY, FAL_MCP_BASE_URL: fake.url, FAL_MCP_LOG_LEVEL: "warning" });
  server.send(INITIALIZE);
  await server.response(0);
  server.send(INITIALIZED);
});
afterAll(async () => {
  if (server.child.exitCode === null) server.child.kill("SIGKILL");
  await fake.close();
});

/** A ping must still be answered: the server is alive and its reader is not stuck. */
async function stillServing(): Promise<void> {
  const id = ++nextId;
  server.send({ jsonrpc: "2.0", id, method: "ping" });
  const answer = await server.response(id, 10_000);
  expect(answer).toMatchObject({ jsonrpc: "2.0", id, result: {} });
}

describe("garbage on stdin", () => {
  const garbage: [string, string][] = [
    ["plain text", "hello there, this is not JSON"],
    ["half a JSON object", '{"jsonrpc":"2.0","id":1,"method":'],
    ["a bare number", "42"],
    ["a JSON string", '"tools/list"'],
    ["null", "null"],
    ["an empty object", "{}"],
    ["binary junk", "\u0000\u0001\u0002\uFFFD\uD800 ÿþ"],
    ["an empty line", ""],
    ["a BOM and spaces", "\uFEFF   "],
    ["wrong jsonrpc version", '{"jsonrpc":"1.0","id":7,"method":"ping"}'],
    ["method of the wrong type", '{"jsonrpc":"2.0","id":8,"method":42}'],
    ["id of the wrong type", '{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}'],
    ["a response nobody asked for", '{"jsonrpc":"2.0","id":99999,"result":{}}'],
    ["an unknown notification", '{"jsonrpc":"2.0","method":"notifications/whatever","params":{"x":1}}'],
    ["deep nesting", "[".repeat(100_000) + "]".repeat(100_000)],
    [
      "a 5 MB line",
      '{"jsonrpc":"2.0","id":9,"method":"ping","params":{"pad":"' + "x".repeat(5 * 1024 * 1024) + '"}}',
    ],
    ["a 12 MB line of junk", "y".repeat(12 * 1024 * 1024)],
    ["a batch array", '[{"jsonrpc":"2.0","id":10,"method":"ping"}]'],
  ];
  for (const [name, line] of garbage) {
    it(`${name}: the server keeps serving`, async () => {
      server.sendRaw(line);
      await stillServing();
    });
  }

  it("an unknown method gets -32601 and a call to an unknown tool an isError result", async () => {
    const id = ++nextId;
    server.send({ jsonrpc: "2.0", id, method: "no/such/method", params: {} });
    expect(await server.response(id)).toMatchObject({ jsonrpc: "2.0", id, error: { code: -32601 } });
    const toolId = ++nextId;
    server.send({
      jsonrpc: "2.0",
      id: toolId,
      method: "tools/call",
      params: { name: "no_such_tool", arguments: {} },
    });
    const answer = await server.response(toolId);
    expect(JSON.stringify(answer)).toMatch(/no_such_tool/);
  });

  it("invalid params for tools/call get a JSON-RPC error (the SDK 1.32 answers -32603 over stdio)", async () => {
    const id = ++nextId;
    server.send({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "search_models", arguments: [1, 2, 3] },
    });
    const answer = await server.response(id);
    expect(answer).toMatchObject({
      jsonrpc: "2.0",
      id,
      error: {
        code: expect.any(Number) as unknown,
        message: expect.stringMatching(/invalid|expected/i) as unknown,
      },
    });
    expect([-32602, -32603]).toContain((answer.error as { code: number }).code);
  });

  it("an oversized line is dropped with a warning on stderr, not a closed connection", async () => {
    expect(server.stderr()).toMatch(/dropped an incoming message longer than/);
    await stillServing();
  });

  it("a real tool call still works after all of it, and stdout carried only JSON-RPC", async () => {
    const id = ++nextId;
    server.send({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "search_models", arguments: { query: "flux", limit: 2 } },
    });
    const answer = await server.response(id);
    expect(answer).toMatchObject({
      jsonrpc: "2.0",
      id,
      result: { structuredContent: { has_more: expect.any(Boolean) as unknown } },
    });
    expect(server.child.exitCode).toBeNull();
    expect(server.stdoutLines.length).toBeGreaterThan(20);
    for (const line of server.stdoutLines) {
      const message = JSON.parse(line) as Record<string, unknown>;
      expect(message.jsonrpc).toBe("2.0");
    }
    expect(server.stderr()).not.toMatch(/unexpected error|fatal/i);
  });
});
