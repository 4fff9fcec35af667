import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { BIN, INITIALIZE, INITIALIZED, childEnv, spawnRaw } from "../helpers/bin.js";

const run = promisify(execFile);
// Recognisable, so a leak anywhere is easy to spot. The fake accepts it.
const KEY = "test-key-id:test-key-secret";

let fake: FakeFal;
let tempDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  await fs.access(BIN.replace(/bin[/\\]fal-mcp\.js$/, "dist/index.cjs")).catch(() => {
    throw new Error("dist/ is missing: run `npm run build` first (npm test does it)");
  });
  fake = await startFakeFal();
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-e2e-"));
  env = {
    FAL_KEY: KEY,
    FAL_MCP_BASE_URL: fake.url,
    FAL_MCP_OUTPUT_DIR: path.join(tempDir, "out"),
    FAL_MCP_STATE_DIR: path.join(tempDir, "state"),
  };
});

afterAll(async () => {
  await fake?.close();
  await fs.rm(tempDir, { recursive: true, force: true });
});

describe("the stdio bin", () => {
  it("writes nothing but JSON-RPC to stdout in a whole session, garbage input included, and exits on stdin close", async () => {
    const server = spawnRaw(env);
    server.send(INITIALIZE);
    const init = await server.response(0);
    expect((init.result as { serverInfo: { name: string } }).serverInfo.name).toBe("fal-mcp");
    server.send(INITIALIZED);
    server.send({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    const list = await server.response(1);
    expect(Array.isArray((list.result as { tools: unknown[] }).tools)).toBe(true);
    server.sendRaw("this is not json");
    server.sendRaw('{"jsonrpc":"2.0","id":2,"method":"no/such/method"}');
    const unknown = await server.response(2);
    expect((unknown.error as { code: number }).code).toBe(-32601);
    server.send({
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "search_models", arguments: { query: "flux", limit: 2 } },
    });
    await server.response(3);
    server.send({ jsonrpc: "2.0", id: 4, method: "ping" });
    await server.response(4);

    const closedAt = Date.now();
    server.child.stdin.end();
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - closedAt).toBeLessThan(2_000);

    expect(server.stdoutLines.length).toBeGreaterThanOrEqual(5);
    for (const line of server.stdoutLines) {
      const message = JSON.parse(line) as { jsonrpc?: string };
      expect(message.jsonrpc).toBe("2.0");
    }
    expect(server.stdoutLines.join("\n")).not.toContain(KEY);
    expect(server.stderr()).not.toContain(KEY);
    expect(server.stderr()).not.toContain("test-key-secret");
  });

  it.each(["SIGTERM", "SIGINT"] as const)("exits within 2 s on %s", async (signal) => {
    const server = spawnRaw(env);
    server.send(INITIALIZE);
    await server.response(0);
    const sentAt = Date.now();
    server.child.kill(signal);
    const exit = await server.exited;
    expect(exit.at - sentAt).toBeLessThan(2_000);
    expect(exit.code).toBe(0);
  });

  it("exits within 2 s when its stdout is closed (EPIPE)", async () => {
    const server = spawnRaw(env);
    server.send(INITIALIZE);
    await server.response(0);
    server.send(INITIALIZED);
    // A tool call makes the full program take over from the fast front (which exits on EPIPE too,
    // silently: tests/e2e/fast-front.test.ts covers that phase).
    server.send({
      jsonrpc: "2.0",
      id: 9,
      method: "tools/call",
      params: { name: "search_models", arguments: { limit: 1 } },
    });
    await server.response(9);
    server.child.stdout.destroy();
    const closedAt = Date.now();
    // The next answers hit the closed pipe.
    for (let id = 1; id <= 3; id++) server.send({ jsonrpc: "2.0", id, method: "ping" });
    const exit = await server.exited;
    expect(exit.at - closedAt).toBeLessThan(2_000);
    expect(server.stderr()).toContain("shutting down: stdout closed (EPIPE)");
  });

  it("starts without a key, warns once on stderr, and still answers", async () => {
    const server = spawnRaw({ ...env, FAL_KEY: undefined });
    server.send(INITIALIZE);
    await server.response(0);
    server.child.stdin.end();
    await server.exited;
    const warnings = server.stderr().match(/FAL_KEY is not set/g) ?? [];
    expect(warnings).toHaveLength(1);
  });

  it("names a folder setting given as a relative path, and the folder it is read as, on stderr", async () => {
    const server = spawnRaw({ ...env, HOME: tempDir, FAL_MCP_ALLOWED_DIRS: "Pictures" });
    server.send(INITIALIZE);
    await server.response(0);
    server.child.stdin.end();
    await server.exited;
    expect(server.stderr()).toContain(
      `FAL_MCP_ALLOWED_DIRS has the relative path "Pictures", read as ${path.join(tempDir, "Pictures")}`,
    );
    expect(server.stdoutLines.every((line) => !line.includes("relative path"))).toBe(true);
  });

  it("does no network at start-up", async () => {
    const before = fake.requests.length;
    const server = spawnRaw(env);
    server.send(INITIALIZE);
    await server.response(0);
    server.send(INITIALIZED);
    server.send({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    await server.response(1);
    server.child.stdin.end();
    await server.exited;
    expect(fake.requests.length).toBe(before);
  });

  it("prints --version and --help, and refuses unknown commands", async () => {
    const version = await run(process.execPath, [BIN, "--version"], { env: childEnv({}) });
    const pkg = JSON.parse(await fs.readFile(path.resolve(path.dirname(BIN), "../package.json"), "utf8")) as {
      version: string;
    };
    expect(version.stdout.trim()).toBe(pkg.version);
    const help = await run(process.execPath, [BIN, "--help"], { env: childEnv({}) });
    expect(help.stdout).toContain("npx fal-mcp doctor");
    expect(help.stdout).toContain("FAL_KEY");
    const bad = await run(process.execPath, [BIN, "bogus"], { env: childEnv({}) }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect((bad as { code: number }).code).toBe(2);
    // util.parseArgs in strict mode: an unknown flag is refused, with a message.
    const flag = await run(process.execPath, [BIN, "--verbose"], { env: childEnv({}) }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect((flag as { code: number }).code).toBe(2);
    expect((flag as { stderr: string }).stderr).toMatch(/--verbose/);
    // --help links to no web page that may not exist: it lists the settings itself.
    expect(help.stdout).not.toMatch(/https:\/\//);
    expect(help.stdout).toContain("FAL_MCP_HTTP_TOKEN");
    expect(help.stdout).toContain("npx fal-mcp http");
  });

  it("a bad setting never gets a handshake reply: exit 2 before anything is read", async () => {
    const server = spawnRaw({ ...env, FAL_MCP_LOG_LEVEL: "loud" });
    server.send(INITIALIZE);
    const exit = await server.exited;
    expect(exit.code).toBe(2);
    expect(server.stdoutLines).toEqual([]);
    expect(server.stderr()).toMatch(/FAL_MCP_LOG_LEVEL/);
  });

  it("refuses an invalid setting with a message naming it", async () => {
    const result = await run(process.execPath, [BIN], {
      env: childEnv({ FAL_MCP_WAIT_SECONDS: "forever" }),
    }).catch((error: { code: number; stderr: string }) => error);
    expect((result as { code: number }).code).toBe(2);
    expect((result as { stderr: string }).stderr).toMatch(/FAL_MCP_WAIT_SECONDS/);
  });

  it("doctor checks the set-up in plain words and never prints the key", async () => {
    const ok = await run(process.execPath, [BIN, "doctor"], { env: childEnv(env) });
    expect(ok.stdout).toMatch(/ok\s+Node\.js: v\d+/);
    expect(ok.stdout).toMatch(/ok\s+Key accepted by fal/);
    expect(ok.stdout).toMatch(/ok\s+Reach api\.fal\.ai/);
    expect(ok.stdout).toMatch(/ok\s+Output folder/);
    expect(ok.stdout).toContain("Everything looks good.");
    expect(ok.stdout + ok.stderr).not.toContain(KEY);

    const badKey = "wrong-key-0123456789";
    const rejected = await run(process.execPath, [BIN, "doctor"], {
      env: childEnv({ ...env, FAL_KEY: badKey }),
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect((rejected as { code: number }).code).toBe(1);
    expect((rejected as { stdout: string }).stdout).toMatch(
      /FAIL\s+Key accepted by fal: fal rejected the key/,
    );
    expect(JSON.stringify(rejected)).not.toContain(badKey);

    const noKey = await run(process.execPath, [BIN, "doctor"], {
      env: childEnv({ ...env, FAL_KEY: undefined }),
    }).catch((error: { code: number; stdout: string }) => error);
    expect((noKey as { stdout: string }).stdout).toMatch(/FAIL\s+API key: FAL_KEY is not set/);
  });
});
