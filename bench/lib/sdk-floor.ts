// Builds bench/floors/sdk-server.ts the way tsup builds fal-mcp (one CommonJS file, every dependency
// inlined, whitespace minified, ASCII) and writes a launcher that sets the same V8 flags as the
// launcher under test before requiring it. No code cache: a floor of what the SDK itself holds.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { build } from "tsup";
import { BIN, ROOT } from "./rpc.js";

/** One build per scratch folder: the start-up and memory rows of one run share it. */
const builds = new Map<string, Promise<string>>();

/** The launcher of the SDK's one-tool server, built once per bench run (per scratch folder). */
export function buildSdkFloor(scratch: string): Promise<string> {
  let launcher = builds.get(scratch);
  if (!launcher) builds.set(scratch, (launcher = compileFloor(scratch)));
  return launcher;
}

async function compileFloor(scratch: string): Promise<string> {
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
  // The V8 flags are read from the launcher under test, so the floor always gets the same ones.
  const flags = [...(await readFile(BIN, "utf8")).matchAll(/^v8\.setFlagsFromString\("([^"]+)"\);$/gm)].map(
    (match) => match[1]!,
  );
  if (flags.length === 0) throw new Error(`no v8.setFlagsFromString lines found in ${BIN}`);
  const launcher = path.join(outDir, "launch.mjs");
  await writeFile(
    launcher,
    [
      `import module from "node:module";`,
      `import v8 from "node:v8";`,
      ...flags.map((flag) => `v8.setFlagsFromString(${JSON.stringify(flag)});`),
      `module.createRequire(import.meta.url)("./server.cjs");`,
    ].join("\n"),
  );
  return launcher;
}
