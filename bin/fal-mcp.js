#!/usr/bin/env node
// The published entry point: a small launcher, so the bin path never changes with the build layout,
// that runs the bundle (dist/index.cjs, ~3 MB) through V8's code cache. Compiling the bundle and the
// functions the handshake and first call need was about 40% of spawn → first result on Node 20;
// with the cache a start after the first deserialises them instead. Any cache problem (no home,
// an unwritable folder, a cache from another Node or bundle, a corrupt or foreign file) falls back
// to a plain compile: the cache only ever costs a start its speed. FAL_MCP_COMPILE_CACHE=0 turns it
// off. It writes nothing to stdout.
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
import { isAscii } from "node:buffer";
import module from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
// The built-in modules the bundle loads at start-up, loaded here first, while no V8 flag has been
// changed: Node's own code cache for its built-ins is made under the default flags, and V8 rejects
// a code cache made under other flags, so every built-in loaded after the flags below was compiled
// from source (http, https, tls, net, zlib, crypto, streams: 37-42 ms against 12-13 ms read from
// Node's cache, and 0.5 MiB more resident). Required, not imported: an ESM import of a built-in
// reads all of its exports, and on Node 22 and 24 node:http's WebSocket, CloseEvent and
// MessageEvent are getters that load undici (fetch's machinery, which a stdio server never uses).
// tests/e2e/compile-cache.test.ts fails when the bundle's start-up loads one not listed here.
const requireBuiltin = module.createRequire(import.meta.url);
for (const name of [
  "node:crypto",
  "node:diagnostics_channel",
  "node:dns",
  "node:fs/promises",
  "node:http",
  "node:https",
  "node:net",
  "node:process",
  "node:stream",
  "node:stream/promises",
  "node:string_decoder",
  "node:tls",
  "node:zlib",
])
  requireBuiltin(name);

// Memory as users see it (VmRSS; they run many MCP servers at once): V8 sizes this long-lived,
// mostly idle process for throughput by default, letting old space grow to ~3× the live heap
// between full collections and the young generation to 2 × 16 MiB. Both flags below are read by
// V8's heap heuristics each time they run, so setting them here, before the program loads, takes
// effect: measured 160 → 100 MiB after 1,000 mixed calls and 74 → 68 MiB idle (bench: memory),
// with no measurable cost per call. No command-line flag is needed, so `npx fal-mcp` gets it too.
// They are set before the bundle is compiled because V8 accepts a code cache only under the flags
// it was made with.
v8.setFlagsFromString("--optimize-for-size");
v8.setFlagsFromString("--semi-space-growth-factor=1");
// fetch parses HTTP with llhttp compiled to WebAssembly; V8's optimising wasm compiler took ~30 MiB
// of malloc'd memory for it on the first fal API calls, which the allocator kept: RSS after 5,000
// calls 108 → 98 MiB (peak malloc 34 → 6 MiB). fal's API calls now use node:http's native parser
// too; fetch is left behind a proxy (undici's agent), where this still holds.
v8.setFlagsFromString("--liftoff-only");
// The same for JavaScript: V8's optimising compiler (TurboFan; Maglev on Node 22+) compiles hot
// functions in zones of malloc'd memory that the allocator keeps, and its code is large. This
// process runs many short, varied calls that spend their time in syscalls, the GC and native code,
// so optimised code barely pays: capped at the baseline compiler (Sparkplug), VmRSS idle 70 → 59
// MiB and after 5,000 mixed calls 95 → 77 MiB, start-up and per-call CPU no worse (bench: memory,
// cold-start, overhead; the A/Bs are in the README's Performance section).
v8.setFlagsFromString("--max-opt=1");

const bundle = fileURLToPath(new URL("../dist/index.cjs", import.meta.url));
const CACHE_PREFIX = "bundle-";
const CACHE_SUFFIX = ".v8cache";
// "server-" named the caches of 0.1.0's earlier loader; they are cleaned up the same way.
const STALE_PREFIXES = [CACHE_PREFIX, "server-"];

/** The per-user cache folder of this platform (never a shared temp folder: bytecode from a file another user can write would run here). */
function cacheFolder(env, platform, home) {
  if (platform === "win32") {
    const base = env.LOCALAPPDATA || (home ? path.join(home, "AppData", "Local") : "");
    return base ? path.join(base, "fal-mcp", "Cache") : undefined;
  }
  if (platform === "darwin") return home ? path.join(home, "Library", "Caches", "fal-mcp") : undefined;
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : home ? path.join(home, ".cache") : "";
  return base ? path.join(base, "fal-mcp") : undefined;
}

/** On unless set to one of the words every fal-mcp flag takes for off (src/settings.ts); the program rejects other values. */
function cacheEnabled(raw) {
  return raw === undefined || !["0", "false", "no", "off", ""].includes(raw.trim().toLowerCase());
}

/** The cache of this bundle (size and time) on this Node build, when it belongs to this user and no one else can write it. */
function readOwnCache(file) {
  let fd;
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

function writeCache(folder, file, data) {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, data, { mode: 0o600 });
    renameSync(temporary, file); // atomic: a server starting now reads the old file or the new one
    // Caches of other bundles or Node builds unused for a week go; a recent one may belong to
    // another installed version that a different client still starts (a removed one is rewritten).
    const stale = Date.now() - 7 * 86_400_000;
    for (const name of readdirSync(folder)) {
      const other = path.join(folder, name);
      if (
        STALE_PREFIXES.some((prefix) => name.startsWith(prefix)) &&
        name.endsWith(CACHE_SUFFIX) &&
        other !== file &&
        statSync(other).mtimeMs < stale
      )
        rmSync(other, { force: true });
    }
  } catch {
    // A read-only home or a full disk only costs the next start its speed.
  }
}

/**
 * Reads and compiles the bundle. Its bytes and the cache's are locals here, so they are garbage as
 * soon as this returns, before the bundle runs: young, they go at its first scavenge. Held while
 * the bundle started, they were promoted and stayed resident (~5 MB) until a full collection.
 */
function compile() {
  // The build emits ASCII only (tests/e2e/compile-cache.test.ts checks): decoded as latin1 it is
  // the same string, made by a copy instead of UTF-8 decoding (3 MB: ~1.5 ms instead of ~9-16 ms).
  const bytes = readFileSync(bundle);
  const source = isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
  const folder = cacheEnabled(process.env.FAL_MCP_COMPILE_CACHE)
    ? cacheFolder(process.env, process.platform, os.homedir())
    : undefined;
  let file;
  let cachedData;
  if (folder) {
    // V8 checks a cache against the source's length only, so the name carries all that tells two
    // bundles apart: the package version (npm gives every packed file the same mtime), the size and
    // mtime (for local builds), and the Node build.
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    const { size, mtimeMs } = statSync(bundle);
    const key = `${version}-${size}-${Math.trunc(mtimeMs)}-${process.version}-${process.arch}`.replace(
      /[^\w.-]/g,
      "_",
    );
    file = path.join(folder, `${CACHE_PREFIX}${key}${CACHE_SUFFIX}`);
    cachedData = readOwnCache(file);
  }
  // The wrapper Node puts around a CommonJS module, on the bundle's first line so line numbers stay
  // true. The bundle holds no import() (tests/e2e/compile-cache.test.ts checks): on Node 20 a script
  // compiled from a code cache loses its dynamic-import callback.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
  });
  return { script, folder, file, cacheUsable: cachedData !== undefined && !script.cachedDataRejected };
}

function load() {
  const { script, folder, file, cacheUsable } = compile();
  // Only a serving process writes it (no command, or `http`): the first start's cache is kept
  // while V8 accepts it, so one written by `--version` or `doctor` would hold little of the server.
  const command = process.argv[2];
  const serving = command === undefined || command === "http";
  if (serving && folder && file && !cacheUsable) {
    // Written once the server has answered its first requests, so the functions compiled for them
    // are cached too; or at exit if the process ends sooner. Only when missing or rejected, so a
    // start with a good cache writes nothing.
    let written = false;
    const save = () => {
      if (written) return;
      written = true;
      writeCache(folder, file, script.createCachedData());
    };
    setTimeout(save, 3_000).unref();
    process.once("exit", save);
  }
  const wrapper = script.runInThisContext();
  const exports = {};
  const bundleModule = { exports, filename: bundle, id: bundle, loaded: false };
  wrapper.call(exports, exports, module.createRequire(bundle), bundleModule, bundle, path.dirname(bundle));
}

load();
