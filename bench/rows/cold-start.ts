// Row 1: spawn → initialize answered → tools/list answered, for the built bin, against a bare
// `node -e` process that answers the same JSON-RPC by hand (the floor no server can beat).
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { RpcChild, ROOT, serverEnv, BIN } from "../lib/rpc.js";
import { verdict, type RowContext, type RowResult } from "../lib/row.js";
import { median, ms, ratio } from "../lib/stats.js";

/** Answers initialize and tools/list by hand, with no dependency: the floor of a Node stdio server. */
export const FLOOR_SCRIPT = `let b="";process.stdin.setEncoding("utf8");process.stdin.on("data",c=>{b+=c;let i;while((i=b.indexOf("\\n"))>=0){const m=JSON.parse(b.slice(0,i));b=b.slice(i+1);if(m.id===undefined)continue;const result=m.method==="initialize"?{protocolVersion:m.params.protocolVersion,capabilities:{tools:{}},serverInfo:{name:"floor",version:"0"}}:{tools:[]};process.stdout.write(JSON.stringify({jsonrpc:"2.0",id:m.id,result})+"\\n")}});process.stdin.on("end",()=>process.exit(0));`;

interface Sample {
  initialize: number;
  toolsList: number;
  tools: number;
}

async function measure(command: string, args: string[], env: Record<string, string>): Promise<Sample> {
  const child = new RpcChild(command, args, env);
  try {
    await child.initialize();
    const initialize = performance.now() - child.spawnedAt;
    child.notify("notifications/initialized");
    const tools = await child.toolNames();
    const toolsList = performance.now() - child.spawnedAt;
    return { initialize, toolsList, tools: tools.length };
  } finally {
    await child.close();
  }
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
  const runs = context.quick ? 3 : 9;
  // Its own cache folder, so the figures do not depend on what earlier runs left in ~/.cache.
  const env = serverEnv({ ...context.env, XDG_CACHE_HOME: path.join(context.scratch, "cache") });
  const uncachedEnv = { ...env, FAL_MCP_COMPILE_CACHE: "0" };
  const floorEnv = serverEnv({});
  // One unmeasured start of each: warms the page cache and writes the code cache.
  await measure(process.execPath, [BIN], env);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await measure(process.execPath, [BIN], uncachedEnv);
  await measure(process.execPath, ["-e", FLOOR_SCRIPT], floorEnv);
  const cached: Sample[] = [];
  const uncached: Sample[] = [];
  const floor: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so a burst of load elsewhere hits every variant alike.
    cached.push(await measure(process.execPath, [BIN], env));
    uncached.push(await measure(process.execPath, [BIN], uncachedEnv));
    floor.push(await measure(process.execPath, ["-e", FLOOR_SCRIPT], floorEnv));
  }
  const m = (samples: Sample[], pick: (s: Sample) => number) => median(samples.map(pick));
  const floorInit = m(floor, (s) => s.initialize);
  const floorList = m(floor, (s) => s.toolsList);
  const cachedInit = m(cached, (s) => s.initialize);
  const cachedList = m(cached, (s) => s.toolsList);
  const uncachedList = m(uncached, (s) => s.toolsList);
  const listRatio = cachedList / floorList;
  const size = bundleSize();
  const tools = cached[0]?.tools ?? 0;
  return {
    id: "cold-start",
    title: "Cold start",
    status: "ok",
    lines: [
      {
        measure: "spawn → initialize answered",
        falMcp: ms(cachedInit),
        baseline: `${ms(floorInit)} (bare node -e)`,
        comparison: `${ratio(cachedInit / floorInit)} (+${ms(cachedInit - floorInit)})`,
        target: "",
      },
      {
        measure: `spawn → tools/list answered (${tools} tools)`,
        falMcp: ms(cachedList),
        baseline: `${ms(floorList)} (bare node -e)`,
        comparison: `${ratio(listRatio)} (+${ms(cachedList - floorList)})`,
        target: verdict(
          listRatio <= 2,
          "≤ 2× floor",
          `${ratio(listRatio)}, ${ms(cachedList - 2 * floorList)} over`,
        ),
      },
      {
        measure: "spawn → tools/list, first start (no code cache yet)",
        falMcp: ms(uncachedList),
        baseline: `${ms(floorList)} (bare node -e)`,
        comparison: `${ratio(uncachedList / floorList)} (+${ms(uncachedList - floorList)})`,
        target: "(reported)",
      },
    ],
    figures: {
      runs,
      cachedInitializeMs: cachedInit,
      cachedToolsListMs: cachedList,
      uncachedToolsListMs: uncachedList,
      floorInitializeMs: floorInit,
      floorToolsListMs: floorList,
      ratio: listRatio,
      tools,
      bundle: size,
      samples: { cached, uncached, floor },
    },
    notes: [
      `bundle: ${size.files} JS files, ${(size.bytes / 1024).toFixed(0)} KiB; raw JSON-RPC over the child's stdio; the code cache is written by the first start (FAL_MCP_COMPILE_CACHE=0 measures a start without it).`,
    ],
  };
}
