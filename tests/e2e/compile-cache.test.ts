// The launcher (bin/fal-mcp.js) runs the bundle through V8's code cache. These tests pin what a user
// can observe: where the cache goes and with which permissions, that V8 accepts it (a good cache is
// reused as is, not rewritten), that a bad one (corrupt, or writable by others) is replaced and never
// breaks a start, that the switch works, and that the setting is a known one.
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { BIN, INITIALIZE, INITIALIZED, spawnRaw } from "../helpers/bin.js";

let fake: FakeFal;
beforeAll(async () => {
  fake = await startFakeFal();
});
afterAll(async () => {
  await fake?.close();
});

let home: string;

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-cache-"));
});
afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

const cacheDir = () => path.join(home, ".cache", "fal-mcp");

/** The server's settings in `home`, with `extra` on top. */
function serverEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    HOME: home,
    FAL_KEY: "test-key",
    FAL_MCP_BASE_URL: fake.url,
    FAL_MCP_STATE_DIR: path.join(home, "state"),
    FAL_MCP_OUTPUT_DIR: path.join(home, "out"),
    ...extra,
  };
}

/**
 * Starts the bin with `home` as HOME, lists the tools, optionally calls one, closes stdin and waits
 * for the exit.
 */
async function session(
  extra: Record<string, string | undefined> = {},
  call?: { name: string; arguments: Record<string, unknown> },
): Promise<{ tools: number; stderr: string; called?: Record<string, unknown> }> {
  const server = spawnRaw(serverEnv(extra));
  server.send(INITIALIZE);
  await server.response(0);
  server.send(INITIALIZED);
  server.send({ jsonrpc: "2.0", id: 1, method: "tools/list" });
  const list = await server.response(1);
  let called: Record<string, unknown> | undefined;
  if (call) {
    server.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: call });
    called = (await server.response(2, 20_000)).result as Record<string, unknown>;
  }
  server.child.stdin.end();
  const exit = await server.exited;
  expect(exit.code).toBe(0);
  // Nothing but protocol messages on stdout, the cache or not.
  for (const line of server.stdoutLines) expect(JSON.parse(line)).toHaveProperty("jsonrpc", "2.0");
  return { tools: (list.result as { tools: unknown[] }).tools.length, stderr: server.stderr(), called };
}

/**
 * A --require hook for the server that writes `expression` (over `process.moduleLoadList` and what
 * `setup` defines) as JSON when the process exits; `read()` returns what it wrote.
 */
async function exitReport(
  name: string,
  expression: string,
  setup = "",
): Promise<{ hook: string; read(): Promise<unknown> }> {
  const hook = path.join(home, `${name}.cjs`);
  const report = path.join(home, `${name}.json`);
  await fs.writeFile(
    hook,
    `${setup}
     process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(report)}, JSON.stringify(${expression})));`,
  );
  return { hook, read: async () => JSON.parse(await fs.readFile(report, "utf8")) as unknown };
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
    expect(file).toMatch(/^bundle-\d+\.\d+\.\d+[\w.-]*-\d+-\d+-v\d+\.\d+\.\d+-[a-z0-9]+\.v8cache$/);
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

  it("serves every path of the program from a cached start: an upload (node:http agents) and a run", async () => {
    const file = path.join(home, "out", "photo.png");
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, Buffer.alloc(4096, 7));
    const upload = { name: "upload_file", arguments: { path: file } };
    const run = {
      name: "run_model",
      arguments: { endpoint_id: "fal-ai/flux/dev", input: { prompt: "a fox" } },
    };
    expect((await session({}, upload)).called?.isError).toBeFalsy(); // compiles, writes the cache
    const [cache] = await cacheFiles();
    const written = await fs.stat(path.join(cacheDir(), cache!));
    for (const call of [upload, run]) {
      const { called } = await session({}, call);
      expect(called?.isError, JSON.stringify(called)).toBeFalsy();
    }
    // Those starts used the cache (V8 accepted it, so it was not rewritten).
    expect((await fs.stat(path.join(cacheDir(), cache!))).mtimeMs).toBe(written.mtimeMs);
  });

  it("loads a bundle with no import() (on Node 20 a code-cached script cannot serve one), in ASCII only", async () => {
    const bundle = fileURLToPath(new URL("../../dist/index.cjs", import.meta.url));
    const bytes = await fs.readFile(bundle);
    expect(bytes.toString("latin1").match(/[^\w$.]import\(/g)).toBeNull();
    // The launcher decodes an ASCII bundle by copying it; a character esbuild cannot escape (one in a
    // regular expression literal, say) would send every start through the slow UTF-8 decoder.
    const nonAscii = bytes.findIndex((byte) => byte > 0x7f);
    expect(nonAscii === -1 ? "" : bytes.subarray(Math.max(0, nonAscii - 60), nonAscii + 4).toString()).toBe(
      "",
    );
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
    const old = path.join(cacheDir(), "bundle-0.0.1-1-1-v0.0.0-x64.v8cache");
    const olderLoader = path.join(cacheDir(), "server-0123456789abcdef.v8cache");
    const recent = path.join(cacheDir(), "bundle-0.0.1-2-2-v0.0.0-x64.v8cache");
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
    expect(names.filter((name) => name.startsWith("bundle-") && !name.includes("v0.0.0"))).toHaveLength(1);
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

  it("is written only by a serving process, not by --version, --help or doctor", async () => {
    for (const args of [["--version"], ["--help"], ["doctor"]]) {
      const run = spawnRaw({ HOME: home, FAL_KEY: "test-key", FAL_MCP_BASE_URL: fake.url }, args);
      run.child.stdin.end();
      await run.exited;
    }
    expect(await cacheFiles()).toEqual([]);
    await session();
    expect(await cacheFiles()).toHaveLength(1);
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

describe("the launcher's V8 flags", () => {
  it("are set after every built-in module the start-up loads, so those are read from Node's own code cache", async () => {
    // V8 rejects a code cache made under other flags: a built-in loaded after the flags is compiled
    // from source (start-up +20-30 ms). This records the built-ins loaded after the first flag.
    const report = await exitReport(
      "after-flags",
      "mark === undefined ? null : process.moduleLoadList.slice(mark)",
      `const v8 = require("node:v8"); const set = v8.setFlagsFromString; let mark;
       v8.setFlagsFromString = (flag) => { mark ??= process.moduleLoadList.length; return set(flag); };`,
    );
    const { called } = await session(
      { NODE_OPTIONS: `--require ${report.hook}` },
      { name: "search_models", arguments: { query: "flux" } },
    );
    expect(called?.isError).toBeFalsy();
    const loadedAfter = (await report.read()) as string[] | null;
    expect(loadedAfter, "the launcher set no flag").not.toBeNull();
    // Internal modules cannot be loaded ahead by name; public ones can, and must be.
    const publicModules = loadedAfter!.filter((entry) => /^NativeModule (?!internal\/)/.test(entry));
    expect(publicModules).toEqual([]);
    // A check that can fail: the flags come after the launcher's own imports, not before everything.
    expect(loadedAfter!.length).toBeGreaterThan(0);
  });

  it("are all known to this Node, so none is dropped with only a line on stderr", async () => {
    const launcher = await fs.readFile(BIN, "utf8");
    const flags = [...launcher.matchAll(/^v8\.setFlagsFromString\("--([\w-]+)(?:=[^"]*)?"\);$/gm)].map(
      (match) => match[1]!,
    );
    expect(flags).toEqual(
      expect.arrayContaining(["optimize-for-size", "semi-space-growth-factor", "liftoff-only", "max-opt"]),
    );
    const known = execFileSync(process.execPath, ["--v8-options"], { encoding: "utf8" });
    for (const flag of flags) expect(known, `--${flag}`).toMatch(new RegExp(`^\\s+--${flag} \\(`, "m"));
  });
});

describe("fetch's machinery (undici)", () => {
  it("is never loaded by a stdio server's calls: runs, jobs, uploads (multipart too) and searches", async () => {
    // Its first use (a platform Response, Headers or Request; on Node 22 and 24 also an ESM import
    // of node:http) compiles undici from source under the launcher's flags: 30-50 ms of CPU and
    // ~13 MiB resident for good. fal's APIs go over node:http, and the official client is given
    // in-memory answers instead.
    const report = await exitReport(
      "undici",
      "process.moduleLoadList.filter((entry) => /undici/.test(entry))",
    );
    const files = path.join(home, "files");
    await fs.mkdir(files);
    await fs.writeFile(path.join(files, "note.txt"), "hello");
    // Over the 90 MiB multipart threshold; sparse, so it costs no disk.
    await fs.writeFile(path.join(files, "big.bin"), "");
    await fs.truncate(path.join(files, "big.bin"), 91 * 1024 * 1024);
    const server = spawnRaw(
      serverEnv({
        FAL_MCP_ALLOWED_DIRS: files,
        FAL_MCP_ALLOW_PRIVATE_URLS: "1",
        NODE_OPTIONS: `--require ${report.hook}`,
      }),
    );
    server.send(INITIALIZE);
    await server.response(0);
    server.send(INITIALIZED);
    let id = 0;
    const call = async (name: string, args: Record<string, unknown>) => {
      server.send({ jsonrpc: "2.0", id: ++id, method: "tools/call", params: { name, arguments: args } });
      const result = (await server.response(id, 30_000)).result as {
        isError?: boolean;
        structuredContent?: Record<string, unknown>;
      };
      expect(result.isError, `${name}: ${JSON.stringify(result).slice(0, 300)}`).toBeFalsy();
      return result.structuredContent ?? {};
    };
    await call("run_model", { endpoint_id: "fal-ai/flux/schnell", input: { prompt: "a fox" } });
    const job = await call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "a fox" } });
    await call("check_job", { request_id: job.request_id });
    await call("get_job_result", { request_id: job.request_id });
    await call("search_models", { query: "flux" });
    await call("get_pricing", { endpoint_ids: ["fal-ai/flux/dev"] });
    await call("search_docs", { query: "queue" });
    await call("upload_file", { path: path.join(files, "note.txt") });
    await call("upload_file", { path: path.join(files, "big.bin") });
    server.child.stdin.end();
    expect((await server.exited).code).toBe(0);
    expect(await report.read()).toEqual([]);
  }, 60_000);
});
