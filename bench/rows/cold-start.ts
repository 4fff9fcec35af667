// Row 1: cold start for each way clients open a stdio connection (the 2025 `initialize`;
// `server/discover` then `initialize` on the same process, as Claude Code does; a client pinned to
// 2026-07-28), as spawn → tools/list answered and spawn → first search_models result. The floor is
// a bare `node -e` process that answers the same JSON-RPC by hand and makes one raw fetch of the
// catalog page for the search: what no server can beat on this machine.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { RpcChild, ROOT, serverEnv, BIN } from "../lib/rpc.js";
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

/** One process: spawn → tools/list; a second: spawn → first search_models result. */
async function measure(
  command: string,
  args: string[],
  env: Record<string, string>,
  sequence: Sequence,
): Promise<Sample> {
  const lister = new RpcChild(command, args, env);
  let toolsList: number;
  try {
    const params = await open(lister, sequence);
    await lister.request("tools/list", params);
    toolsList = performance.now() - lister.spawnedAt;
  } finally {
    await lister.close();
  }
  const caller = new RpcChild(command, args, env);
  try {
    const params = await open(caller, sequence);
    const result = await caller.request("tools/call", {
      name: "search_models",
      arguments: { query: "flux", limit: 5 },
      ...params,
    });
    if (result.isError) throw new Error(`search_models failed in the ${sequence} sequence`);
    return { toolsList, firstResult: performance.now() - caller.spawnedAt };
  } finally {
    await caller.close();
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
  const runs = context.quick ? 3 : 7;
  const env = serverEnv(context.env);
  const floorEnv = serverEnv({ FLOOR_BASE_URL: context.fakeUrl });
  const lines: RowResult["lines"] = [];
  const figures: Record<string, unknown> = { runs };
  for (const sequence of SEQUENCES) {
    // One unmeasured start of each: warms the page cache (and Node 22's compile cache).
    await measure(process.execPath, [BIN], env, sequence);
    await measure(process.execPath, ["-e", FLOOR_SCRIPT], floorEnv, sequence);
    const server: Sample[] = [];
    const floor: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      // Interleaved, so a burst of load elsewhere hits both alike.
      server.push(await measure(process.execPath, [BIN], env, sequence));
      floor.push(await measure(process.execPath, ["-e", FLOOR_SCRIPT], floorEnv, sequence));
    }
    const list = median(server.map((s) => s.toolsList));
    const first = median(server.map((s) => s.firstResult));
    const floorList = median(floor.map((s) => s.toolsList));
    const floorFirst = median(floor.map((s) => s.firstResult));
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
        target: verdict(first / floorFirst <= 2.5, "≤ 2.5× floor", `${ratio(first / floorFirst)}`),
      },
    );
    figures[sequence] = { list, first, floorList, floorFirst, server, floor };
  }
  const size = bundleSize();
  return {
    id: "cold-start",
    title: "Cold start",
    status: "ok",
    lines,
    figures: { ...figures, bundle: size },
    notes: [
      `bundle: ${size.files} JS files, ${(size.bytes / 1024).toFixed(0)} KiB; raw JSON-RPC over the child's stdio; started directly (node bin/fal-mcp.js), not through npx.`,
    ],
  };
}
