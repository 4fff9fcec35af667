import { readFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
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
  const filter = new RegExp(`^(${specifiers.map((s) => s.replace(/[/\\^$.*+?()[\]{}|-]/g, "\\$&")).join("|")})$`);
  return {
    name: "lazy-modules",
    setup(build) {
      build.onResolve({ filter }, (args) => (args.namespace === "lazy-module" ? undefined : { path: args.path, namespace: "lazy-module" }));
      build.onLoad({ filter: /.*/, namespace: "lazy-module" }, (args) => {
        const builtin = isBuiltin(args.path);
        // Resolve as the SDK would (ajv is its dependency), falling back to the project root.
        const target = builtin ? args.path : require.resolve(args.path, { paths: [require.resolve("@modelcontextprotocol/sdk/package.json"), process.cwd()] });
        const real = require(target) as Record<string, unknown> & ((...args: unknown[]) => unknown);
        const esModule = real.__esModule === true;
        const defaultValue: unknown = esModule ? real.default : real;
        const names = Object.keys(real).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== "default" && typeof real[name] === "function");
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

export default defineConfig([
  {
    // dist/index.js: the loader (src/boot.ts) that runs dist/server.cjs through V8's code cache.
    entry: { index: "src/boot.ts" },
    format: ["esm"],
    target: "node20",
    platform: "node",
    outDir: "dist",
    // The two builds run in parallel: each cleans everything but the other's files.
    clean: ["!server.cjs", "!server.cjs.map"],
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
      // ajv (the SDK's validator for elicitation, which fal-mcp never sends; see src/server.ts).
      lazyModules(["mime-types", "node:http", "node:https", "ajv", "ajv-formats"]),
    ],
    define: { __FAL_MCP_VERSION__: JSON.stringify(version) },
  },
]);
