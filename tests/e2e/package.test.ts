import { execFile, spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INITIALIZE, INITIALIZED, childEnv } from "../helpers/bin.js";
import { TOOL_NAMES } from "../helpers/tool-names.js";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

/**
 * The published package carries no runtime dependencies (they are bundled into dist/), so what
 * `npx fal-mcp` downloads must run on its own. This packs the real tarball and starts it with no
 * node_modules anywhere above it.
 */
let unpacked: string;
let tempDir: string;

beforeAll(async () => {
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-pack-"));
  // --ignore-scripts: prepack would rebuild dist/ while other test files run the bin (npm test built it).
  const { stdout } = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", tempDir], {
    cwd: root,
    env: { ...process.env, npm_config_loglevel: "error" },
  });
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  expect(info).toBeDefined();
  await run("tar", ["-xzf", path.join(tempDir, info!.filename), "-C", tempDir]);
  unpacked = path.join(tempDir, "package");
}, 60_000);

afterAll(async () => {
  await fs.rm(tempDir, { recursive: true, force: true });
});

describe("the published package", () => {
  it("declares no runtime dependencies and ships no source maps", async () => {
    const manifest = JSON.parse(await fs.readFile(path.join(unpacked, "package.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.bin).toEqual({ "fal-mcp": "bin/fal-mcp.js" });
    const files = await fs.readdir(path.join(unpacked, "dist"));
    expect(files.some((file) => file.endsWith(".map"))).toBe(false);
    await expect(fs.access(path.join(unpacked, "node_modules"))).rejects.toThrow();
  });

  it("starts from the tarball alone and lists the eleven tools", async () => {
    const version = await run(process.execPath, [path.join(unpacked, "bin/fal-mcp.js"), "--version"], {
      env: childEnv({}),
    });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const child = spawn(process.execPath, [path.join(unpacked, "bin/fal-mcp.js")], {
      env: childEnv({ HOME: tempDir, FAL_MCP_COMPILE_CACHE: "0" }),
      cwd: tempDir,
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stdin.write(
      JSON.stringify(INITIALIZE) +
        "\n" +
        JSON.stringify(INITIALIZED) +
        "\n" +
        JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }) +
        "\n",
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no tools/list answer: ${stdout}`)), 15_000);
      child.stdout.on("data", () => {
        if (stdout.includes('"id":1')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.stdin.end();
    const answer = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id?: number; result?: { tools?: { name: string }[] } })
      .find((message) => message.id === 1);
    expect(answer?.result?.tools).toHaveLength(TOOL_NAMES.length);
  });
});
