// Builds bench/floors/sdk-server.ts the way tsup builds fal-mcp (one CommonJS file, every dependency
// inlined, whitespace minified, ASCII) and writes two launchers: one that sets the same V8 flags as
// the launcher under test before requiring it (no code cache: a floor of what the SDK itself holds),
// and fal-mcp's own launcher pointed at the floor's bundle (the same flags and the same code cache: the
// start-up floor of a server that uses the SDK and starts the way fal-mcp starts).
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { build } from "tsup";
import { BIN, ROOT } from "./rpc.js";

export interface SdkFloor {
  /** Requires the bundle after setting the launcher's V8 flags. */
  launcher: string;
  /** bin/fal-mcp.js itself, loading the floor's bundle: flags and code cache (FAL_MCP_COMPILE_CACHE, XDG_CACHE_HOME). */
  cachedLauncher: string;
}

/** One build per scratch folder: the rows of one run share it. */
const builds = new Map<string, Promise<SdkFloor>>();

/** The launchers of the SDK's own server, built once per bench run (per scratch folder). */
export function buildSdkFloor(scratch: string): Promise<SdkFloor> {
  let launcher = builds.get(scratch);
  if (!launcher) builds.set(scratch, (launcher = compileFloor(scratch)));
  return launcher;
}

async function compileFloor(scratch: string): Promise<SdkFloor> {
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
  const binSource = await readFile(BIN, "utf8");
  const flags = [...binSource.matchAll(/^v8\.setFlagsFromString\("([^"]+)"\);$/gm)].map((match) => match[1]!);
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
  const cachedLauncher = path.join(outDir, "launch-cached.mjs");
  await writeFile(cachedLauncher, retarget(binSource));
  await writeFile(path.join(outDir, "package.json"), JSON.stringify({ version: "0.0.0-sdk-floor" }));
  return { launcher, cachedLauncher };
}

/** The launcher's source, loading ./server.cjs and naming its cache by ./package.json. */
function retarget(binSource: string): string {
  let source = binSource;
  for (const [from, to] of [
    ['new URL("../dist/index.cjs", import.meta.url)', 'new URL("./server.cjs", import.meta.url)'],
    ['new URL("../package.json", import.meta.url)', 'new URL("./package.json", import.meta.url)'],
  ] as const) {
    if (!source.includes(from))
      throw new Error(`${BIN} no longer has ${from}: update bench/lib/sdk-floor.ts`);
    source = source.replace(from, to);
  }
  return source;
}
