// The floor of "what the MCP SDK costs by itself": the official SDK v2's smallest real server on
// stdio (both protocol eras, through serveStdio as fal-mcp serves). Its search_models makes one raw
// fetch of the fake's catalog (the start-up and memory rows); its run_model is @fal-ai/client's
// subscribe behind the SDK, with one fsynced record file per call when FLOOR_DURABLE=1 (the per-call
// row: the least a server that speaks MCP through the SDK, calls fal through the official client and
// keeps the durability promise can cost). FLOOR_PROMISES=1 adds the rest of what fal-mcp promises for a
// paid job, done the plain way: fal's billing event read beside the result (the cost after), and the
// output kept in the record by a second durable write (a result fal deletes within the hour is never
// lost) before the answer. bench/lib/sdk-floor.ts bundles it the way fal-mcp is bundled
// and starts it with the same V8 flags, so the difference between the two is fal-mcp's own code.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import path from "node:path";
import { createFalClient } from "@fal-ai/client";
import { McpServer } from "@modelcontextprotocol/server";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import { z } from "zod";
import { redirectingFetch } from "../lib/redirecting-fetch.js";

const base = process.env.FLOOR_BASE_URL ?? "";
const promises = process.env.FLOOR_PROMISES === "1";
const recordDir = process.env.FLOOR_DURABLE === "1" || promises ? process.env.FLOOR_RECORD_DIR : undefined;
if (recordDir) mkdirSync(recordDir, { recursive: true });
const falFetch = redirectingFetch(base, fetch);
const fal = createFalClient({ credentials: process.env.FAL_KEY, fetch: falFetch });

/**
 * One job record made durable the plain way: a new file, written, fsynced, renamed, folder fsynced.
 * Replacing a durable record (`file` given) skips the folder fsync: the name is already durable.
 */
async function writeRecord(folder: string, record: object, file?: string): Promise<string> {
  const target = file ?? path.join(folder, `${randomUUID()}.json`);
  const handle = await open(`${target}.tmp`, "w");
  try {
    await handle.writeFile(JSON.stringify(record));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(`${target}.tmp`, target);
  if (file) return target;
  const dir = await open(folder, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return target;
}

/** fal's billing event of one job, by a raw fetch (the official client has no billing API). */
async function billingEvent(endpointId: string, requestId: string): Promise<unknown> {
  const query = new URLSearchParams({ endpoint_id: endpointId, request_id: requestId, limit: "100" });
  const response = await falFetch(`https://api.fal.ai/v1/models/billing-events?${query.toString()}`, {
    headers: { authorization: `Key ${process.env.FAL_KEY ?? ""}`, accept: "application/json" },
  });
  return response.ok ? await response.json() : undefined;
}

function createServer(): McpServer {
  const server = new McpServer({ name: "sdk-floor", version: "0" }, { capabilities: { logging: {} } });
  server.registerTool(
    "search_models",
    {
      description: "One raw fetch of the catalog search.",
      inputSchema: z.object({ query: z.string().optional(), limit: z.number().int().optional() }),
    },
    async ({ query, limit }) => {
      const response = await fetch(
        `${base}/api.fal.ai/v1/models?q=${encodeURIComponent(query ?? "")}&limit=${limit ?? 5}`,
      );
      return { content: [{ type: "text", text: (await response.text()).slice(0, 2000) }] };
    },
  );
  server.registerTool(
    "run_model",
    {
      description: "@fal-ai/client subscribe, optionally with one durable record.",
      inputSchema: z.object({
        endpoint_id: z.string(),
        input: z.record(z.string(), z.unknown()),
        save: z.boolean().optional(),
      }),
    },
    async ({ endpoint_id: endpointId, input }) => {
      const submitted = await fal.queue.submit(endpointId, { input });
      const record = { endpointId, requestId: submitted.request_id };
      const recorded = recordDir ? writeRecord(recordDir, record) : Promise.resolve(undefined);
      await fal.queue.subscribeToStatus(endpointId, {
        requestId: submitted.request_id,
        mode: "polling",
        pollInterval: 10,
      });
      const billed = promises ? billingEvent(endpointId, submitted.request_id) : undefined;
      const result = await fal.queue.result(endpointId, { requestId: submitted.request_id });
      const file = await recorded;
      const data: unknown = result.data;
      if (promises && recordDir && file) {
        const cost = await billed;
        await writeRecord(recordDir, { ...record, status: "COMPLETED", output: data, cost }, file);
      }
      const output = { status: "COMPLETED", request_id: submitted.request_id, output: data };
      return { content: [{ type: "text", text: JSON.stringify(output) }], structuredContent: output };
    },
  );
  return server;
}

serveStdio(() => createServer(), { transport: new StdioServerTransport(process.stdin, process.stdout) });
process.stdin.on("end", () => process.exit(0));
