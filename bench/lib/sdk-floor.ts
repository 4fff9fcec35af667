// Builds bench/floors/sdk-server.ts the way tsup builds fal-mcp (one CommonJS file, every dependency
// inlined, whitespace minified, ASCII) and writes a launcher that sets the same V8 flags as
// bin/fal-mcp.js before requiring it. No code cache: a floor of what the SDK itself holds.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { build } from "tsup";
import { ROOT } from "./rpc.js";

export async function buildSdkFloor(scratch: string): Promise<string> {
  const outDir = path.join(scratch, "sdk-floor");
  await build({
    entry: { server: path.join(ROOT, "bench/floors/sdk-server.ts") },
    format: ["cjs"],
    outExtension: () => ({ js: ".cjs" }),
    target: "node20",
    platform: "node",
    outDir,
    noExternal: [/.*/],
    minifyWhitespace: true,
    silent: true,
    config: false,
    esbuildOptions(options) {
      options.charset = "ascii";
      options.legalComments = "none";
    },
  });
  const launcher = path.join(outDir, "launch.mjs");
  await writeFile(
    launcher,
    [
      `import module from "node:module";`,
      `import v8 from "node:v8";`,
      `v8.setFlagsFromString("--optimize-for-size");`,
      `v8.setFlagsFromString("--semi-space-growth-factor=1");`,
      `module.createRequire(import.meta.url)("./server.cjs");`,
    ].join("\n"),
  );
  return launcher;
}
