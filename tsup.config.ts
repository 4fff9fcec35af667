import { spawn } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import os from "node:os";
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import type { Plugin } from "esbuild";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
const require = createRequire(import.meta.url);

/**
 * Makes CommonJS modules load on first use instead of at start-up: the import resolves to a facade
 * whose functions `require()` the real module when first called (esbuild keeps the module bundled,
 * behind its lazy CommonJS wrapper). Named imports of functions and classes work; anything else is
 * reachable through the default export's getters, and a named import of a non-function fails the
 * build ("No matching export"), never the run.
 */
function lazyModules(specifiers: string[]): Plugin {
  const filter = new RegExp(
    `^(${specifiers.map((s) => s.replace(/[/\\^$.*+?()[\]{}|-]/g, "\\$&")).join("|")})$`,
  );
  return {
    name: "lazy-modules",
    setup(build) {
      build.onResolve({ filter }, (args) =>
        args.namespace === "lazy-module" ? undefined : { path: args.path, namespace: "lazy-module" },
      );
      build.onLoad({ filter: /.*/, namespace: "lazy-module" }, (args) => {
        const builtin = isBuiltin(args.path);
        // Resolve as the SDK would (ajv is its dependency), falling back to the project root.
        const target = builtin
          ? args.path
          : require.resolve(args.path, {
              paths: [require.resolve("@modelcontextprotocol/sdk/package.json"), process.cwd()],
            });
        const real = require(target) as Record<string, unknown> & ((...args: unknown[]) => unknown);
        const esModule = real.__esModule === true;
        const defaultValue: unknown = esModule ? real.default : real;
        const names = Object.keys(real).filter(
          (name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== "default" && typeof real[name] === "function",
        );
        const lines = [
          `let loaded; const load = () => (loaded ??= require(${JSON.stringify(target)}));`,
          `const forward = (pick) => function (...args) { const f = pick(load()); return new.target ? Reflect.construct(f, args) : f.apply(this, args); };`,
          ...names.map((name) => `export const ${name} = forward((m) => m.${name});`),
        ];
        if (typeof defaultValue === "function") {
          lines.push(`export default forward((m) => ${esModule ? "m.default" : "m"});`);
        } else {
          const keys = defaultValue && typeof defaultValue === "object" ? Object.keys(defaultValue) : [];
          lines.push(
            `const facade = {};`,
            `for (const key of ${JSON.stringify(keys)}) Object.defineProperty(facade, key, { enumerable: true, get: () => load()${esModule ? ".default" : ""}[key] });`,
            `export default facade;`,
          );
        }
        return { contents: lines.join("\n"), loader: "js", resolveDir: process.cwd() };
      });
    },
  };
}

/**
 * Writes dist/manifest.json, the fast front's answers (src/fast-front.ts), by asking the real
 * server: it runs the fresh dist/server.cjs over stdio, sends `initialize` for every protocol
 * version the SDK supports and one it does not, then `tools/list`, and records what comes back.
 * The build fails when an answer has a shape the front could not reproduce byte for byte.
 */
async function writeManifest(): Promise<void> {
  const requested = [...SUPPORTED_PROTOCOL_VERSIONS, "1970-01-01"];
  const requests = [
    ...requested.map((protocolVersion, i) => ({
      jsonrpc: "2.0",
      id: i + 1,
      method: "initialize",
      params: { protocolVersion, capabilities: {}, clientInfo: { name: "fal-mcp-build", version: "0" } },
    })),
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 100, method: "tools/list" },
  ];
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: os.tmpdir(),
    FAL_MCP_LOG_LEVEL: "error",
    FAL_MCP_COMPILE_CACHE: "0",
  };
  const child = spawn(process.execPath, ["dist/server.cjs"], { env, stdio: ["pipe", "pipe", "inherit"] });
  const lines = new Map<unknown, string>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("manifest: the server did not answer within 20 s")),
      20_000,
    );
    let buffered = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        lines.set((JSON.parse(line) as { id?: unknown }).id, line);
      }
      if (lines.has(100) && requested.every((_, i) => lines.has(i + 1))) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      reject(new Error(`manifest: the server exited (code ${code}) before answering`)),
    );
    child.stdin.write(requests.map((request) => JSON.stringify(request) + "\n").join(""));
  });
  child.stdin.end();
  /** The result of the answer with `id`, checked to be exactly the envelope the front writes. */
  const result = (id: number): string => {
    const line = lines.get(id) ?? "";
    const parsed = JSON.parse(line) as { result?: unknown };
    const json = JSON.stringify(parsed.result);
    if (parsed.result === undefined || line !== `{"result":${json},"jsonrpc":"2.0","id":${id}}`)
      throw new Error(`manifest: unexpected answer ${line.slice(0, 200)}`);
    return json;
  };
  const initialize = requested.map(
    (version, i) => JSON.parse(result(i + 1)) as Record<string, unknown> & { protocolVersion: string },
  );
  const protocolVersions = requested.filter((version, i) => initialize[i]!.protocolVersion === version);
  const fallback = initialize[initialize.length - 1]!;
  for (const answer of initialize) {
    if (
      JSON.stringify({ ...answer, protocolVersion: "" }) !==
      JSON.stringify({ ...fallback, protocolVersion: "" })
    )
      throw new Error("manifest: initialize answers differ beyond protocolVersion");
  }
  const manifest = {
    bundleBytes: statSync("dist/server.cjs").size,
    protocolVersions,
    fallbackProtocolVersion: fallback.protocolVersion,
    initializeResult: fallback,
    toolsListResult: result(100),
  };
  writeFileSync("dist/manifest.json", JSON.stringify(manifest) + "\n");
}

export default defineConfig([
  {
    // dist/index.js: the loader (src/boot.ts) that runs dist/server.cjs through V8's code cache.
    entry: { index: "src/boot.ts" },
    format: ["esm"],
    target: "node20",
    platform: "node",
    outDir: "dist",
    // The two builds run in parallel: each cleans everything but the other's files.
    clean: ["!server.cjs", "!server.cjs.map", "!manifest.json"],
    sourcemap: true,
  },
  {
    // dist/server.cjs: the whole server with its dependencies inlined, so `npx fal-mcp` loads one
    // file instead of resolving ~100 packages. CommonJS because Node 20 can code-cache only scripts.
    entry: { server: "src/index.ts" },
    format: ["cjs"],
    outExtension: () => ({ js: ".cjs" }),
    target: "node20",
    platform: "node",
    outDir: "dist",
    clean: ["!index.js", "!index.js.map"],
    sourcemap: true,
    noExternal: [/.*/],
    // Keep `node:` specifiers (Node 20 has them all) so the plugin below sees node:http as written.
    removeNodeProtocol: false,
    esbuildPlugins: [
      // Needed only by calls, not by start-up: mime-db's 200 KB JSON, the HTTP stack of uploads, and
      // ajv (the SDK's validator for elicitation, which fal-mcp never sends; see src/mcp/server.ts).
      lazyModules(["mime-types", "node:http", "node:https", "ajv", "ajv-formats"]),
    ],
    define: { __FAL_MCP_VERSION__: JSON.stringify(version) },
    // The fast front's answers, recorded from this very bundle.
    onSuccess: writeManifest,
  },
]);
