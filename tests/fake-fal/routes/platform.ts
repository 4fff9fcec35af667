// api.fal.ai (catalog, pricing, estimate, request history), fal.ai (public OpenAPI, llms.txt,
// docs pages) and docs.fal.ai (the docs-search MCP endpoint).
import type { Core, Ctx } from "../core.js";
import { DOCS, docMarkdown, docText, llmsTxt, searchDocs } from "../docs.js";
import { isObject, platformError, readBody, readJson, sendJson, sendText } from "../http.js";
import type { ModelSpec } from "../types.js";
import { handleAccount } from "./account.js";
import { cursorFor, multi, paging } from "./params.js";

function searchScore(spec: ModelSpec, words: string[]): number {
  const id = spec.endpoint_id.toLowerCase();
  const name = spec.metadata.display_name.toLowerCase();
  const rest = [spec.metadata.description, spec.metadata.category, ...spec.metadata.tags]
    .join(" ")
    .toLowerCase();
  let score = 0;
  for (const w of words) {
    const s = (id.includes(w) ? 4 : 0) + (name.includes(w) ? 4 : 0) + (rest.includes(w) ? 1 : 0);
    if (s === 0) return 0; // every word must match somewhere
    score += s;
  }
  return score + (spec.metadata.highlighted ? 0.5 : 0);
}

export async function handleApi(core: Core, ctx: Ctx): Promise<void> {
  const { req, res, path } = ctx;
  const method = req.method ?? "GET";
  const p = path.replace(/\/+$/, "");
  // GET /v1/models works without a key, but a wrong key is still refused.
  if (p === "/v1/models" && method === "GET") {
    if (ctx.locked || (ctx.key !== null && !ctx.keyOk)) return void core.authorize(ctx, true);
    return listModels(core, ctx);
  }
  if (p === "/v1/models/pricing" && method === "GET") {
    if (!core.authorize(ctx, true)) return;
    return pricing(core, ctx);
  }
  if (p === "/v1/models/pricing/estimate" && method === "POST") {
    if (!core.authorize(ctx, true)) return;
    return estimate(core, ctx);
  }
  if (handleAccount(core, ctx, p)) return;
  platformError(res, 404, "not_found", `No route for ${method} ${path}`);
}

function listModels(core: Core, ctx: Ctx): void {
  const q = ctx.query;
  const ids = multi(q, "endpoint_id");
  if (ids.length > 50)
    return void platformError(ctx.res, 400, "validation_error", "endpoint_id accepts at most 50 values");
  const status = q.get("status");
  if (status !== null && status !== "active" && status !== "deprecated")
    return void platformError(ctx.res, 400, "validation_error", "status must be one of: active, deprecated");
  const pg = paging(ctx, 50);
  if (!pg.ok) return;
  const category = q.get("category");
  const words = (q.get("q") ?? "").toLowerCase().split(/\s+/).filter(Boolean);
  const expand = multi(q, "expand");

  let models = core.catalog;
  if (ids.length) {
    const wanted = new Set(ids);
    models = models.filter((m) => wanted.has(m.endpoint_id));
  }
  if (category) models = models.filter((m) => m.metadata.category === category);
  if (status) models = models.filter((m) => m.metadata.status === status);
  if (words.length) {
    models = models
      .map((m, i) => ({ m, i, s: searchScore(m, words) }))
      .filter((x) => x.s > 0)
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .map((x) => x.m);
  }
  const page = models.slice(pg.offset, pg.offset + pg.limit);
  const hasMore = pg.offset + pg.limit < models.length;
  sendJson(ctx.res, 200, {
    models: page.map((m) => {
      const out: Record<string, unknown> = { endpoint_id: m.endpoint_id, metadata: m.metadata };
      if (expand.includes("openapi-3.0")) {
        out.openapi =
          m.openapi === "expansion_failed"
            ? {
                error: {
                  code: "expansion_failed",
                  message: `Failed to expand OpenAPI schema for ${m.endpoint_id}`,
                },
              }
            : core.openapiFor(m);
      }
      if (expand.includes("enterprise_status")) out.enterprise_status = "approved";
      return out;
    }),
    next_cursor: hasMore ? cursorFor(pg.offset + pg.limit) : null,
    has_more: hasMore,
  });
}

function pricing(core: Core, ctx: Ctx): void {
  const ids = multi(ctx.query, "endpoint_id");
  if (!ids.length) return void platformError(ctx.res, 400, "validation_error", "endpoint_id is required");
  if (ids.length > 50)
    return void platformError(ctx.res, 400, "validation_error", "endpoint_id accepts at most 50 values");
  const prices = [];
  for (const id of ids) {
    const m = core.models.get(id);
    if (!m) return void platformError(ctx.res, 404, "not_found", `Endpoint not found: ${id}`);
    prices.push({ endpoint_id: id, ...m.price });
  }
  sendJson(ctx.res, 200, { prices, next_cursor: null, has_more: false });
}

async function estimate(core: Core, ctx: Ctx): Promise<void> {
  const body = await readJson(ctx.req, ctx.res, true);
  if (!body.ok) return;
  const v = body.value;
  if (!isObject(v) || (v.estimate_type !== "unit_price" && v.estimate_type !== "historical_api_price"))
    return void platformError(
      ctx.res,
      400,
      "validation_error",
      "estimate_type must be one of: unit_price, historical_api_price",
    );
  if (!isObject(v.endpoints) || Object.keys(v.endpoints).length === 0)
    return void platformError(ctx.res, 400, "validation_error", "endpoints must be a non-empty object");
  const historical = v.estimate_type === "historical_api_price";
  const field = historical ? "call_quantity" : "unit_quantity";
  let total = 0;
  for (const [id, spec] of Object.entries(v.endpoints)) {
    const m = core.models.get(id);
    if (!m) return void platformError(ctx.res, 404, "not_found", `Endpoint not found: ${id}`);
    const qty = isObject(spec) ? spec[field] : undefined;
    const valid =
      typeof qty === "number" && (historical ? Number.isInteger(qty) && qty >= 1 : qty >= 0.000001);
    if (!valid)
      return void platformError(
        ctx.res,
        400,
        "validation_error",
        `endpoints.${id}.${field} must be ${historical ? "an integer >= 1" : "a number >= 0.000001"}`,
      );
    total += m.price.unit_price * (historical ? m.typicalUnits * qty : qty);
  }
  sendJson(ctx.res, 200, {
    estimate_type: v.estimate_type,
    total_cost: Math.round(total * 1e6) / 1e6,
    currency: "USD",
  });
}

// ---------------------------------------------------------------- fal.ai

function modelLlmsTxt(m: ModelSpec): string {
  const lines = [
    `# ${m.metadata.display_name}`,
    "",
    `> ${m.metadata.description}`,
    "",
    `- Endpoint: \`${m.endpoint_id}\``,
    `- Category: ${m.metadata.category}`,
    `- Status: ${m.metadata.status}`,
    `- Price: $${m.price.unit_price} per ${m.price.unit}`,
    "",
    "## Input",
    "",
  ];
  for (const f of m.inputs) {
    const bits = [f.type, f.required ? "required" : "optional"];
    if (f.default !== undefined) bits.push(`default: ${JSON.stringify(f.default)}`);
    if (f.enum) bits.push(`one of: ${f.enum.join(", ")}`);
    if (f.min !== undefined) bits.push(`min: ${f.min}`);
    if (f.max !== undefined) bits.push(`max: ${f.max}`);
    lines.push(`- \`${f.name}\` (${bits.join(", ")}): ${f.description}`);
  }
  lines.push(
    "",
    "## Usage",
    "",
    "```js",
    `const result = await fal.subscribe("${m.endpoint_id}", { input: { /* ... */ } });`,
    "```",
    "",
  );
  return lines.join("\n");
}

export async function handleFalAi(core: Core, ctx: Ctx): Promise<void> {
  const { req, res, path } = ctx;
  const method = req.method ?? "GET";
  if (path === "/docs/mcp") return handleDocsMcp(core, ctx);
  if (method !== "GET" && method !== "HEAD") return void sendJson(res, 405, { detail: "Method Not Allowed" });
  if (path === "/api/openapi/queue/openapi.json") {
    const id = ctx.query.get("endpoint_id");
    if (!id) return void sendJson(res, 400, { detail: "endpoint_id is required" });
    const m = core.models.get(id);
    if (!m) return void sendJson(res, 404, { detail: `Endpoint ${id} not found` });
    if (m.openapi === "expansion_failed")
      return void sendJson(res, 500, { detail: "Failed to generate the OpenAPI schema" });
    return void sendJson(res, 200, core.openapiFor(m));
  }
  if (path === "/docs/llms.txt") return void sendText(res, 200, llmsTxt(), "text/plain; charset=utf-8");
  const modelTxt = /^\/models\/(.+)\/llms\.txt$/.exec(path);
  if (modelTxt) {
    const m = core.models.get(modelTxt[1]!);
    if (!m) return void sendText(res, 404, "Not Found");
    return void sendText(res, 200, modelLlmsTxt(m), "text/plain; charset=utf-8");
  }
  if (path.startsWith("/docs/") && path.endsWith(".md")) {
    const link = `https://fal.ai${path.slice(0, -3)}`;
    const page = DOCS.find((d) => d.link === link);
    if (page) return void sendText(res, 200, docMarkdown(page), "text/markdown; charset=utf-8");
  }
  sendText(res, 404, "Not Found");
}

// ---------------------------------------------------------------- docs.fal.ai/mcp

export async function handleDocs(core: Core, ctx: Ctx): Promise<void> {
  if (ctx.path.replace(/\/+$/, "") === "/mcp") return handleDocsMcp(core, ctx);
  sendText(ctx.res, 404, "Not Found");
}

async function handleDocsMcp(core: Core, ctx: Ctx): Promise<void> {
  const { req, res } = ctx;
  if (req.method !== "POST")
    return void sendJson(res, 405, {
      jsonrpc: "2.0",
      id: null,
      error: { code: -32000, message: "Method not allowed." },
    });
  const raw = await readBodyJsonRpc(ctx);
  if (raw === undefined) return;
  const reply = (payload: unknown): void => {
    const accept = String(req.headers.accept ?? "");
    if (core.settings.docsPlainJson || !accept.includes("text/event-stream"))
      return void sendJson(res, 200, payload);
    sendText(res, 200, `event: message\ndata: ${JSON.stringify(payload)}\n\n`, "text/event-stream", {
      "Cache-Control": "no-cache",
    });
  };
  if (!isObject(raw) || raw.jsonrpc !== "2.0" || typeof raw.method !== "string") {
    return reply({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request" } });
  }
  const id = raw.id ?? null;
  if (raw.id === undefined) {
    // A notification: no answer body.
    res.writeHead(202);
    res.end();
    return;
  }
  const params = isObject(raw.params) ? raw.params : {};
  const toolName = core.settings.docsToolName;
  switch (raw.method) {
    case "initialize":
      return reply({
        jsonrpc: "2.0",
        id,
        result: {
          protocolVersion: "2025-03-26",
          capabilities: { tools: { listChanged: false } },
          serverInfo: { name: "fal-docs", version: "1.0.0" },
        },
      });
    case "ping":
      return reply({ jsonrpc: "2.0", id, result: {} });
    case "tools/list":
      return reply({
        jsonrpc: "2.0",
        id,
        result: {
          tools: [
            {
              name: toolName,
              description:
                "Search across the fal knowledge base to find relevant information, code examples, API references, and guides.",
              inputSchema: {
                type: "object",
                properties: { query: { type: "string", description: "A query to search the content with." } },
                required: ["query"],
              },
            },
          ],
        },
      });
    case "tools/call": {
      if (params.name !== toolName)
        return reply({
          jsonrpc: "2.0",
          id,
          error: { code: -32602, message: `Tool ${String(params.name)} not found` },
        });
      const args = isObject(params.arguments) ? params.arguments : {};
      if (typeof args.query !== "string" || !args.query.trim())
        return reply({
          jsonrpc: "2.0",
          id,
          error: { code: -32602, message: "Invalid arguments: query is required" },
        });
      const content = searchDocs(args.query).map((p) => ({ type: "text", text: docText(p) }));
      return reply({ jsonrpc: "2.0", id, result: { content } });
    }
    default:
      return reply({
        jsonrpc: "2.0",
        id,
        error: { code: -32601, message: `Method not found: ${raw.method}` },
      });
  }
}

/** JSON-RPC body; a parse error is answered with -32700 and yields undefined. */
async function readBodyJsonRpc(ctx: Ctx): Promise<unknown> {
  let buf: Buffer;
  try {
    buf = await readBody(ctx.req, 1024 * 1024);
  } catch {
    if (!ctx.res.destroyed) ctx.res.destroy();
    return undefined;
  }
  try {
    return JSON.parse(buf.toString("utf8")) as unknown;
  } catch {
    sendJson(ctx.res, 400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
    return undefined;
  }
}
