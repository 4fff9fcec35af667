// The published entry (dist/index.js): loads the bundled server (dist/server.cjs) through V8's code
// cache, so a start after the first skips compiling ~2 MB of JavaScript. Node 22.1+ has
// `module.enableCompileCache()`; Node 20 has only `vm.Script` with `cachedData`, which needs a
// CommonJS bundle, hence this small loader. It writes nothing to stdout, and any cache problem
// (unwritable folder, a cache from another Node, a corrupt file) falls back to a plain compile.
//
// Before loading, a plain start (no command) answers the client's handshake from the build's
// manifest (src/fast-front.ts), so the client has the tool list in about the time Node needs to
// start; the server loads right after and takes the connection over. Without a manifest that
// matches the bundle (or with a command such as doctor) the server loads at once, as before.
//
// FAL_MCP_COMPILE_CACHE=0 turns the cache off. The cache lives in a per-user folder (never a
// shared temp folder: bytecode from a file another user could write would run in this process).
import type { createHash as CreateHash } from "node:crypto";
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { parseManifest, startFastFront, type FrontManifest } from "./fast-front.js";

const dist = path.dirname(fileURLToPath(import.meta.url));
const bundle = path.join(dist, "server.cjs");

/** The per-user cache folder for this platform, or undefined when there is no home. */
function cacheFolder(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home = os.homedir(),
): string | undefined {
  if (platform === "win32") {
    const base = env.LOCALAPPDATA || (home ? path.join(home, "AppData", "Local") : undefined);
    return base ? path.join(base, "fal-mcp", "Cache") : undefined;
  }
  if (platform === "darwin") return home ? path.join(home, "Library", "Caches", "fal-mcp") : undefined;
  const base =
    env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)
      ? env.XDG_CACHE_HOME
      : home
        ? path.join(home, ".cache")
        : undefined;
  return base ? path.join(base, "fal-mcp") : undefined;
}

/** Names the cache after everything that invalidates it: this bundle (size and time) and the Node build. */
function cacheFileName(
  bundleSize: number,
  bundleMtimeMs: number,
  nodeVersion = process.version,
  arch = process.arch,
): string {
  // Required here, not imported: node:crypto takes ~3 ms to load, and the fast front never needs it.
  const { createHash } = createRequire(import.meta.url)("node:crypto") as { createHash: typeof CreateHash };
  const key = createHash("sha256")
    .update(`${bundleSize}:${bundleMtimeMs}:${nodeVersion}:${arch}`)
    .digest("hex")
    .slice(0, 16);
  return `server-${key}.v8cache`;
}

/** Reads the cache when it exists, belongs to this user and is not writable by others. */
function readOwnCache(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const stat = fstatSync(fd);
    if (typeof process.getuid === "function" && (stat.uid !== process.getuid() || (stat.mode & 0o022) !== 0))
      return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeCache(folder: string, file: string, data: Buffer): void {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, data, { mode: 0o600 });
    renameSync(temporary, file); // atomic: a server starting now reads the old file or the new one
    // Caches of other versions or Node builds written over a week ago go; recent ones may belong to
    // another installed version that a different client still starts (a removed one is rewritten).
    const stale = Date.now() - 7 * 86_400_000;
    for (const name of readdirSync(folder)) {
      const other = path.join(folder, name);
      if (name.startsWith("server-") && other !== file && statSync(other).mtimeMs < stale)
        rmSync(other, { force: true });
    }
  } catch {
    // A read-only home or a full disk only costs the next start its speed.
  }
}

function load(): void {
  const source = readFileSync(bundle, "utf8");
  const enabled = process.env.FAL_MCP_COMPILE_CACHE !== "0";
  const folder = enabled ? cacheFolder() : undefined;
  let file: string | undefined;
  let cachedData: Buffer | undefined;
  if (folder) {
    const stat = statSync(bundle);
    file = path.join(folder, cacheFileName(stat.size, stat.mtimeMs));
    cachedData = readOwnCache(file);
  }
  // The same wrapper Node puts around a CommonJS module, on one line so line numbers stay true.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
  });
  if (folder && file && (!cachedData || script.cachedDataRejected)) {
    // Written once the server has answered its first requests, so the functions compiled for them
    // are in the cache too; or at exit if the process ends sooner.
    let written = false;
    const save = (): void => {
      if (written) return;
      written = true;
      writeCache(folder, file, script.createCachedData());
    };
    setTimeout(save, 3_000).unref();
    process.once("exit", save);
  }
  const module = { exports: {} };
  const wrapper = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: object,
    filename: string,
    dirname: string,
  ) => void;
  wrapper.call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
}

/** The build's recorded handshake, when it belongs to this bundle; otherwise undefined (no fast front). */
function readManifest(): FrontManifest | undefined {
  try {
    const manifest = parseManifest(readFileSync(path.join(dist, "manifest.json"), "utf8"));
    return manifest && manifest.bundleBytes === statSync(bundle).size ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the handshake from the manifest until the server loads. Until then this process has
 * nothing to clean up, so a signal or a closed stdout ends it at once; the full program installs
 * its own handlers when it loads, and these go first.
 */
function startFront(manifest: FrontManifest): void {
  const debug =
    process.env.FAL_MCP_LOG_LEVEL === "debug"
      ? (message: string) => void process.stderr.write(`[fal-mcp] debug: ${message}\n`)
      : undefined;
  const exitNow = (): void => process.exit(0);
  const onStdoutError = (error: NodeJS.ErrnoException): void => {
    if (error.code === "EPIPE") exitNow();
  };
  const signals = ["SIGTERM", "SIGINT", "SIGHUP"] as const;
  for (const signal of signals) process.on(signal, exitNow);
  process.stdout.on("error", onStdoutError);
  startFastFront({
    manifest,
    stdin: process.stdin,
    stdout: process.stdout,
    load() {
      for (const signal of signals) process.off(signal, exitNow);
      process.stdout.off("error", onStdoutError);
      load();
    },
    ...(debug ? { debug } : {}),
  });
}

// FAL_MCP_FAST_START=0 loads the full server before answering anything (for diagnosing a client).
const manifest =
  process.argv.length <= 2 && process.env.FAL_MCP_FAST_START !== "0" ? readManifest() : undefined;
if (manifest) startFront(manifest);
else load();
