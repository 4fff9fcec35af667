// The built entry loads dist/server.cjs through V8's code cache (src/boot.ts). These tests pin what
// a user can observe: where the cache goes and with which permissions, that a good cache is reused
// as is, that a bad one (corrupt, or writable by others) is replaced, and that the switch works.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { INITIALIZE, INITIALIZED, spawnRaw } from "../helpers/bin.js";

let home: string;

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-cache-"));
});
afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

const cacheDir = () => path.join(home, ".cache", "fal-mcp");

/** Starts the bin with `home` as HOME, lists the tools, closes stdin and waits for the exit. */
async function session(extra: Record<string, string | undefined> = {}): Promise<number> {
  const server = spawnRaw({
    HOME: home,
    XDG_CACHE_HOME: undefined,
    FAL_KEY: "test-key",
    FAL_MCP_STATE_DIR: path.join(home, "state"),
    FAL_MCP_OUTPUT_DIR: path.join(home, "out"),
    ...extra,
  });
  server.send(INITIALIZE);
  await server.response(0);
  server.send(INITIALIZED);
  server.send({ jsonrpc: "2.0", id: 1, method: "tools/list" });
  const list = await server.response(1);
  server.child.stdin.end();
  const exit = await server.exited;
  expect(exit.code).toBe(0);
  return (list.result as { tools: unknown[] }).tools.length;
}

async function cacheFiles(): Promise<string[]> {
  return (await fs.readdir(cacheDir()).catch(() => [])).filter((name) => name.endsWith(".v8cache"));
}

describe.skipIf(process.platform === "win32")("the compile cache", () => {
  it("is written on the first start to a private per-user folder and reused untouched afterwards", async () => {
    const tools = await session();
    const [file, ...others] = await cacheFiles();
    expect(others).toEqual([]);
    expect(file).toMatch(/^server-[0-9a-f]{16}\.v8cache$/);
    const full = path.join(cacheDir(), file!);
    const first = await fs.stat(full);
    expect(first.size).toBeGreaterThan(100_000);
    expect(first.mode & 0o777).toBe(0o600);
    expect((await fs.stat(cacheDir())).mode & 0o777).toBe(0o700);

    // Accepted by V8, so not rewritten: same inode, same mtime, same tools.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await session()).toBe(tools);
    const second = await fs.stat(full);
    expect(second.ino).toBe(first.ino);
    expect(second.mtimeMs).toBe(first.mtimeMs);
  });

  it("replaces a corrupt cache, and one that other users could write, and still starts", async () => {
    const tools = await session();
    const [file] = await cacheFiles();
    const full = path.join(cacheDir(), file!);

    await fs.writeFile(full, Buffer.from("not a V8 code cache"));
    expect(await session()).toBe(tools);
    const rewritten = await fs.readFile(full);
    expect(rewritten.length).toBeGreaterThan(100_000);

    await fs.chmod(full, 0o666);
    const before = await fs.stat(full);
    expect(await session()).toBe(tools);
    const after = await fs.stat(full);
    expect(after.ino).not.toBe(before.ino); // ignored and replaced, not read
    expect(after.mode & 0o777).toBe(0o600);
  });

  it("is neither read nor written with FAL_MCP_COMPILE_CACHE=0", async () => {
    expect(await session({ FAL_MCP_COMPILE_CACHE: "0" })).toBeGreaterThan(0);
    await expect(fs.access(cacheDir())).rejects.toThrow();
  });

  it("honours an absolute XDG_CACHE_HOME", async () => {
    const xdg = path.join(home, "xdg");
    await session({ XDG_CACHE_HOME: xdg });
    expect((await fs.readdir(path.join(xdg, "fal-mcp"))).filter((n) => n.endsWith(".v8cache"))).toHaveLength(
      1,
    );
    await expect(fs.access(cacheDir())).rejects.toThrow();
  });
});
