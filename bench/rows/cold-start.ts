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

function bundleSize(): { files: number; bytes: number; entryBytes: number } {
  const dist = path.join(ROOT, "dist");
  let bytes = 0;
  let files = 0;
  for (const name of readdirSync(dist)) {
    if (!name.endsWith(".js")) continue;
    files++;
    bytes += statSync(path.join(dist, name)).size;
  }
  return { files, bytes, entryBytes: statSync(path.join(dist, "index.js")).size };
}

export async function coldStart(context: RowContext): Promise<RowResult> {
  const runs = context.quick ? 3 : 9;
  const env = serverEnv(context.env);
  const floorEnv = serverEnv({});
  // One unmeasured start of each so both read from a warm page cache.
  await measure(process.execPath, [BIN], env);
  await measure(process.execPath, ["-e", FLOOR_SCRIPT], floorEnv);
  const server: Sample[] = [];
  const floor: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so a burst of load elsewhere hits both sides alike.
    server.push(await measure(process.execPath, [BIN], env));
    floor.push(await measure(process.execPath, ["-e", FLOOR_SCRIPT], floorEnv));
  }
  const serverInit = median(server.map((s) => s.initialize));
  const serverList = median(server.map((s) => s.toolsList));
  const floorInit = median(floor.map((s) => s.initialize));
  const floorList = median(floor.map((s) => s.toolsList));
  const listRatio = serverList / floorList;
  const size = bundleSize();
  return {
    id: "cold-start",
    title: "Cold start",
    status: "ok",
    lines: [
      {
        measure: "spawn → initialize answered",
        falMcp: ms(serverInit),
        baseline: `${ms(floorInit)} (bare node -e)`,
        comparison: `${ratio(serverInit / floorInit)} (+${ms(serverInit - floorInit)})`,
        target: "",
      },
      {
        measure: `spawn → tools/list answered (${server[0]?.tools ?? 0} tools)`,
        falMcp: ms(serverList),
        baseline: `${ms(floorList)} (bare node -e)`,
        comparison: `${ratio(listRatio)} (+${ms(serverList - floorList)})`,
        target: verdict(listRatio <= 2, "≤ 2× floor", `${ratio(listRatio)}`),
      },
    ],
    figures: {
      runs,
      serverInitializeMs: serverInit,
      serverToolsListMs: serverList,
      floorInitializeMs: floorInit,
      floorToolsListMs: floorList,
      ratio: listRatio,
      tools: server[0]?.tools ?? 0,
      bundle: size,
      samples: { server, floor },
    },
    notes: [`bundle: ${size.files} JS files, ${(size.bytes / 1024).toFixed(0)} KiB (entry chunk ${(size.entryBytes / 1024).toFixed(0)} KiB)`],
  };
}
