// Row 5: RSS of an idle server, after 1,000 mixed calls, and after each of four more rounds of
// 1,000. A leak climbs round after round; the step from idle to the first thousand is warm-up.
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readMemory } from "../lib/proc.js";
import { ROOT, serverEnv, startServer, type RpcChild } from "../lib/rpc.js";
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

type Call = [tool: string, args: Record<string, unknown>];

/** The mix: every landed tool, varied arguments, paid calls on instant fake models. */
function mixedCalls(tools: readonly string[]): Call[] {
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

export async function memory(context: RowContext): Promise<RowResult> {
  const id = "memory";
  const title = "Memory (1,000 mixed calls)";
  const { server, tools } = await startServer(serverEnv(context.env), [
    "--expose-gc",
    "--require",
    path.join(ROOT, "bench/lib/gc-on-signal.cjs"),
  ]);
  /** RSS after a full GC (the preload collects on SIGUSR2), so heap the GC has not reclaimed yet does not read as growth. */
  const settledRss = async (): Promise<number> => {
    server.child.kill("SIGUSR2");
    await sleep(500);
    return readMemory(server.pid).rss;
  };
  try {
    const calls = mixedCalls(tools);
    if (calls.length === 0) return skipped(id, title, "no tool of the mix is in the registry yet");
    const checkJobs = tools.includes("check_job");
    const idle = await settledRss();
    const count = context.quick ? 200 : 1000;
    // The first round is warm-up (JIT code, lazily loaded modules, caches, a heap sized to the
    // work); a leak shows as RSS still climbing round after round, so several more rounds follow.
    // RSS is read after a full GC each time.
    const rounds = context.quick ? 2 : 5;
    const after: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    for (let round = 0; round < rounds; round++) {
      const result = await runCalls(server, calls, count, checkJobs);
      errors += result.errors;
      firstError ??= result.firstError;
      after.push(await settledRss());
    }
    const { hwm } = readMemory(server.pid);
    if (errors > (rounds * count) / 10)
      throw new Error(`${errors} of ${rounds * count} calls failed; first: ${firstError}`);
    const warm = after[0]!;
    const last = after[after.length - 1]!;
    const perRound = (last - warm) / (rounds - 1);
    const usedTools = [...new Set(calls.map(([tool]) => tool))];
    return {
      id,
      title,
      status: "ok",
      lines: [
        { measure: "idle (after tools/list)", falMcp: mib(idle), baseline: "", comparison: "", target: "" },
        {
          measure: `after ${count} mixed calls`,
          falMcp: mib(warm),
          baseline: `idle ${mib(idle)}`,
          comparison: `+${mib(warm - idle)} (warm-up)`,
          target: "",
        },
        {
          measure: `after ${rounds * count} mixed calls`,
          falMcp: mib(last),
          baseline: `after ${count}: ${mib(warm)}`,
          comparison: `${perRound >= 0 ? "+" : ""}${mib(perRound)} per ${count} calls · rounds ${after.map((rss) => mib(rss)).join(" → ")} · peak ${mib(hwm)}`,
          target: verdict(perRound < 4 * MiB, `no growth (< 4 MiB per ${count} calls)`, mib(perRound)),
        },
      ],
      figures: {
        idleRss: idle,
        afterRounds: after,
        perRound,
        hwm,
        calls: count,
        rounds,
        errors,
        tools: usedTools,
      },
      notes: [
        `mix: ${usedTools.join(", ")}${checkJobs ? " (+ check_job after each submit_job)" : ""}; 4 in flight; ${errors} tool errors; RSS after each round of ${count}.`,
      ],
    };
  } finally {
    await server.close();
  }
}
