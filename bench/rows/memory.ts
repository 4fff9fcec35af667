// Row 5: RSS of an idle server, after 1,000 mixed calls and after 1,000 more. Growth between the
// first and second thousand is what a leak looks like; the step from idle to the first thousand is
// warm-up (JIT code, caches, heap sized to the work).
import { setTimeout as sleep } from "node:timers/promises";
import { readMemory } from "../lib/proc.js";
import { serverEnv, startServer, type RpcChild } from "../lib/rpc.js";
import { skipped, verdict, type RowContext, type RowResult } from "../lib/row.js";
import { mib } from "../lib/stats.js";

const MiB = 1024 * 1024;
const QUERIES = ["flux", "video", "upscale", "speech", "lora", "nova", "cinematic", "stylized"];
const ENDPOINTS = ["fal-ai/flux/dev", "fal-ai/flux/schnell", "fake/instant", "fake/echo", "fal-ai/kling-video/v2.1/master/image-to-video"];

type Call = [tool: string, args: Record<string, unknown>];

/** The mix: every landed tool, varied arguments, paid calls on instant fake models. */
function mixedCalls(tools: readonly string[]): Call[] {
  const calls: Call[] = [];
  for (let i = 0; i < 20; i++) {
    const endpoint = ENDPOINTS[i % ENDPOINTS.length]!;
    calls.push(["search_models", { query: QUERIES[i % QUERIES.length], limit: 10 + (i % 3) }]);
    calls.push(["get_model_schema", { endpoint_id: endpoint }]);
    calls.push(["get_pricing", { endpoint_ids: [endpoint] }]);
    calls.push(["recommend_model", { task: `make a ${["picture", "video", "song", "voiceover"][i % 4]} of a ${QUERIES[i % QUERIES.length]} cat` }]);
    calls.push(["run_model", { endpoint_id: "fake/echo", input: { prompt: `memory ${i}` } }]);
    calls.push(["submit_job", { endpoint_id: "fake/echo", input: { prompt: `memory ${i}` } }]);
  }
  return calls.filter(([tool]) => tools.includes(tool));
}

async function runCalls(server: RpcChild, calls: readonly Call[], count: number, checkJobs: boolean): Promise<{ errors: number; firstError?: string }> {
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
  const { server, tools } = await startServer(serverEnv(context.env));
  try {
    const calls = mixedCalls(tools);
    if (calls.length === 0) return skipped(id, title, "no tool of the mix is in the registry yet");
    const checkJobs = tools.includes("check_job");
    await sleep(500);
    const idle = readMemory(server.pid).rss;
    const count = context.quick ? 200 : 1000;
    const first = await runCalls(server, calls, count, checkJobs);
    await sleep(500);
    const after1 = readMemory(server.pid).rss;
    const second = await runCalls(server, calls, count, checkJobs);
    await sleep(500);
    const { rss: after2, hwm } = readMemory(server.pid);
    const totalErrors = first.errors + second.errors;
    if (totalErrors > count / 10) throw new Error(`${totalErrors} of ${2 * count} calls failed; first: ${first.firstError ?? second.firstError}`);
    const growth = after2 - after1;
    const usedTools = [...new Set(calls.map(([tool]) => tool))];
    return {
      id,
      title,
      status: "ok",
      lines: [
        { measure: "idle (after tools/list)", falMcp: mib(idle), baseline: "", comparison: "", target: "" },
        { measure: `after ${count} mixed calls`, falMcp: mib(after1), baseline: `idle ${mib(idle)}`, comparison: `+${mib(after1 - idle)} (warm-up)`, target: "" },
        {
          measure: `after ${2 * count} mixed calls`,
          falMcp: mib(after2),
          baseline: `after ${count}: ${mib(after1)}`,
          comparison: `${growth >= 0 ? "+" : ""}${mib(growth)} · peak ${mib(hwm)}`,
          target: verdict(growth < 8 * MiB, "no growth (< 8 MiB)", mib(growth)),
        },
      ],
      figures: { idleRss: idle, after1Rss: after1, after2Rss: after2, hwm, calls: count, errors: totalErrors, tools: usedTools },
      notes: [`mix: ${usedTools.join(", ")}${checkJobs ? " (+ check_job after each submit_job)" : ""}; 4 in flight; ${totalErrors} tool errors.`],
    };
  } finally {
    await server.close();
  }
}
