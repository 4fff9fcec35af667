import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

export default defineConfig({
  // dist/index.cjs: the whole program with its dependencies inlined, so `npx fal-mcp` loads one
  // file instead of resolving ~100 packages. Code needed only by one command (HTTP, doctor, the
  // official fal client) is reached through `await import()` where it is used, which esbuild
  // keeps lazily initialised inside the bundle. CommonJS sidesteps ESM/CJS interop of bundled
  // CommonJS dependencies.
  entry: { index: "src/index.ts" },
  format: ["cjs"],
  outExtension: () => ({ js: ".cjs" }),
  target: "node20",
  platform: "node",
  outDir: "dist",
  clean: true,
  sourcemap: true,
  noExternal: [/.*/],
  define: { __FAL_MCP_VERSION__: JSON.stringify(version) },
  // V8 keeps the bundle's source in memory for the life of the process, and one non-ASCII
  // character (a "→" in a string, a "—" in a dependency's comment) makes all of it a two-byte
  // string. ASCII output with no comments or indentation: 1.8 MB of one-byte source instead of 4.8 MB,
  // and less to scan at every start. Names are kept, so stack traces still read.
  minifyWhitespace: true,
  esbuildOptions(options) {
    options.charset = "ascii";
    // Licence comments (one names "Jimmy Wärting") go to dist/index.cjs.LEGAL.txt, shipped beside it.
    options.legalComments = "external";
  },
});
