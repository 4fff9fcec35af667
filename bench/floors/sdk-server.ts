// The floor of "what the MCP SDK costs by itself": the official SDK v2's smallest real server on
// stdio (both protocol eras, through serveStdio as fal-mcp serves). Its search_models makes one raw
// fetch of the fake's catalog (the start-up and memory rows); its run_model is @fal-ai/client's
// subscribe behind the SDK, with one fsynced record file per call when FLOOR_DURABLE=1 (the per-call
// row: the least a server that speaks MCP through the SDK, calls fal through the official client and
// keeps the durability promise can cost). bench/lib/sdk-floor.ts bundles it the way fal-mcp is bundled
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
const recordDir = process.env.FLOOR_DURABLE === "1" ? process.env.FLOOR_RECORD_DIR : undefined;
if (recordDir) mkdirSync(recordDir, { recursive: true });
const fal = createFalClient({ credentials: process.env.FAL_KEY, fetch: redirectingFetch(base, fetch) });

/** One job record made durable the plain way: a new file, written, fsynced, renamed, folder fsynced. */
async function writeRecord(folder: string, record: object): Promise<void> {
  const file = path.join(folder, `${randomUUID()}.json`);
  const handle = await open(`${file}.tmp`, "w");
  try {
    await handle.writeFile(JSON.stringify(record));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(`${file}.tmp`, file);
  const dir = await open(folder, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
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
      const recorded = recordDir
        ? writeRecord(recordDir, { endpointId, requestId: submitted.request_id })
        : Promise.resolve();
      await fal.queue.subscribeToStatus(endpointId, {
        requestId: submitted.request_id,
        mode: "polling",
        pollInterval: 10,
      });
      const result = await fal.queue.result(endpointId, { requestId: submitted.request_id });
      await recorded;
      const data: unknown = result.data;
      const output = { status: "COMPLETED", request_id: submitted.request_id, output: data };
      return { content: [{ type: "text", text: JSON.stringify(output) }], structuredContent: output };
    },
  );
  return server;
}

serveStdio(() => createServer(), { transport: new StdioServerTransport(process.stdin, process.stdout) });
process.stdin.on("end", () => process.exit(0));
