// Row 1: cold start for each way clients open a stdio connection (the 2025 `initialize`;
// `server/discover` then `initialize` on the same process, as Claude Code does; a client pinned to
// 2026-07-28), as spawn → tools/list answered and spawn → first search_models result. The floor is
// a bare `node -e` process that answers the same JSON-RPC by hand and makes one raw fetch of the
// catalog page for the search: what no server can beat on this machine.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { prepareNpx, npxWorkDir } from "../lib/npx.js";
import { RpcChild, ROOT, serverEnv, BIN } from "../lib/rpc.js";
import { buildSdkFloor } from "../lib/sdk-floor.js";
import { verdict, type RowContext, type RowResult } from "../lib/row.js";
import { median, ms, ratio } from "../lib/stats.js";

/**
 * Answers any request by hand; tools/call makes one raw fetch of fal's catalog search (through the
 * fake, as FAL_MCP_BASE_URL redirects it) and returns the body as text.
 */
export const FLOOR_SCRIPT = `let b="";const base=process.env.FLOOR_BASE_URL;process.stdin.setEncoding("utf8");const send=(id,result)=>process.stdout.write(JSON.stringify({jsonrpc:"2.0",id,result})+"\\n");process.stdin.on("data",c=>{b+=c;let i;while((i=b.indexOf("\\n"))>=0){const m=JSON.parse(b.slice(0,i));b=b.slice(i+1);if(m.id===undefined)continue;if(m.method==="tools/call"){fetch(base+"/api.fal.ai/v1/models?q=flux&limit=5").then(r=>r.text()).then(t=>send(m.id,{content:[{type:"text",text:t.slice(0,2000)}]}));continue}const result=m.method==="initialize"?{protocolVersion:m.params.protocolVersion,capabilities:{tools:{}},serverInfo:{name:"floor",version:"0"}}:m.method==="server/discover"?{supportedVersions:["2026-07-28"],capabilities:{tools:{}}}:{tools:[]};send(m.id,result)}});process.stdin.on("end",()=>process.exit(0));`;

type Sequence = "initialize" | "discover+initialize" | "pinned 2026";
const SEQUENCES: Sequence[] = ["initialize", "discover+initialize", "pinned 2026"];

const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "fal-mcp-bench", version: "0" },
};

interface Sample {
  toolsList: number;
  firstResult: number;
}

async function open(child: RpcChild, sequence: Sequence): Promise<Record<string, unknown> | undefined> {
  if (sequence === "pinned 2026") return { _meta: ENVELOPE };
  if (sequence === "discover+initialize") await child.request("server/discover", { _meta: ENVELOPE });
  await child.initialize();
  child.notify("notifications/initialized");
  return undefined;
}

interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

/** spawn → tools/list answered, on a process of its own. */
async function timeToolsList(launch: Launch, sequence: Sequence): Promise<number> {
  const lister = new RpcChild(launch.command, launch.args, launch.env, launch.cwd);
  try {
    const params = await open(lister, sequence);
    await lister.request("tools/list", params);
    return performance.now() - lister.spawnedAt;
  } finally {
    await lister.close();
  }
}

/** spawn → first search_models result, on a process of its own. */
async function timeFirstResult(launch: Launch, sequence: Sequence): Promise<number> {
  const caller = new RpcChild(launch.command, launch.args, launch.env, launch.cwd);
  try {
    const params = await open(caller, sequence);
    const result = await caller.request("tools/call", {
      name: "search_models",
      arguments: { query: "flux", limit: 5 },
      ...params,
    });
    if (result.isError) throw new Error(`search_models failed in the ${sequence} sequence`);
    return performance.now() - caller.spawnedAt;
  } finally {
    await caller.close();
  }
}

async function measure(launch: Launch, sequence: Sequence): Promise<Sample> {
  return {
    toolsList: await timeToolsList(launch, sequence),
    firstResult: await timeFirstResult(launch, sequence),
  };
}

function bundleSize(): { files: number; bytes: number } {
  const dist = path.join(ROOT, "dist");
  let bytes = 0;
  let files = 0;
  for (const name of readdirSync(dist)) {
    if (!name.endsWith(".js") && !name.endsWith(".cjs")) continue;
    files++;
    bytes += statSync(path.join(dist, name)).size;
  }
  return { files, bytes };
}

export async function coldStart(context: RowContext): Promise<RowResult> {
  const runs = context.quick ? 3 : 7;
  const npxRuns = context.quick ? 2 : 5;
  const direct: Launch = { command: process.execPath, args: [BIN], env: serverEnv(context.env) };
  const floorDirect: Launch = {
    command: process.execPath,
    args: ["-e", FLOOR_SCRIPT],
    env: serverEnv({ FLOOR_BASE_URL: context.fakeUrl }),
  };
  // Reported beside the floor: fal-mcp without its code cache (every start compiles, as the very
  // first does), and the MCP SDK's own server (bench/floors/sdk-server.ts), without a code
  // cache and started by fal-mcp's own launcher (its flags and code cache, in a folder of its own).
  const uncached: Launch = { ...direct, env: serverEnv({ ...context.env, FAL_MCP_COMPILE_CACHE: "0" }) };
  const sdkLaunchers = await buildSdkFloor(context.scratch);
  const sdkFloor: Launch = {
    command: process.execPath,
    args: [sdkLaunchers.launcher],
    env: serverEnv({ FLOOR_BASE_URL: context.fakeUrl }),
  };
  const sdkFloorCached: Launch = {
    command: process.execPath,
    args: [sdkLaunchers.cachedLauncher],
    env: serverEnv({
      FLOOR_BASE_URL: context.fakeUrl,
      XDG_CACHE_HOME: path.join(context.scratch, "sdk-floor-cache"),
    }),
  };
  const npx = await prepareNpx(context.scratch, FLOOR_SCRIPT);
  const cwd = npxWorkDir(context.scratch);
  const viaNpx = (): Launch => ({ ...npx.falMcp, env: npx.env(serverEnv(context.env)), cwd });
  const floorNpx = (): Launch => ({ ...npx.floor, env: npx.env({ FLOOR_BASE_URL: context.fakeUrl }), cwd });
  const lines: RowResult["lines"] = [];
  const figures: Record<string, unknown> = { runs, npxRuns };
  try {
    // The first start after an install: npx extracts the tarball into a fresh cache, and there is no
    // code cache yet (a folder of its own, so an earlier run's cache of the same tarball is not used).
    const freshCodeCache = { XDG_CACHE_HOME: path.join(context.scratch, "first-start-cache") };
    const first = viaNpx();
    const firstNpx = await timeFirstResult(
      { ...first, env: { ...first.env, ...freshCodeCache } },
      "initialize",
    );
    const firstFloorNpx = await timeFirstResult(floorNpx(), "initialize");
    for (const sequence of SEQUENCES) {
      // One unmeasured start of each: warms the page cache (and the code cache).
      await measure(direct, sequence);
      await measure(floorDirect, sequence);
      const server: Sample[] = [];
      const floor: Sample[] = [];
      for (let i = 0; i < runs; i++) {
        // Interleaved, so a burst of load elsewhere hits both alike.
        server.push(await measure(direct, sequence));
        floor.push(await measure(floorDirect, sequence));
      }
      if (sequence === "initialize") {
        const withoutCache: number[] = [];
        const sdk: number[] = [];
        const sdkCached: number[] = [];
        const cachedAgain: number[] = [];
        const floorAgain: number[] = [];
        await timeFirstResult(sdkFloorCached, sequence); // writes its code cache
        for (let i = 0; i < runs; i++) {
          withoutCache.push(await timeFirstResult(uncached, sequence));
          sdk.push(await timeFirstResult(sdkFloor, sequence));
          sdkCached.push(await timeFirstResult(sdkFloorCached, sequence));
          cachedAgain.push(await timeFirstResult(direct, sequence));
          floorAgain.push(await timeFirstResult(floorDirect, sequence));
        }
        const floorFirst = median(floorAgain);
        const sdkCachedFirst = median(sdkCached);
        lines.push(
          {
            measure: `${sequence}: without the code cache (FAL_MCP_COMPILE_CACHE=0; the first start), spawn → first result`,
            falMcp: ms(median(withoutCache)),
            baseline: `${ms(floorFirst)} (bare node -e + one fetch)`,
            comparison: ratio(median(withoutCache) / floorFirst),
            target: "(reported)",
          },
          {
            measure: `${sequence}: the MCP SDK's own server (no code cache), spawn → first result`,
            falMcp: ms(median(sdk)),
            baseline: `${ms(floorFirst)} (bare node -e + one fetch)`,
            comparison: ratio(median(sdk) / floorFirst),
            target: "(reported)",
          },
          {
            measure: `${sequence}: the MCP SDK's own server through fal-mcp's launcher (same flags, code cache), spawn → first result`,
            falMcp: ms(sdkCachedFirst),
            baseline: `${ms(floorFirst)} (bare node -e + one fetch)`,
            comparison: `${ratio(sdkCachedFirst / floorFirst)}; fal-mcp in the same loop ${ms(median(cachedAgain))}, ${ratio(median(cachedAgain) / sdkCachedFirst)} of it`,
            target: "(reported: the SDK's floor)",
          },
        );
        figures.uncached = { withoutCache, sdk, sdkCached, falMcp: cachedAgain, floor: floorAgain };
      }
      const npxServer: number[] = [];
      const npxFloor: number[] = [];
      for (let i = 0; i < npxRuns; i++) {
        npxServer.push(await timeFirstResult(viaNpx(), sequence));
        npxFloor.push(await timeFirstResult(floorNpx(), sequence));
      }
      const list = median(server.map((s) => s.toolsList));
      const first = median(server.map((s) => s.firstResult));
      const floorList = median(floor.map((s) => s.toolsList));
      const floorFirst = median(floor.map((s) => s.firstResult));
      const npxFirst = median(npxServer);
      const npxFloorFirst = median(npxFloor);
      lines.push(
        {
          measure: `${sequence}: spawn → tools/list answered`,
          falMcp: ms(list),
          baseline: `${ms(floorList)} (bare node -e)`,
          comparison: `${ratio(list / floorList)} (+${ms(list - floorList)})`,
          target: "(reported)",
        },
        {
          measure: `${sequence}: spawn → first search_models result`,
          falMcp: ms(first),
          baseline: `${ms(floorFirst)} (bare node -e + one fetch)`,
          comparison: `${ratio(first / floorFirst)} (+${ms(first - floorFirst)})`,
          target: verdict(first / floorFirst <= 2, "≤ 2× floor", `${ratio(first / floorFirst)}`),
        },
        {
          measure: `${sequence}: through npx of the packed tarball, spawn → first result`,
          falMcp: ms(npxFirst),
          baseline: `${ms(npxFloorFirst)} (npx of a trivial package)`,
          comparison: `${ratio(npxFirst / npxFloorFirst)} (+${ms(npxFirst - npxFloorFirst)})`,
          target: "(reported)",
        },
      );
      figures[sequence] = {
        list,
        first,
        floorList,
        floorFirst,
        npxFirst,
        npxFloorFirst,
        server,
        floor,
        npxServer,
        npxFloor,
      };
    }
    lines.push({
      measure: "first npx start after install (fresh npx cache), spawn → first result",
      falMcp: ms(firstNpx),
      baseline: `${ms(firstFloorNpx)} (trivial package, fresh cache)`,
      comparison: `${ratio(firstNpx / firstFloorNpx)} (+${ms(firstNpx - firstFloorNpx)})`,
      target: "(reported)",
    });
    figures.firstNpx = { falMcp: firstNpx, floor: firstFloorNpx };
  } finally {
    await npx.close();
  }
  const size = bundleSize();
  return {
    id: "cold-start",
    title: "Cold start",
    status: "ok",
    lines,
    figures: { ...figures, bundle: size },
    notes: [
      `bundle: ${size.files} JS files, ${(size.bytes / 1024).toFixed(0)} KiB; raw JSON-RPC over the child's stdio. Directly: node bin/fal-mcp.js against a bare node -e process answering by hand with one raw fetch. Through npx: npx --offline --package <npm pack tarball> from an empty folder with its own cache (the first start after install extracts it; later starts reuse it), against npx of a trivial package whose bin is the same floor script.`,
    ],
  };
}
