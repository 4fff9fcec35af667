// Row 5: memory as the user's process shows it: VmRSS from /proc/<pid>/status of a server started
// exactly as clients start it (no flags, no forced GC), a few seconds after tools/list, after 5,000
// mixed calls, and the slope over more rounds after that. Beside it, the same for a bare node
// process (the floor no server goes under).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { KEY } from "../lib/fake.js";
import { readMemory, type ProcMemory } from "../lib/proc.js";
import { BIN, RpcChild, serverEnv, startServer } from "../lib/rpc.js";
import { buildSdkFloor } from "../lib/sdk-floor.js";
import { skipped, verdict, type RowContext, type RowResult } from "../lib/row.js";
import { mib } from "../lib/stats.js";

const MiB = 1024 * 1024;
const QUERIES = ["flux", "video", "upscale", "speech", "lora", "nova", "cinematic", "stylized"];
const ENDPOINTS = [
  "fal-ai/flux/dev",
  "fal-ai/flux/schnell",
  "fake/instant",
  "fake/echo",
  "fal-ai/kling-video/v2.1/master/image-to-video",
];
/** Seconds between tools/list and the idle reading: what a client's idle server looks like. */
const IDLE_SECONDS = 3;
/** Seconds without calls before the last reading: a server between a user's requests. */
const SETTLED_SECONDS = 15;

type Call = [tool: string, args: Record<string, unknown>];

/** The mix: every landed tool, varied arguments, paid calls on instant fake models. */
function mixedCalls(tools: readonly string[], smallFile: string): Call[] {
  const calls: Call[] = [];
  for (let i = 0; i < 20; i++) {
    const endpoint = ENDPOINTS[i % ENDPOINTS.length]!;
    calls.push(["search_models", { query: QUERIES[i % QUERIES.length], limit: 10 + (i % 3) }]);
    calls.push(["get_model_schema", { endpoint_id: endpoint }]);
    calls.push(["get_pricing", { endpoint_ids: [endpoint] }]);
    calls.push([
      "recommend_model",
      {
        task: `make a ${["picture", "video", "song", "voiceover"][i % 4]} of a ${QUERIES[i % QUERIES.length]} cat`,
      },
    ]);
    calls.push(["run_model", { endpoint_id: "fake/echo", input: { prompt: `memory ${i}` } }]);
    calls.push(["submit_job", { endpoint_id: "fake/echo", input: { prompt: `memory ${i}` } }]);
    if (i % 4 === 0) calls.push(["search_docs", { query: QUERIES[i % QUERIES.length] }]);
    if (i % 5 === 0) calls.push(["upload_file", { path: smallFile }]);
  }
  return calls.filter(([tool]) => tools.includes(tool));
}

async function runCalls(
  server: RpcChild,
  calls: readonly Call[],
  count: number,
  checkJobs: boolean,
): Promise<{ errors: number; firstError?: string }> {
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const [tool, args] = calls[next++ % calls.length]!;
      try {
        const result = await server.callTool(tool, args);
        const requestId = result.structuredContent?.request_id;
        if (checkJobs && tool === "submit_job" && typeof requestId === "string") {
          await server.callTool("check_job", { request_id: requestId });
        }
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return { errors, firstError };
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return num / den;
}

/** VmRSS of a bare `node -e` process reading stdin, a few seconds after it started. */
async function bareNodeRss(): Promise<ProcMemory> {
  const child = spawn(process.execPath, ["-e", "process.stdin.resume()"], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  await sleep(IDLE_SECONDS * 1000);
  const memory = readMemory(child.pid!);
  child.stdin.end();
  await once(child, "exit");
  return memory;
}

const signed = (bytes: number): string => `${bytes >= 0 ? "+" : "−"}${mib(Math.abs(bytes))}`;
const split = (m: ProcMemory): string => `anon ${mib(m.anon)} · file ${mib(m.file)}`;

/**
 * One unmeasured start (handshake, tools/list, exit), so the launcher's code cache exists before a
 * reading: every start after a user's first has one, and a new build has none until it has started.
 */
async function warmStart(launcher: string, env: Record<string, string>): Promise<void> {
  const child = new RpcChild(process.execPath, [launcher], env);
  await child.initialize();
  child.notify("notifications/initialized");
  await child.toolNames();
  await child.close(); // the cache is written at exit
}

/** fal-mcp idle without its code cache: the first start after an install or update. */
async function idleWithoutCache(context: RowContext): Promise<ProcMemory> {
  const { server } = await startServer(serverEnv({ ...context.env, FAL_MCP_COMPILE_CACHE: "0" }));
  try {
    await sleep(IDLE_SECONDS * 1000);
    return readMemory(server.pid);
  } finally {
    await server.close();
  }
}

/**
 * The same readings of the MCP SDK's own smallest server (bench/floors/sdk-server.ts: one tool, one
 * raw fetch), bundled like fal-mcp and started by fal-mcp's own launcher (its V8 flags and code cache,
 * in a folder of its own): what any server built on the SDK holds.
 */
async function sdkFloorRss(
  context: RowContext,
  roundSize: number,
  warmRounds: number,
): Promise<{ idle: ProcMemory; after: ProcMemory; calls: number }> {
  const { cachedLauncher } = await buildSdkFloor(context.scratch);
  const env = serverEnv({
    FAL_KEY: KEY,
    FLOOR_BASE_URL: context.fakeUrl,
    XDG_CACHE_HOME: path.join(context.scratch, "sdk-floor-cache"),
  });
  await warmStart(cachedLauncher, env);
  const floor = new RpcChild(process.execPath, [cachedLauncher], env);
  try {
    await floor.initialize();
    floor.notify("notifications/initialized");
    await floor.toolNames();
    await sleep(IDLE_SECONDS * 1000);
    const idle = readMemory(floor.pid);
    // Its two tools in turn: one raw fetch, and @fal-ai/client's submit → status → result.
    const calls: Call[] = QUERIES.flatMap((query, i): Call[] => [
      ["search_models", { query, limit: 10 + (i % 3) }],
      ["run_model", { endpoint_id: "fake/echo", input: { prompt: `memory ${i}` } }],
    ]);
    const result = await runCalls(floor, calls, roundSize * warmRounds, false);
    if (result.errors)
      throw new Error(`the SDK floor failed ${result.errors} calls; first: ${result.firstError}`);
    return { idle, after: readMemory(floor.pid), calls: roundSize * warmRounds };
  } finally {
    await floor.close();
  }
}

export async function memory(context: RowContext): Promise<RowResult> {
  const id = "memory";
  const title = "Memory (VmRSS, no forced GC)";
  const floor = await bareNodeRss();
  const firstStart = await idleWithoutCache(context);
  await warmStart(BIN, serverEnv(context.env));
  const { server, tools } = await startServer(serverEnv(context.env));
  try {
    const folder = path.join(context.scratch, "files");
    await mkdir(folder, { recursive: true });
    const smallFile = path.join(folder, "memory-small.txt");
    await writeFile(smallFile, "x".repeat(4096));
    const calls = mixedCalls(tools, smallFile);
    if (calls.length === 0) return skipped(id, title, "no tool of the mix is in the registry yet");
    const checkJobs = tools.includes("check_job");
    await sleep(IDLE_SECONDS * 1000);
    const idle = readMemory(server.pid);
    const roundSize = context.quick ? 200 : 1000;
    const warmRounds = 5; // 5,000 calls (1,000 in a quick run)
    const slopeRounds = context.quick ? 2 : 4;
    const readings: { calls: number; memory: ProcMemory }[] = [];
    let errors = 0;
    let firstError: string | undefined;
    for (let round = 1; round <= warmRounds + slopeRounds; round++) {
      const result = await runCalls(server, calls, roundSize, checkJobs);
      errors += result.errors;
      firstError ??= result.firstError;
      readings.push({ calls: round * roundSize, memory: readMemory(server.pid) });
    }
    const total = readings[readings.length - 1]!.calls;
    // Most of a client's server's life is idle: V8's memory reducer shrinks the heap after a few
    // seconds without work. Reported beside the target, which is read right after the calls.
    await sleep(SETTLED_SECONDS * 1000);
    const settled = readMemory(server.pid);
    await server.close();
    const sdk = await sdkFloorRss(context, roundSize, warmRounds);
    if (errors > total / 10) throw new Error(`${errors} of ${total} calls failed; first: ${firstError}`);
    const after = readings[warmRounds - 1]!;
    // The slope from the 5,000th call on (that reading included), in MiB per 1,000 calls.
    const tail = readings.slice(warmRounds - 1);
    const perThousand = slope(
      tail.map((r) => r.calls / 1000),
      tail.map((r) => r.memory.rss),
    );
    const last = readings[readings.length - 1]!.memory;
    const usedTools = [...new Set(calls.map(([tool]) => tool))];
    return {
      id,
      title,
      status: "ok",
      lines: [
        {
          measure: `idle, ${IDLE_SECONDS} s after tools/list`,
          falMcp: mib(idle.rss),
          baseline: `${mib(floor.rss)} bare node -e · ${mib(sdk.idle.rss)} the MCP SDK's own server`,
          comparison: `+${mib(idle.rss - floor.rss)} over node, ${signed(idle.rss - sdk.idle.rss)} over the SDK's · ${split(idle)}`,
          target: verdict(idle.rss <= 60 * MiB, "≤ 60 MiB", mib(idle.rss)),
        },
        {
          measure: `idle, first start (no code cache yet: FAL_MCP_COMPILE_CACHE=0)`,
          falMcp: mib(firstStart.rss),
          baseline: `${mib(idle.rss)} with the cache`,
          comparison: `${signed(firstStart.rss - idle.rss)} · ${split(firstStart)}`,
          target: "(reported)",
        },
        {
          measure: `after ${after.calls.toLocaleString("en")} mixed calls`,
          falMcp: mib(after.memory.rss),
          baseline: `${mib(sdk.after.rss)} the SDK's own server after ${sdk.calls.toLocaleString("en")} calls`,
          comparison: `${signed(after.memory.rss - sdk.after.rss)} over the SDK's · +${mib(after.memory.rss - idle.rss)} over idle · ${split(after.memory)}`,
          target: verdict(after.memory.rss <= 90 * MiB, "≤ 90 MiB", mib(after.memory.rss)),
        },
        {
          measure: `after ${total.toLocaleString("en")} calls and ${SETTLED_SECONDS} s idle`,
          falMcp: mib(settled.rss),
          baseline: `${mib(last.rss)} right after the calls`,
          comparison: split(settled),
          target: "(reported)",
        },
        {
          measure: `slope from call ${after.calls.toLocaleString("en")} to ${total.toLocaleString("en")}`,
          falMcp: `${perThousand >= 0 ? "+" : ""}${mib(perThousand)} per 1,000 calls`,
          baseline: `rounds ${tail.map((r) => mib(r.memory.rss)).join(" → ")}`,
          comparison: `peak ${mib(last.hwm)}`,
          target: verdict(perThousand < 1 * MiB, "flat (< 1 MiB per 1,000 calls)", mib(perThousand)),
        },
      ],
      figures: {
        floor,
        sdkFloor: sdk,
        idle,
        firstStart,
        readings,
        settled,
        slopeBytesPerThousandCalls: perThousand,
        roundSize,
        errors,
        tools: usedTools,
      },
      notes: [
        `VmRSS from /proc/<pid>/status of the server as clients start it (no flags, no forced GC); mix: ${usedTools.join(", ")}${checkJobs ? " (+ check_job after each submit_job)" : ""}; 4 in flight; ${errors} tool errors.`,
        "Each server is started once unmeasured first, so its code cache exists (as it does for every start after a user's first). The SDK's server (bench/floors/sdk-server.ts) is the official MCP SDK v2 serving both eras on stdio, bundled like fal-mcp and started by fal-mcp's own launcher (its V8 flags and code cache); its calls alternate its two tools (one raw fetch; @fal-ai/client's submit → status → result), 4 in flight.",
      ],
    };
  } finally {
    await server.close();
  }
}
