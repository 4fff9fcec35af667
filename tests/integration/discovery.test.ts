import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import type { CallToolResult } from "@modelcontextprotocol/client";
import { startHarness, textOf, type Harness } from "../helpers/harness.js";

// Every call goes through a real SDK Client, which validates structuredContent against the
// advertised outputSchema (it learns the schemas from tools/list, done once per harness).

interface ModelEntry {
  endpoint_id: string;
  name: string;
  category: string | null;
  status: string | null;
}

/** The result's structuredContent (already validated against the outputSchema by the SDK client). */
function structured<T>(result: CallToolResult): T {
  return result.structuredContent as T;
}

let fake: FakeFal;
let withKey: Harness;
let noKey: Harness;

beforeAll(async () => {
  fake = await startFakeFal();
  withKey = await startHarness({ baseUrl: fake.url });
  noKey = await startHarness({ baseUrl: fake.url, env: { FAL_KEY: undefined } });
  await withKey.client.listTools();
  await noKey.client.listTools();
});

afterEach(() => {
  fake.clearFaults();
  fake.settings.docsToolName = "search_fal";
  fake.settings.docsPlainJson = false;
  withKey.services.catalog.clearCache();
  noKey.services.catalog.clearCache();
});

afterAll(async () => {
  await withKey?.close();
  await noKey?.close();
  await fake?.close();
});

const modelsRequests = () => fake.countRequests({ host: "api.fal.ai", path: "/v1/models" });

describe("tools/list", () => {
  it("advertises the five discovery tools, read-only, with output schemas", async () => {
    const { tools } = await withKey.client.listTools();
    const names = tools.map((tool) => tool.name);
    for (const name of [
      "search_models",
      "get_model_schema",
      "get_pricing",
      "search_docs",
      "recommend_model",
    ]) {
      const tool = tools.find((entry) => entry.name === name);
      expect(tool, name).toBeDefined();
      expect(tool?.annotations).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      });
      expect(tool?.outputSchema?.type).toBe("object");
    }
    expect(names.indexOf("search_models")).toBeLessThan(names.indexOf("get_model_schema"));
    expect(names.indexOf("get_pricing")).toBeLessThan(names.indexOf("search_docs"));
    // fal's order: the five discovery tools first, recommend_model last of them.
    expect(names.slice(0, 5).at(-1)).toBe("recommend_model");
  });
});

describe("search_models", () => {
  it("finds models by keyword, in fal's answer shape, with one readable line per model", async () => {
    const result = await withKey.call("search_models", { query: "flux" });
    expect(result.isError).toBeFalsy();
    const { models } = structured<{ models: ModelEntry[] }>(result);
    const dev = models.find((model) => model.endpoint_id === "fal-ai/flux/dev");
    expect(dev).toMatchObject({
      name: "FLUX.1 [dev]",
      category: "text-to-image",
      status: "active",
    });
    expect(textOf(result)).toMatch(/^fal-ai\/flux\/dev — FLUX\.1 \[dev\] \(text-to-image\): [^\n]+\.$/m);
    // The search is sent with fal's parameter names and the default status filter.
    const sent = fake.requests
      .filter((request) => request.host === "api.fal.ai" && request.path === "/v1/models")
      .at(-1);
    const params = new URLSearchParams(sent?.search);
    expect(params.get("q")).toBe("flux");
    expect(params.get("status")).toBe("active");
    expect(params.get("limit")).toBe("20");
  });

  it("pages with the cursor until the end, without repeats", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const result = await withKey.call("search_models", {
        category: "text-to-image",
        limit: 3,
        ...(cursor ? { cursor } : {}),
      });
      expect(result.isError).toBeFalsy();
      const page = result.structuredContent as {
        models: ModelEntry[];
        next_cursor: string | null;
        has_more: boolean;
      };
      seen.push(...page.models.map((model) => model.endpoint_id));
      expect(page.models.every((model) => model.category === "text-to-image")).toBe(true);
      if (page.has_more) expect(textOf(result)).toContain(`cursor "${page.next_cursor}"`);
      cursor = page.has_more ? (page.next_cursor ?? undefined) : undefined;
      pages++;
    } while (cursor && pages < 20);
    const all = await withKey.call("search_models", { category: "text-to-image", limit: 100 });
    const everything = structured<{ models: ModelEntry[] }>(all).models.map((model) => model.endpoint_id);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(everything);
  });

  it("status all includes deprecated models, the default hides them", async () => {
    const active = await withKey.call("search_models", { query: "stable diffusion" });
    const all = await withKey.call("search_models", { query: "stable diffusion", status: "all" });
    const ids = (result: typeof active) =>
      structured<{ models: ModelEntry[] }>(result).models.map((model) => model.endpoint_id);
    expect(ids(active)).not.toContain("fal-ai/stable-diffusion-v15");
    expect(ids(all)).toContain("fal-ai/stable-diffusion-v15");
    expect(textOf(all)).toContain("[deprecated]");
  });

  it("answers a repeated identical search from the cache", async () => {
    const before = modelsRequests();
    const first = await withKey.call("search_models", { query: "kling", limit: 5 });
    const second = await withKey.call("search_models", { query: "kling", limit: 5 });
    expect(second.structuredContent).toEqual(first.structuredContent);
    expect(modelsRequests() - before).toBe(1);
    await withKey.call("search_models", { query: "kling", limit: 6 });
    expect(modelsRequests() - before).toBe(2);
  });

  it("shares one request between concurrent identical searches", async () => {
    const before = modelsRequests();
    const results = await Promise.all(
      [1, 2, 3].map(() => withKey.call("search_models", { query: "whisper" })),
    );
    expect(results.every((result) => !result.isError)).toBe(true);
    expect(modelsRequests() - before).toBe(1);
  });

  it("handles catalog entries without metadata", async () => {
    fake.inject({
      host: "api.fal.ai",
      path: "/v1/models",
      times: 1,
      fault: {
        kind: "wrong-shape",
        body: { models: [{ endpoint_id: "alice/private-app" }], next_cursor: null, has_more: false },
      },
    });
    const result = await withKey.call("search_models", { query: "private" });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({
      models: [
        {
          endpoint_id: "alice/private-app",
          name: "alice/private-app",
          category: null,
          description: "",
          status: null,
        },
      ],
      total_shown: 1,
      next_cursor: null,
      has_more: false,
    });
  });

  it("works without a key, and sends none", async () => {
    const result = await noKey.call("search_models", { query: "veo" });
    expect(result.isError).toBeFalsy();
    expect(structured<{ models: ModelEntry[] }>(result).models.map((model) => model.endpoint_id)).toContain(
      "fal-ai/veo3",
    );
    const sent = fake.requests.filter((request) => request.path === "/v1/models").at(-1);
    expect(sent?.hadAuth).toBe(false);
  });

  it("rejects a limit over 100, naming the field and the range", async () => {
    const result = await withKey.call("search_models", { limit: 500 });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/limit/);
    expect(textOf(result)).toMatch(/100/);
  });

  it("rejects an unknown status, naming the allowed values", async () => {
    const result = await withKey.call("search_models", { status: "retired" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/status/);
    expect(textOf(result)).toMatch(/active/);
    expect(textOf(result)).toMatch(/deprecated/);
  });
});

describe("get_model_schema", () => {
  interface Field {
    name: string;
    type: string;
    required: boolean;
    enum?: unknown[];
    accepts?: string;
    default?: unknown;
    minimum?: number;
    maximum?: number;
  }
  interface SchemaResult {
    endpoint_id: string;
    display_name: string | null;
    category: string | null;
    model_url: string;
    source: string;
    input?: Field[];
    output?: Field[];
    input_schema?: Record<string, unknown>;
    output_schema?: Record<string, unknown>;
    price?: { unit_price: number; unit: string; currency: string };
  }

  it("summarises flux/dev's inputs in fal's order, with types, limits and the price", async () => {
    const result = await withKey.call("get_model_schema", { endpoint_id: "fal-ai/flux/dev" });
    expect(result.isError).toBeFalsy();
    const schema = structured<SchemaResult>(result);
    expect(schema).toMatchObject({
      endpoint_id: "fal-ai/flux/dev",
      display_name: "FLUX.1 [dev]",
      category: "text-to-image",
      model_url: "https://fal.ai/models/fal-ai/flux/dev",
      source: "platform-api",
      price: { unit_price: 0.025, unit: "megapixels", currency: "USD" },
    });
    const spec = fake.catalog.find((model) => model.endpoint_id === "fal-ai/flux/dev")!;
    expect(schema.input?.map((field) => field.name)).toEqual(spec.inputs.map((field) => field.name));
    const byName = new Map(schema.input?.map((field) => [field.name, field]));
    expect(byName.get("prompt")).toMatchObject({ type: "string", required: true });
    expect(byName.get("image_size")?.type).toBe("object {width: integer, height: integer} | string enum");
    expect(byName.get("image_size")?.enum).toContain("landscape_16_9");
    expect(byName.get("num_inference_steps")).toMatchObject({
      type: "integer",
      minimum: 1,
      maximum: 50,
      default: 28,
    });
    expect(byName.get("seed")).toMatchObject({ type: "integer", required: false });
    expect(schema.output?.map((field) => field.name)).toContain("images");
    const text = textOf(result);
    expect(text).toContain("Price: $0.025 per megapixels");
    expect(text).toMatch(/^- prompt \(string, required\)/m);
  });

  it("marks media URL fields as accepting local paths", async () => {
    const result = await withKey.call("get_model_schema", {
      endpoint_id: "fal-ai/kling-video/v2.1/master/image-to-video",
    });
    expect(result.isError).toBeFalsy();
    const schema = structured<SchemaResult>(result);
    const imageUrl = schema.input?.find((field) => field.name === "image_url");
    expect(imageUrl?.accepts).toMatch(/local file path/);
    expect(textOf(result)).toMatch(/local file path/);
  });

  it("detail full returns the Input and Output JSON schemas with refs inlined", async () => {
    const result = await withKey.call("get_model_schema", { endpoint_id: "fal-ai/flux/dev", detail: "full" });
    expect(result.isError).toBeFalsy();
    const schema = structured<SchemaResult>(result);
    expect(schema.input).toBeUndefined();
    expect(schema.input_schema?.title).toBe("FluxDevInput");
    expect(schema.output_schema?.title).toBe("FluxDevOutput");
    expect(JSON.stringify(schema.input_schema)).not.toContain("$ref");
    expect(JSON.stringify(schema.output_schema)).toContain('"width"');
  });

  it("without a key, answers without a price and sends no pricing request", async () => {
    const before = fake.countRequests({ path: "/v1/models/pricing" });
    const result = await noKey.call("get_model_schema", { endpoint_id: "fal-ai/flux/schnell" });
    expect(result.isError).toBeFalsy();
    expect(structured<SchemaResult>(result).price).toBeUndefined();
    expect(fake.countRequests({ path: "/v1/models/pricing" })).toBe(before);
  });

  it("falls back to the public openapi.json when fal's expansion fails", async () => {
    fake.inject({
      host: "api.fal.ai",
      path: "/v1/models",
      times: 1,
      fault: {
        kind: "wrong-shape",
        body: {
          models: [
            {
              endpoint_id: "fal-ai/flux/dev",
              openapi: { error: { code: "expansion_failed", message: "Failed to expand" } },
            },
          ],
          next_cursor: null,
          has_more: false,
        },
      },
    });
    const publicBefore = fake.countRequests({ host: "fal.ai", path: "/api/openapi/queue/openapi.json" });
    const result = await noKey.call("get_model_schema", { endpoint_id: "fal-ai/flux/dev" });
    expect(result.isError).toBeFalsy();
    const schema = structured<SchemaResult>(result);
    expect(schema.source).toBe("public-openapi");
    expect(schema.category).toBe("text-to-image");
    expect(schema.input?.[0]?.name).toBe("prompt");
    expect(
      fake.countRequests({ host: "fal.ai", path: "/api/openapi/queue/openapi.json" }) - publicBefore,
    ).toBe(1);
    expect(textOf(result)).toMatch(/expansion_failed/);
  });

  it("says clearly when neither source has a schema", async () => {
    const result = await withKey.call("get_model_schema", { endpoint_id: "fal-ai/broken-schema" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/expansion_failed/);
    expect(textOf(result)).toContain("https://fal.ai/models/fal-ai/broken-schema/api");
  });

  it("an unknown endpoint is an error pointing at search_models", async () => {
    const result = await withKey.call("get_model_schema", { endpoint_id: "fal-ai/does-not-exist" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('no model with endpoint_id "fal-ai/does-not-exist"');
    expect(textOf(result)).toContain("search_models");
  });

  it("caches the schema: a second call sends nothing", async () => {
    await withKey.call("get_model_schema", { endpoint_id: "fal-ai/recraft-v3" });
    const before = fake.requests.length;
    const again = await withKey.call("get_model_schema", { endpoint_id: "fal-ai/recraft-v3" });
    expect(again.isError).toBeFalsy();
    expect(fake.requests.length).toBe(before);
  });

  it("rejects bad arguments, naming the field and allowed values", async () => {
    const huge = await withKey.call("get_model_schema", { endpoint_id: "fal-ai/flux/dev", detail: "huge" });
    expect(huge.isError).toBe(true);
    expect(textOf(huge)).toMatch(/detail/);
    expect(textOf(huge)).toMatch(/summary/);
    expect(textOf(huge)).toMatch(/full/);
    const missing = await withKey.call("get_model_schema", {});
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/endpoint_id/);
    const extra = await withKey.call("get_model_schema", { endpoint_id: "fal-ai/flux/dev", verbose: true });
    expect(extra.isError).toBe(true);
    expect(textOf(extra)).toMatch(/verbose/);
  });
});

describe("get_pricing", () => {
  interface PricingResult {
    prices: {
      endpoint_id: string;
      unit_price: number;
      unit: string;
      currency: string;
      estimated_cost?: number;
    }[];
    not_found: string[];
    total_estimated_cost?: number;
    currency?: string;
    note: string;
  }

  it("gives unit prices and estimates for a quantity", async () => {
    const result = await withKey.call("get_pricing", {
      endpoint_ids: ["fal-ai/flux/dev", "fal-ai/kling-video/v2.1/master/image-to-video"],
      quantity: 4,
    });
    expect(result.isError).toBeFalsy();
    const pricing = structured<PricingResult>(result);
    const kling = fake.catalog.find(
      (model) => model.endpoint_id === "fal-ai/kling-video/v2.1/master/image-to-video",
    )!.price;
    expect(pricing.prices).toEqual([
      {
        endpoint_id: "fal-ai/flux/dev",
        unit_price: 0.025,
        unit: "megapixels",
        currency: "USD",
        estimated_cost: 0.1,
      },
      {
        endpoint_id: "fal-ai/kling-video/v2.1/master/image-to-video",
        ...kling,
        estimated_cost: Math.round(kling.unit_price * 4 * 1e6) / 1e6,
      },
    ]);
    expect(pricing.total_estimated_cost).toBeCloseTo(0.1 + kling.unit_price * 4, 6);
    expect(pricing.currency).toBe("USD");
    expect(pricing.note).toMatch(/approximate/);
    expect(textOf(result)).toContain(
      "fal-ai/flux/dev: $0.025 per megapixels → about $0.1 for 4 × megapixels",
    );
    const sent = fake.requests.filter((request) => request.path === "/v1/models/pricing").at(-1);
    expect(sent?.keyOk).toBe(true);
  });

  it("names the ids fal does not know and still prices the others", async () => {
    const result = await withKey.call("get_pricing", {
      endpoint_ids: ["fal-ai/flux/dev", "nope/not-a-model"],
    });
    expect(result.isError).toBeFalsy();
    const pricing = structured<PricingResult>(result);
    expect(pricing.prices.map((price) => price.endpoint_id)).toEqual(["fal-ai/flux/dev"]);
    expect(pricing.not_found).toEqual(["nope/not-a-model"]);
    expect(textOf(result)).toContain("No price found for: nope/not-a-model");
  });

  it("is an error when no id is known", async () => {
    const result = await withKey.call("get_pricing", { endpoint_ids: ["nope/a", "nope/b"] });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('"nope/a", "nope/b"');
    expect(textOf(result)).toContain("search_models");
  });

  it("without a key is an error naming FAL_KEY, and nothing is sent", async () => {
    const before = fake.countRequests({ path: "/v1/models/pricing" });
    const result = await noKey.call("get_pricing", { endpoint_ids: ["fal-ai/flux/dev"] });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("FAL_KEY");
    expect(textOf(result)).toContain("get_pricing");
    expect(fake.countRequests({ path: "/v1/models/pricing" })).toBe(before);
  });

  it("rejects an empty list and more than 50 ids", async () => {
    const empty = await withKey.call("get_pricing", { endpoint_ids: [] });
    expect(empty.isError).toBe(true);
    expect(textOf(empty)).toMatch(/endpoint_ids/);
    const many = await withKey.call("get_pricing", {
      endpoint_ids: Array.from({ length: 51 }, (_, i) => `fal-ai/m${i}`),
    });
    expect(many.isError).toBe(true);
    expect(textOf(many)).toMatch(/50/);
    const negative = await withKey.call("get_pricing", { endpoint_ids: ["fal-ai/flux/dev"], quantity: -1 });
    expect(negative.isError).toBe(true);
    expect(textOf(negative)).toMatch(/quantity/);
  });
});

describe("search_docs", () => {
  interface DocsResult {
    results: { title: string; link: string | null; snippet: string }[];
    source: string;
  }
  const docsRequests = () => fake.countRequests({ host: "docs.fal.ai", path: "/mcp" });

  it("searches fal's docs MCP endpoint and parses the results", async () => {
    const result = await withKey.call("search_docs", { query: "queue webhooks", limit: 3 });
    expect(result.isError).toBeFalsy();
    const docs = structured<DocsResult>(result);
    expect(docs.source).toBe("docs-search");
    expect(docs.results.length).toBeGreaterThan(0);
    expect(docs.results.length).toBeLessThanOrEqual(3);
    expect(docs.results.map((entry) => entry.title)).toContain("Webhooks");
    const webhooks = docs.results.find((entry) => entry.title === "Webhooks");
    expect(webhooks?.link).toBe("https://fal.ai/docs/documentation/model-apis/inference/webhooks");
    expect(webhooks?.snippet).toContain("fal_webhook");
    expect(docs.results.every((entry) => entry.snippet.length <= 401)).toBe(true);
    const sent = fake.requests.filter((request) => request.host === "docs.fal.ai").at(-1);
    expect(sent?.method).toBe("POST");
    expect(sent?.headers.accept).toContain("text/event-stream");
  });

  it("reads a plain JSON answer too", async () => {
    fake.settings.docsPlainJson = true;
    const result = await withKey.call("search_docs", { query: "upload files" });
    expect(result.isError).toBeFalsy();
    expect(structured<DocsResult>(result).results.map((entry) => entry.title)).toContain(
      "File uploads and storage",
    );
  });

  it("finds the renamed tool through tools/list once, then remembers it", async () => {
    fake.settings.docsToolName = "SearchFalDocs";
    const before = docsRequests();
    const first = await withKey.call("search_docs", { query: "cancel a request" });
    expect(first.isError).toBeFalsy();
    expect(structured<DocsResult>(first).source).toBe("docs-search");
    expect(structured<DocsResult>(first).results.map((entry) => entry.title)).toContain("Cancel a request");
    // tools/call (unknown tool), tools/list, tools/call with the new name.
    expect(docsRequests() - before).toBe(3);
    const second = await withKey.call("search_docs", { query: "synchronous inference" });
    expect(second.isError).toBeFalsy();
    expect(docsRequests() - before).toBe(4);
  });

  it("falls back to llms.txt when the docs search is unreachable, and says so", async () => {
    fake.inject({ host: "docs.fal.ai", fault: { kind: "status", status: 404, body: "Not Found" } });
    const result = await withKey.call("search_docs", { query: "webhook" });
    expect(result.isError).toBeFalsy();
    const docs = structured<DocsResult>(result);
    expect(docs.source).toBe("llms.txt");
    expect(docs.results[0]?.title).toBe("Webhooks");
    expect(docs.results[0]?.link).toMatch(/^https:\/\/fal\.ai\/docs\/.*webhooks\.md$/);
    expect(textOf(result)).toContain("llms.txt");
    // The degraded answer is not cached: once the docs search is back, it answers.
    fake.clearFaults();
    const again = await withKey.call("search_docs", { query: "webhook" });
    expect(structured<DocsResult>(again).source).toBe("docs-search");
  });

  it("is a clear error pointing at fal.ai/docs when both are unreachable", async () => {
    fake.inject({ host: "docs.fal.ai", fault: { kind: "drop-before" } });
    fake.inject({ host: "fal.ai", path: "/docs/llms.txt", fault: { kind: "drop-before" } });
    const result = await withKey.call("search_docs", { query: "webhook" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/unreachable/);
    expect(textOf(result)).toContain("https://fal.ai/docs");
  });

  it("rejects an empty query and a limit over 20", async () => {
    const empty = await withKey.call("search_docs", { query: "" });
    expect(empty.isError).toBe(true);
    expect(textOf(empty)).toMatch(/query/);
    const big = await withKey.call("search_docs", { query: "queue", limit: 21 });
    expect(big.isError).toBe(true);
    expect(textOf(big)).toMatch(/limit/);
  });
});

describe("recommend_model", () => {
  interface Recommendation {
    endpoint_id: string;
    display_name: string;
    category: string | null;
    reason: string;
    unit_price?: number;
    unit?: string;
    currency?: string;
  }
  interface RecommendResult {
    recommendations: Recommendation[];
    inferred_category?: string;
    category_source: string;
  }

  it("infers image-to-video for 'animate this photo' and ranks that category's models with prices", async () => {
    const result = await withKey.call("recommend_model", { task: "animate this photo of my dog", limit: 3 });
    expect(result.isError).toBeFalsy();
    const answer = structured<RecommendResult>(result);
    expect(answer.category_source).toBe("inferred");
    expect(answer.inferred_category).toBe("image-to-video");
    expect(answer.recommendations.length).toBeGreaterThan(0);
    expect(answer.recommendations.length).toBeLessThanOrEqual(3);
    expect(answer.recommendations.every((entry) => entry.category === "image-to-video")).toBe(true);
    // kling is highlighted by fal in the catalog: it leads.
    expect(answer.recommendations[0]?.endpoint_id).toBe("fal-ai/kling-video/v2.1/master/image-to-video");
    expect(answer.recommendations[0]?.reason).toContain("image-to-video (inferred from 'animate')");
    expect(answer.recommendations[0]?.reason).toContain("highlighted by fal");
    const kling = fake.catalog.find(
      (model) => model.endpoint_id === "fal-ai/kling-video/v2.1/master/image-to-video",
    )!.price;
    expect(answer.recommendations[0]).toMatchObject({
      unit_price: kling.unit_price,
      unit: kling.unit,
      currency: "USD",
    });
    expect(textOf(result)).toMatch(/^1\. fal-ai\/kling-video/m);
  });

  it("uses the catalog, not a fixed list: a transcription task gets speech-to-text models", async () => {
    const result = await withKey.call("recommend_model", { task: "transcribe my podcast interview" });
    const answer = structured<RecommendResult>(result);
    expect(answer.inferred_category).toBe("speech-to-text");
    const ids = answer.recommendations.map((entry) => entry.endpoint_id);
    expect(ids).toContain("fal-ai/whisper");
    expect(ids).toContain("fal-ai/wizper");
    expect(answer.recommendations.every((entry) => entry.category === "speech-to-text")).toBe(true);
  });

  it("honours a given category and works without a key (no prices, no pricing request)", async () => {
    const before = fake.countRequests({ path: "/v1/models/pricing" });
    const result = await noKey.call("recommend_model", {
      task: "something fast",
      category: "text-to-speech",
      limit: 2,
    });
    expect(result.isError).toBeFalsy();
    const answer = structured<RecommendResult>(result);
    expect(answer.category_source).toBe("given");
    expect(answer.inferred_category).toBeUndefined();
    expect(answer.recommendations).toHaveLength(2);
    expect(
      answer.recommendations.every(
        (entry) => entry.category === "text-to-speech" && entry.unit_price === undefined,
      ),
    ).toBe(true);
    expect(fake.countRequests({ path: "/v1/models/pricing" })).toBe(before);
  });

  it("with no category in the task, says so and still recommends from keyword matches", async () => {
    const result = await withKey.call("recommend_model", { task: "kling" });
    expect(result.isError).toBeFalsy();
    const answer = structured<RecommendResult>(result);
    expect(answer.category_source).toBe("none");
    expect(answer.recommendations[0]?.endpoint_id).toMatch(/kling/);
    expect(answer.recommendations[0]?.reason).toContain("matches 'kling'");
  });

  it("rejects an unknown category, listing the allowed ones", async () => {
    const result = await withKey.call("recommend_model", { task: "x", category: "text-to-smell" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/category/);
    expect(textOf(result)).toMatch(/text-to-image/);
  });
});
