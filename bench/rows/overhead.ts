// Row 2: per-call overhead of run_model through the stdio server, against the same job done with
// @fal-ai/client in-process and with raw fetch (submit → status → result), at 1 and 32 concurrent
// calls. The model answers at once, so what is left is the cost of each path. The floor of a
// server: the MCP SDK's own stdio server whose run_model is @fal-ai/client's submit → status →
// result (bench/floors/sdk-server.ts), without and with one durable record per call.
import path from "node:path";
import { createFalClient } from "@fal-ai/client";
import { redirectingFetch } from "../lib/redirecting-fetch.js";
import { KEY } from "../lib/fake.js";
import { missingTools, RpcChild, serverEnv, startServer } from "../lib/rpc.js";
import { buildSdkFloor } from "../lib/sdk-floor.js";
import { skipped, verdict, type RowContext, type RowResult } from "../lib/row.js";
import { median, ms, ratio, signedMs } from "../lib/stats.js";

/** No media: what run_model does beyond the client is then protocol, validation and bookkeeping. */
const ENDPOINT = "fake/echo";
const INPUT = { prompt: "a benchmark" };

type Job = () => Promise<unknown>;

interface Figures {
  /** Median latency of one call made alone. */
  sequentialMs: number;
  /** Median latency of a call among 32 in flight. */
  concurrentMs: number;
  /** Wall time of a round of 32 divided by 32: cost per call under load. */
  concurrentPerCallMs: number;
}

/**
 * Measures every path in alternating blocks (a few calls alone, then a round of 32 at once, for each
 * path in turn), so a burst of load elsewhere on a shared machine hits all paths alike.
 */
async function measureAll(
  jobs: Record<string, Job>,
  sequential: number,
  rounds: number,
): Promise<Record<string, Figures>> {
  const names = Object.keys(jobs);
  const one = new Map<string, number[]>(names.map((n) => [n, []]));
  const latencies = new Map<string, number[]>(names.map((n) => [n, []]));
  const perCall = new Map<string, number[]>(names.map((n) => [n, []]));
  for (const name of names) for (let i = 0; i < 5; i++) await jobs[name]!(); // warm-up: JIT, pools, lazy imports
  const perBlock = Math.max(1, Math.ceil(sequential / rounds));
  for (let block = 0; block < rounds; block++) {
    for (const name of names) {
      const job = jobs[name]!;
      for (let i = 0; i < perBlock; i++) {
        const start = performance.now();
        await job();
        one.get(name)!.push(performance.now() - start);
      }
      const start = performance.now();
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          const callStart = performance.now();
          await job();
          latencies.get(name)!.push(performance.now() - callStart);
        }),
      );
      perCall.get(name)!.push((performance.now() - start) / 32);
    }
  }
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        sequentialMs: median(one.get(name)!),
        concurrentMs: median(latencies.get(name)!),
        concurrentPerCallMs: median(perCall.get(name)!),
      },
    ]),
  );
}

function rawFetchJob(fakeUrl: string): Job {
  const fetchFal = redirectingFetch(fakeUrl, fetch);
  const headers = {
    authorization: `Key ${KEY}`,
    "content-type": "application/json",
    accept: "application/json",
  };
  return async () => {
    const submit = await fetchFal(`https://queue.fal.run/${ENDPOINT}`, {
      method: "POST",
      headers,
      body: JSON.stringify(INPUT),
    });
    const { status_url: statusUrl, response_url: responseUrl } = (await submit.json()) as {
      status_url: string;
      response_url: string;
    };
    for (;;) {
      const status = (await (await fetchFal(statusUrl, { headers })).json()) as { status: string };
      if (status.status === "COMPLETED") break;
    }
    const result = await fetchFal(responseUrl, { headers });
    if (!result.ok) throw new Error(`raw fetch result: HTTP ${result.status}`);
    await result.json();
  };
}

function officialClientJob(fakeUrl: string): Job {
  const client = createFalClient({ credentials: KEY, fetch: redirectingFetch(fakeUrl, fetch) });
  // subscribe = submit, poll status (the first poll at once), result: what a direct user writes.
  return () => client.subscribe(ENDPOINT, { input: INPUT, mode: "polling", pollInterval: 10 });
}

/**
 * The SDK floor server on stdio, with one durable record per call when `recordDir` is given, and with
 * the rest of fal-mcp's promises for a paid job (the billing read, the output kept durably) when
 * `promises` is set.
 */
async function startFloor(context: RowContext, recordDir?: string, promises = false): Promise<RpcChild> {
  const { launcher } = await buildSdkFloor(context.scratch);
  const env = serverEnv({
    FAL_KEY: KEY,
    FLOOR_BASE_URL: context.fakeUrl,
    ...(recordDir ? { FLOOR_DURABLE: "1", FLOOR_RECORD_DIR: recordDir } : {}),
    ...(promises ? { FLOOR_PROMISES: "1" } : {}),
  });
  const floor = new RpcChild(process.execPath, [launcher], env);
  await floor.initialize();
  floor.notify("notifications/initialized");
  return floor;
}

async function serverJob(server: RpcChild): Promise<Job> {
  const list = await server.request("tools/list");
  const runModel = (
    list.tools as { name: string; inputSchema?: { properties?: Record<string, unknown> } }[]
  ).find((t) => t.name === "run_model");
  const args: Record<string, unknown> = { endpoint_id: ENDPOINT, input: INPUT };
  if (runModel?.inputSchema?.properties && "save" in runModel.inputSchema.properties) args.save = false;
  return async () => {
    const result = await server.callTool("run_model", args);
    const status = result.structuredContent?.status;
    if (status !== undefined && status !== "COMPLETED")
      throw new Error(`run_model returned status ${JSON.stringify(status)}, not a completed job`);
  };
}

export async function perCallOverhead(context: RowContext): Promise<RowResult> {
  const id = "overhead";
  const title = "Per-call overhead (run_model)";
  const { server, tools } = await startServer(serverEnv(context.env));
  const floors: RpcChild[] = [];
  try {
    const missing = missingTools(tools, ["run_model"]);
    if (missing) return skipped(id, title, missing);
    // 200 calls alone per path (20 a block): on a shared VM one call's latency moves by a third
    // between blocks, and 60 samples left the 1-call median ±1 ms from run to run.
    const sequential = context.quick ? 10 : 200;
    const rounds = context.quick ? 2 : 10;
    const sdkFloor = await startFloor(context);
    floors.push(sdkFloor);
    const durableFloor = await startFloor(context, path.join(context.scratch, "floor-records"));
    floors.push(durableFloor);
    const promisesFloor = await startFloor(context, path.join(context.scratch, "floor-promises"), true);
    floors.push(promisesFloor);
    const measured = await measureAll(
      {
        raw: rawFetchJob(context.fakeUrl),
        official: officialClientJob(context.fakeUrl),
        sdk: await serverJob(sdkFloor),
        durable: await serverJob(durableFloor),
        promises: await serverJob(promisesFloor),
        server: await serverJob(server),
      },
      sequential,
      rounds,
    );
    const {
      raw,
      official,
      sdk,
      durable,
      promises,
      server: viaServer,
    } = measured as Record<"raw" | "official" | "sdk" | "durable" | "promises" | "server", Figures>;
    const line = (measureName: string, pick: (f: Figures) => number, judged: boolean) => {
      const over = pick(viaServer) - pick(official);
      return {
        measure: measureName,
        falMcp: ms(pick(viaServer)),
        baseline: `${ms(pick(official))} @fal-ai/client · ${ms(pick(durable))} SDK floor · ${ms(pick(raw))} raw fetch`,
        comparison: `${signedMs(over)} (${ratio(pick(viaServer) / pick(official))}) vs client · ${signedMs(pick(viaServer) - pick(durable))} vs SDK floor · ${signedMs(pick(viaServer) - pick(promises))} vs the floor with the promises`,
        target: judged ? verdict(over <= 2, "≤ +2 ms over the client", signedMs(over)) : "(reported)",
      };
    };
    const floorLine = (measureName: string, pick: (f: Figures) => number) => ({
      measure: measureName,
      falMcp: `${ms(pick(durable))} (${ms(pick(sdk))} without the record)`,
      baseline: `${ms(pick(official))} @fal-ai/client`,
      comparison: `${signedMs(pick(durable) - pick(official))} (${signedMs(pick(sdk) - pick(official))} without the record) vs client`,
      target: "(reported: the floor)",
    });
    const promisesLine = (measureName: string, pick: (f: Figures) => number) => ({
      measure: measureName,
      falMcp: ms(pick(promises)),
      baseline: `${ms(pick(official))} @fal-ai/client · ${ms(pick(durable))} SDK floor`,
      comparison: `${signedMs(pick(promises) - pick(official))} vs client · ${signedMs(pick(promises) - pick(durable))} vs SDK floor`,
      target: "(reported: the floor of what fal-mcp promises)",
    });
    return {
      id,
      title,
      status: "ok",
      lines: [
        line("1 call at a time: latency", (f) => f.sequentialMs, true),
        line("32 concurrent: latency of one call", (f) => f.concurrentMs, false),
        line("32 concurrent: wall time per call", (f) => f.concurrentPerCallMs, true),
        floorLine(
          "SDK floor (SDK server + @fal-ai/client + 1 durable record), 1 call",
          (f) => f.sequentialMs,
        ),
        floorLine("SDK floor, 32 concurrent: wall time per call", (f) => f.concurrentPerCallMs),
        promisesLine(
          "SDK floor with fal-mcp's promises (+ billing read, output kept durably), 1 call",
          (f) => f.sequentialMs,
        ),
        promisesLine(
          "SDK floor with the promises, 32 concurrent: wall time per call",
          (f) => f.concurrentPerCallMs,
        ),
      ],
      figures: {
        endpoint: ENDPOINT,
        sequential,
        rounds,
        server: viaServer,
        officialClient: official,
        sdkFloor: sdk,
        sdkFloorDurable: durable,
        sdkFloorPromises: promises,
        rawFetch: raw,
      },
      notes: [
        `${ENDPOINT} completes at once with no media; every path does submit → status → result against the same fake. The server path adds stdio JSON-RPC, input/output validation, the job record write and the child process hop. The SDK floor is the MCP SDK's own stdio server (bundled and flagged as fal-mcp is) whose run_model calls @fal-ai/client and writes one record per call (new file, fsync, rename, folder fsync) before answering: what any server that speaks MCP through the SDK, calls fal through the official client and keeps the durability promise pays. The floor with the promises also reads fal's billing event beside the result (the cost after) and keeps the output in the record by a second durable write (temp file, fsync, rename) before answering, as fal-mcp does: what is left between it and fal-mcp is fal-mcp's own code (validation, redaction, cost, the answer). The six paths run in alternating blocks.`,
      ],
    };
  } finally {
    await server.close();
    for (const floor of floors) await floor.close();
  }
}
