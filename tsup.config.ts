import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

export default defineConfig({
  // dist/index.js: the whole program with its dependencies inlined, so `npx fal-mcp` loads a few
  // files instead of resolving ~100 packages. Code needed only by one command (HTTP, doctor) is
  // loaded with `await import()` where it is used and split into its own chunk.
  entry: { index: "src/index.ts" },
  format: ["esm"],
  target: "node20",
  platform: "node",
  outDir: "dist",
  clean: true,
  sourcemap: true,
  splitting: true,
  noExternal: [/.*/],
  // Bundled CommonJS dependencies call require() on Node built-ins; give ESM output a real one.
  banner: { js: 'import { createRequire as __falMcpRequire } from "node:module"; const require = __falMcpRequire(import.meta.url);' },
  define: { __FAL_MCP_VERSION__: JSON.stringify(version) },
});
