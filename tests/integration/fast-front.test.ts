// The fast front (src/fast-front.ts) in one process with the real server: stdin and stdout are
// streams the test drives, and `load` starts createServer on the handed-over streams the way
// src/index.ts does. Pins what the client must never notice: the same bytes, in order, nothing
// lost or duplicated, the client's capabilities reaching the full server.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createServices } from "../../src/services.js";
import { stderrLogger } from "../helpers/logger.js";
import {
  IDLE_LOAD_MS,
  parseManifest,
  REPLAY_ID,
  startFastFront,
  type FrontManifest,
} from "../../src/fast-front.js";
import { takeHandover } from "../../src/handover.js";
import { createServer, type FalMcpServer } from "../../src/mcp/server.js";
import { guardStdin } from "../../src/mcp/stdin-guard.js";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { initializeRequest, referenceAnswers, referenceManifest } from "../helpers/handshake.js";

let fake: FakeFal;
let manifest: FrontManifest;
const running: Session[] = [];

beforeAll(async () => {
  fake = await startFakeFal();
  manifest = await referenceManifest(SUPPORTED_PROTOCOL_VERSIONS);
});
afterAll(async () => {
  await fake?.close();
});
afterEach(async () => {
  for (const session of running.splice(0)) await session.close();
});

interface Session {
  stdin: PassThrough;
  /** Every line written to stdout so far, newline included. */
  lines: string[];
  debug: string[];
  loads: () => number;
  released: () => number;
  /** notifications/initialized the full server received. */
  initialized: () => number;
  server: () => FalMcpServer | undefined;
  /** Resolves once a line answering `id` was written. */
  answer(id: number | string, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

function start(options: { serve?: boolean } = {}): Session {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const lines: string[] = [];
  const debug: string[] = [];
  let loads = 0;
  let released = 0;
  let initialized = 0;
  let falMcp: FalMcpServer | undefined;
  let buffered = "";
  const waiters = new Map<string, (message: Record<string, unknown>) => void>();
  stdout.setEncoding("utf8");
  stdout.on("data", (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline + 1);
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      const message = JSON.parse(line) as Record<string, unknown>;
      waiters.get(String(message.id))?.(message);
    }
  });
  startFastFront({
    manifest,
    stdin,
    stdout,
    load() {
      loads++;
      const handover = takeHandover();
      if (!handover) throw new Error("no handover offered");
      if (options.serve === false) {
        handover.release();
        return;
      }
      const config = loadConfig({
        env: { FAL_KEY: "test-key", FAL_MCP_BASE_URL: fake.url },
        homeDir: "/nonexistent-home",
      });
      const logger = stderrLogger(config.logLevel);
      const server = (falMcp = createServer({ config, services: createServices({ config, logger }) }));
      handover.input.on("end", () => void server.close());
      server.server.server.oninitialized = () => void initialized++;
      void falMcp.server.connect(
        new StdioServerTransport(guardStdin(handover.input, logger), handover.output),
      );
    },
    onRelease: () => released++,
    debug: (message) => debug.push(message),
  });
  const session: Session = {
    stdin,
    lines,
    debug,
    loads: () => loads,
    released: () => released,
    initialized: () => initialized,
    server: () => falMcp,
    answer: (id, timeoutMs = 10_000) => {
      const seen = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((message) => message.id === id);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no answer to ${id}; lines: ${lines.join("")}`)),
          timeoutMs,
        );
        waiters.set(String(id), (message) => {
          clearTimeout(timer);
          resolve(message);
        });
      });
    },
    async close() {
      stdin.end();
      await falMcp?.close();
    },
  };
  running.push(session);
  return session;
}

const line = (message: unknown): string => JSON.stringify(message) + "\n";
const INITIALIZED = { jsonrpc: "2.0", method: "notifications/initialized" };
const TOOLS_LIST = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/list" });
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("the fast front", () => {
  it("answers the handshake byte for byte as the real server, for every supported version and an unknown one", async () => {
    for (const version of [...SUPPORTED_PROTOCOL_VERSIONS, "2099-01-01", "not-a-version"]) {
      const session = start();
      const messages = [
        initializeRequest(7, version, { roots: { listChanged: true } }),
        INITIALIZED,
        TOOLS_LIST(8),
        { jsonrpc: "2.0", id: "p", method: "ping" },
      ];
      session.stdin.write(messages.map(line).join(""));
      await session.answer("p");
      const reference = await referenceAnswers(messages);
      expect(session.lines.slice(0, 3)).toEqual(reference);
      expect(session.debug).toContain(
        `fast front answered initialize (${SUPPORTED_PROTOCOL_VERSIONS.includes(version) ? version : manifest.fallbackProtocolVersion})`,
      );
      expect(session.debug).toContain("fast front answered tools/list");
      await session.close();
    }
  });

  it("loads the server right after tools/list and gives it the client's real initialize (capabilities, version), answered once", async () => {
    const session = start();
    const capabilities = { roots: { listChanged: true }, sampling: {} };
    session.stdin.write(
      line(initializeRequest(0, "2025-06-18", capabilities)) + line(INITIALIZED) + line(TOOLS_LIST(1)),
    );
    await session.answer(1);
    await settle();
    expect(session.loads()).toBe(1);
    const server = session.server()!.server.server;
    await expect.poll(() => server.getClientCapabilities()).toEqual(capabilities);
    expect(server.getClientVersion()).toEqual({ name: "handshake-test", version: "1.0.0" });
    expect(session.initialized()).toBe(1);
    session.stdin.write(line({ jsonrpc: "2.0", id: 2, method: "ping" }));
    await session.answer(2);
    expect(session.lines).toHaveLength(3);
    expect(session.lines.filter((l) => l.includes('"protocolVersion"'))).toHaveLength(1);
    expect(session.lines.join("")).not.toContain(REPLAY_ID);
  });

  it("queues everything pipelined with the handshake and answers each request exactly once, in one chunk or byte by byte", async () => {
    const messages = [
      initializeRequest(0, "2025-03-26"),
      INITIALIZED,
      TOOLS_LIST(1),
      { jsonrpc: "2.0", id: 2, method: "logging/setLevel", params: { level: "debug" } },
      {
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "search_models", arguments: { query: "flux", limit: 1 } },
      },
      { jsonrpc: "2.0", id: 4, method: "no/such/method" },
      { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "no_such_tool", arguments: {} } },
      { jsonrpc: "2.0", id: 6, method: "ping" },
      TOOLS_LIST(7),
    ];
    const bytes = Buffer.from(messages.map(line).join("").replace("\n", "\r\n") + "not json\n");
    for (const chunking of ["one chunk", "byte by byte"]) {
      const session = start();
      if (chunking === "one chunk") session.stdin.write(bytes);
      else for (const byte of bytes) session.stdin.write(Buffer.from([byte]));
      for (let id = 0; id <= 7; id++) await session.answer(id);
      await settle();
      const answers = session.lines.map(
        (l) => JSON.parse(l) as { id: unknown; result?: Record<string, unknown>; error?: { code: number } },
      );
      expect(answers.map((a) => a.id).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(answers[0]!.id).toBe(0);
      expect(answers[0]!.result?.protocolVersion).toBe("2025-03-26");
      expect(answers.find((a) => a.id === 2)!.result).toEqual({});
      expect(answers.find((a) => a.id === 4)!.error?.code).toBe(-32601);
      expect(answers.find((a) => a.id === 5)!.result?.isError).toBe(true);
      expect(
        (answers.find((a) => a.id === 3)!.result?.structuredContent as { models: unknown[] }).models.length,
      ).toBe(1);
      // The front's tools/list and the server's are the same bytes.
      expect(session.lines.find((l) => l.endsWith('"id":7}\n'))!.replace('"id":7}', '"id":1}')).toBe(
        session.lines.find((l) => l.endsWith('"id":1}\n')),
      );
      expect(session.loads()).toBe(1);
      expect(session.lines.join("")).not.toContain(REPLAY_ID);
      await session.close();
    }
  });

  it("leaves a line that is not exactly a handshake message to the server, which answers it as always", async () => {
    // Valid JSON-RPC the SDK refuses or answers itself (compared with its in-memory answers), and
    // invalid JSON-RPC its stdio reader drops (the in-memory transport does not parse, so no reference).
    const odd: [Record<string, unknown>, boolean][] = [
      [
        {
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "no-version" } },
        },
        true,
      ],
      [
        {
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: {
            protocolVersion: "2025-06-18",
            capabilities: { roots: "yes" },
            clientInfo: { name: "x", version: "1" },
          },
        },
        true,
      ],
      [{ jsonrpc: "2.0", id: 0, method: "initialize" }, true],
      [{ jsonrpc: "2.0", id: 0, method: "tools/list" }, true], // before initialize
      [{ jsonrpc: "2.0", id: 0, method: "ping", params: { _meta: { progressToken: 1 } } }, true],
      [{ jsonrpc: "2.0", id: 0.5, method: "ping" }, false],
      [{ jsonrpc: "2.0", id: 0, method: "ping", extra: true }, false],
    ];
    for (const [message, compare] of odd) {
      const session = start();
      session.stdin.write(line(message) + line({ jsonrpc: "2.0", id: "after", method: "ping" }));
      await session.answer("after");
      await settle();
      expect(session.loads()).toBe(1);
      expect(session.debug.some((d) => d.startsWith("fast front answered"))).toBe(false);
      if (compare)
        expect(session.lines).toEqual(
          await referenceAnswers([message, { jsonrpc: "2.0", id: "after", method: "ping" }]),
        );
      else expect(session.lines.map((l) => (JSON.parse(l) as { id: unknown }).id)).toEqual(["after"]);
      await session.close();
    }
  });

  it("a second initialize goes to the server, which has the first one too", async () => {
    const session = start();
    session.stdin.write(line(initializeRequest(0, "2025-06-18", { roots: {} })) + line(INITIALIZED));
    await session.answer(0);
    session.stdin.write(line(initializeRequest(1, "2024-11-05")));
    const second = await session.answer(1);
    expect((second.result as { protocolVersion: string }).protocolVersion).toBe("2024-11-05");
    expect(session.lines).toHaveLength(2);
    expect(session.lines.join("")).not.toContain(REPLAY_ID);
  });

  it("hands a long line over unread, and the stdin guard drops it without closing the connection", async () => {
    const session = start();
    session.stdin.write(line(initializeRequest(0, "2025-06-18")));
    await session.answer(0);
    session.stdin.write(Buffer.alloc(100 * 1024, 0x61));
    await settle();
    expect(session.loads()).toBe(1);
    session.stdin.write("\n" + line({ jsonrpc: "2.0", id: 1, method: "ping" }));
    expect((await session.answer(1)).result).toEqual({});
  });

  it(`loads the server after ${IDLE_LOAD_MS} ms without a handshake, and when stdin ends`, async () => {
    const idle = start();
    await new Promise((resolve) => setTimeout(resolve, IDLE_LOAD_MS - 100));
    expect(idle.loads()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(idle.loads()).toBe(1);
    idle.stdin.write(line(initializeRequest(0, "2025-06-18")));
    await idle.answer(0);
    expect(idle.debug.some((d) => d.startsWith("fast front answered"))).toBe(false);

    const ended = start();
    ended.stdin.end(line(initializeRequest(0, "2025-06-18")));
    await ended.answer(0);
    await settle();
    expect(ended.loads()).toBe(1);
    expect(ended.server()!.server.isConnected()).toBe(false); // the server saw the end of its input
  });

  it("lets go of stdin when the full program declines to serve", async () => {
    const session = start({ serve: false });
    session.stdin.write(line(initializeRequest(0, "2025-06-18")) + line(INITIALIZED) + line(TOOLS_LIST(1)));
    await session.answer(1);
    await settle();
    expect(session.loads()).toBe(1);
    expect(session.released()).toBe(1);
    expect(session.stdin.destroyed).toBe(true);
  });
});

describe("parseManifest", () => {
  it("reads the build's manifest and refuses one with a missing piece", () => {
    const text = JSON.stringify(manifest);
    expect(parseManifest(text)).toEqual(manifest);
    for (const key of Object.keys(manifest)) {
      const broken: Record<string, unknown> = { ...manifest };
      delete broken[key];
      expect(parseManifest(JSON.stringify(broken))).toBeUndefined();
    }
    expect(parseManifest("not json")).toBeUndefined();
    expect(parseManifest(JSON.stringify({ ...manifest, protocolVersions: [1] }))).toBeUndefined();
  });
});
