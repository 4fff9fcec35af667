import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { initialize, minimalEnv, startStdioSession } from "../release/stdio-session.js";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const KEY = "test-key-id:test-key-secret";

/**
 * What a user's client runs: `npx --package <tarball> fal-mcp` in an empty folder. The tarball is
 * the real `npm pack` output; npm gets a fresh cache, --offline, and a registry URL pointing at a
 * loopback recorder, so any attempt to reach a registry shows up (and fails) instead of silently
 * downloading something.
 */
let fake: FakeFal;
let tempDir: string;
let tarball: string;
let registry: Server;
const registryHits: string[] = [];

beforeAll(async () => {
  fake = await startFakeFal();
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-npx-"));
  registry = createServer((request, response) => {
    registryHits.push(`${request.method} ${request.url}`);
    response.writeHead(503).end();
  });
  await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
  // --ignore-scripts: prepack would rebuild dist/ while other test files run it (npm test built it).
  const { stdout } = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", tempDir], {
    cwd: root,
    env: { ...process.env, npm_config_loglevel: "error" },
  });
  const [info] = JSON.parse(stdout) as { filename: string }[];
  tarball = path.join(tempDir, info!.filename);
}, 60_000);

afterAll(async () => {
  await fake?.close();
  await new Promise((resolve) => registry?.close(resolve));
  await fs.rm(tempDir, { recursive: true, force: true });
});

/** npx next to this Node, so the test uses the npm that ships with the Node it runs on. */
function npxPath(): string {
  const sibling = path.join(path.dirname(process.execPath), "npx");
  return existsSync(sibling) ? sibling : "npx";
}

describe("npx --package <tarball> fal-mcp", () => {
  it("installs from the tarball alone, offline, and serves MCP: handshake and search_models against the fake", async () => {
    const workDir = path.join(tempDir, "clean-folder");
    const home = path.join(tempDir, "home");
    await fs.mkdir(workDir, { recursive: true });
    await fs.mkdir(home, { recursive: true });
    // No node_modules in the folder or above it: nothing but the tarball can provide the package.
    for (let dir = workDir; dir !== path.dirname(dir); dir = path.dirname(dir))
      expect(existsSync(path.join(dir, "node_modules")), dir).toBe(false);

    const cache = path.join(tempDir, "npm-cache");
    const session = startStdioSession(
      npxPath(),
      [
        "--yes",
        "--offline",
        "--cache",
        cache,
        "--registry",
        `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`,
        "--package",
        tarball,
        "fal-mcp",
      ],
      {
        cwd: workDir,
        env: minimalEnv({
          HOME: home,
          npm_config_update_notifier: "false",
          npm_config_fund: "false",
          npm_config_audit: "false",
          FAL_KEY: KEY,
          FAL_MCP_BASE_URL: fake.url,
          FAL_MCP_OUTPUT_DIR: path.join(tempDir, "out"),
          FAL_MCP_STATE_DIR: path.join(tempDir, "state"),
        }),
      },
    );
    try {
      const init = await initialize(session);
      expect((init.serverInfo as { name: string }).name).toBe("fal-mcp");
      const version = JSON.parse(await fs.readFile(path.join(root, "package.json"), "utf8")) as {
        version: string;
      };
      expect((init.serverInfo as { version: string }).version).toBe(version.version);

      const catalogBefore = fake.countRequests({ host: "api.fal.ai" });
      const result = await session.request(
        "tools/call",
        { name: "search_models", arguments: { query: "flux", limit: 3 } },
        30_000,
      );
      expect(result.isError ?? false).toBe(false);
      expect(JSON.stringify(result.structuredContent)).toContain("fal-ai/flux/dev");
      // The answer came from the fake, through the server the tarball installed.
      expect(fake.countRequests({ host: "api.fal.ai" })).toBeGreaterThan(catalogBefore);
      for (const line of session.stdoutLines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    } finally {
      const exit = await session.close();
      expect(exit.code, session.stderr()).toBe(0);
    }

    // npx ran the copy it extracted from the tarball into its own cache, not this checkout.
    const installed = (await fs.readdir(path.join(cache, "_npx"))).map((hash) =>
      path.join(cache, "_npx", hash, "node_modules", "fal-mcp"),
    );
    expect(installed).toHaveLength(1);
    expect((await fs.lstat(installed[0]!)).isSymbolicLink()).toBe(false);
    expect(existsSync(path.join(installed[0]!, "dist", "index.cjs"))).toBe(true);
    expect(existsSync(path.join(installed[0]!, "LICENSE"))).toBe(true);
    expect(registryHits).toEqual([]);
    expect(fake.errors).toEqual([]);
  }, 120_000);
});
