// The floor of the memory and start-up rows' "what the MCP SDK costs by itself": the official SDK v2's
// smallest real server on stdio (both protocol eras, through serveStdio as fal-mcp serves), with one
// zod-typed tool that makes one raw fetch of the fake's catalog. bench/lib/sdk-floor.ts bundles it
// the way fal-mcp is bundled and starts it with the same V8 flags, so the difference between the two
// is fal-mcp's own code and data.
import { McpServer } from "@modelcontextprotocol/server";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import { z } from "zod";

const base = process.env.FLOOR_BASE_URL ?? "";

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
  return server;
}

serveStdio(() => createServer(), { transport: new StdioServerTransport(process.stdin, process.stdout) });
process.stdin.on("end", () => process.exit(0));
