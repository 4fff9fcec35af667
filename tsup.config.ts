import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Plugin } from "esbuild";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
const require = createRequire(import.meta.url);

/**
 * `await import("@fal-ai/client")` of a CommonJS package, bundled with `splitting`, becomes a chunk
 * whose only export is `default`: the named exports (`createFalClient`) would read as undefined at
 * run time. This gives the dynamic import an ESM face with every named export of the package, so
 * the client stays in its own chunk, read only when a tool first needs it.
 */
function commonJsNamedExports(packages: string[]): Plugin {
  const filter = new RegExp(`^(${packages.map((p) => p.replace(/[/\\^$.*+?()[\]{}|-]/g, "\\$&")).join("|")})$`);
  return {
    name: "commonjs-named-exports",
    setup(build) {
      build.onResolve({ filter }, (args) => (args.importer.includes("node_modules") ? undefined : { path: args.path, namespace: "cjs-named" }));
      build.onLoad({ filter: /.*/, namespace: "cjs-named" }, (args) => {
        const file = require.resolve(args.path);
        const names = Object.keys(require(args.path) as object).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== "default" && name !== "__esModule");
        return {
          contents: `import * as pkg from ${JSON.stringify(file)};\nexport const { ${names.join(", ")} } = pkg;\n`,
          loader: "js",
          resolveDir: process.cwd(),
        };
      });
    },
  };
}

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm"],
  target: "node20",
  platform: "node",
  outDir: "dist",
  clean: true,
  sourcemap: true,
  splitting: true,
  // Runtime dependencies are bundled so that `npx fal-mcp` loads one file tree instead of
  // resolving ~100 packages at start-up (see the README's Performance section).
  noExternal: [/.*/],
  esbuildPlugins: [commonJsNamedExports(["@fal-ai/client"])],
  define: { __FAL_MCP_VERSION__: JSON.stringify(version) },
  banner: {
    // Bundled CommonJS dependencies (the SDK's ajv, @fal-ai/client) call require().
    js: "import { createRequire as __falMcpCreateRequire } from 'node:module'; const require = __falMcpCreateRequire(import.meta.url);",
  },
});
