// The launcher (bin/fal-mcp.js) runs the bundle through V8's code cache. These tests pin what a user
// can observe: where the cache goes and with which permissions, that V8 accepts it (a good cache is
// reused as is, not rewritten), that a bad one (corrupt, or writable by others) is replaced and never
// breaks a start, that the switch works, and that the setting is a known one.
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
async function session(
  extra: Record<string, string | undefined> = {},
): Promise<{ tools: number; stderr: string }> {
  const server = spawnRaw({
    HOME: home,
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
  // Nothing but protocol messages on stdout, the cache or not.
  for (const line of server.stdoutLines) expect(JSON.parse(line)).toHaveProperty("jsonrpc", "2.0");
  return { tools: (list.result as { tools: unknown[] }).tools.length, stderr: server.stderr() };
}

async function cacheFiles(folder = cacheDir()): Promise<string[]> {
  return (await fs.readdir(folder).catch(() => [])).filter((name) => name.endsWith(".v8cache"));
}

describe.skipIf(process.platform === "win32")("the compile cache", () => {
  it("is written on the first start to a private per-user folder and reused untouched afterwards", async () => {
    const { tools, stderr } = await session();
    expect(stderr).not.toMatch(/FAL_MCP_COMPILE_CACHE/);
    const [file, ...others] = await cacheFiles();
    expect(others).toEqual([]);
    expect(file).toMatch(/^bundle-\d+-\d+-v\d+\.\d+\.\d+-[a-z0-9]+\.v8cache$/);
    const full = path.join(cacheDir(), file!);
    const first = await fs.stat(full);
    expect(first.size).toBeGreaterThan(100_000);
    expect(first.mode & 0o777).toBe(0o600);
    expect((await fs.stat(cacheDir())).mode & 0o777).toBe(0o700);
    expect(await fs.readdir(cacheDir())).toEqual([file]); // no temporary file left behind

    // Accepted by V8, so not rewritten: same inode, same mtime, same tools.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await session()).tools).toBe(tools);
    const second = await fs.stat(full);
    expect(second.ino).toBe(first.ino);
    expect(second.mtimeMs).toBe(first.mtimeMs);
  });

  it("replaces a corrupt cache, and one that other users could write, and still starts", async () => {
    const { tools } = await session();
    const [file] = await cacheFiles();
    const full = path.join(cacheDir(), file!);

    await fs.writeFile(full, Buffer.from("not a V8 code cache"));
    expect((await session()).tools).toBe(tools);
    expect((await fs.readFile(full)).length).toBeGreaterThan(100_000);

    await fs.chmod(full, 0o666);
    const before = await fs.stat(full);
    expect((await session()).tools).toBe(tools);
    const after = await fs.stat(full);
    expect(after.ino).not.toBe(before.ino); // ignored and replaced, not read
    expect(after.mode & 0o777).toBe(0o600);
  });

  it("removes caches of other builds written over a week ago, and keeps recent ones", async () => {
    await fs.mkdir(cacheDir(), { recursive: true, mode: 0o700 });
    const old = path.join(cacheDir(), "bundle-1-1-v0.0.0-x64.v8cache");
    const olderLoader = path.join(cacheDir(), "server-0123456789abcdef.v8cache");
    const recent = path.join(cacheDir(), "bundle-2-2-v0.0.0-x64.v8cache");
    const unrelated = path.join(cacheDir(), "notes.txt");
    for (const file of [old, olderLoader, recent, unrelated]) await fs.writeFile(file, "x", { mode: 0o600 });
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
    for (const file of [old, olderLoader, unrelated]) await fs.utimes(file, eightDaysAgo, eightDaysAgo);

    await session();
    const names = await fs.readdir(cacheDir());
    expect(names).not.toContain(path.basename(old));
    expect(names).not.toContain(path.basename(olderLoader));
    expect(names).toContain(path.basename(recent));
    expect(names).toContain("notes.txt");
    expect(names.filter((name) => /^bundle-\d+-\d+-v\d/.test(name) && !name.includes("v0.0.0"))).toHaveLength(
      1,
    );
  });

  it("is neither read nor written with FAL_MCP_COMPILE_CACHE=0, and a wrong value is refused like any setting", async () => {
    const { tools, stderr } = await session({ FAL_MCP_COMPILE_CACHE: "0" });
    expect(tools).toBeGreaterThan(0);
    expect(stderr).not.toMatch(/not a fal-mcp setting/);
    await expect(fs.access(cacheDir())).rejects.toThrow();

    const wrong = spawnRaw({ HOME: home, FAL_KEY: "test-key", FAL_MCP_COMPILE_CACHE: "maybe" });
    const exit = await wrong.exited;
    expect(exit.code).toBe(2);
    expect(wrong.stderr()).toMatch(/FAL_MCP_COMPILE_CACHE must be one of/);
    expect(wrong.stdoutLines).toEqual([]);
  });

  it("honours an absolute XDG_CACHE_HOME and ignores a relative one", async () => {
    const xdg = path.join(home, "xdg");
    await session({ XDG_CACHE_HOME: xdg });
    expect(await cacheFiles(path.join(xdg, "fal-mcp"))).toHaveLength(1);
    await expect(fs.access(cacheDir())).rejects.toThrow();

    await session({ XDG_CACHE_HOME: "relative/cache" });
    expect(await cacheFiles()).toHaveLength(1);
  });
});
