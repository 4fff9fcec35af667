import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

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
  define: { __FAL_MCP_VERSION__: JSON.stringify(version) },
  banner: {
    // Bundled CommonJS dependencies (the SDK's ajv, @fal-ai/client) call require().
    js: "import { createRequire as __falMcpCreateRequire } from 'node:module'; const require = __falMcpCreateRequire(import.meta.url);",
  },
});
