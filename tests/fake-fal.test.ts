// Tests of the fake of fal itself: with plain fetch (exact wire shapes) and with the official
// @fal-ai/client pointed at the fake through a rewriting fetch (fal-platform-api.md §16.11).
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApiError, ValidationError, createFalClient } from "@fal-ai/client";
import {
  CATALOG,
  generateCatalog,
  startFakeFal,
  type FakeFal,
  type FakeFalSettings,
} from "./fake-fal/server.js";

const KEY = "test-key";
const AUTH = { Authorization: `Key ${KEY}` };
const JSON_AUTH = { ...AUTH, "Content-Type": "application/json" };

let fake: FakeFal;
let defaults: FakeFalSettings;

beforeAll(async () => {
  fake = await startFakeFal();
  defaults = { ...fake.settings };
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  Object.assign(fake.settings, defaults);
});
afterEach(() => {
  expect(fake.errors).toEqual([]);
});

/** fetch against the fake, addressed by original host and path. */
const call = (host: string, path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${fake.url}/${host}${path}`, init);
const json = async <T = Record<string, unknown>>(res: Response): Promise<T> => (await res.json()) as T;

/** Typed walk into parsed JSON: `dig(doc, "info", "title")`. */
const dig = (v: unknown, ...keys: (string | number)[]): unknown =>
  keys.reduce<unknown>(
    (o, k) => (o !== null && typeof o === "object" ? (o as Record<string | number, unknown>)[k] : undefined),
    v,
  );
const str = (v: unknown): string => {
  expect(typeof v).toBe("string");
  return v as string;
};

/** The redirect fal-mcp applies: any fal host goes to `${base}/${host}${path}${search}`. */
const redirectingFetch =
  (base: () => string): typeof fetch =>
  (input, init) => {
    const u = new URL(input instanceof Request ? input.url : String(input));
    return fetch(`${base()}/${u.host}${u.pathname}${u.search}`, init);
  };
const client = (credentials = KEY) =>
  createFalClient({ credentials, fetch: redirectingFetch(() => fake.url) });

/** Maps a fal URL handed out by the fake back to the fake. */
const local = (falUrl: string): string => {
  const u = new URL(falUrl);
  return `${fake.url}/${u.host}${u.pathname}${u.search}`;
};

async function submit(
  endpoint: string,
  input: unknown,
): Promise<{
  request_id: string;
  status_url: string;
  response_url: string;
  cancel_url: string;
  queue_position: number;
}> {
  const res = await call("queue.fal.run", `/${endpoint}`, {
    method: "POST",
    headers: JSON_AUTH,
    body: JSON.stringify(input),
  });
  expect(res.status).toBe(200);
  return json(res);
}
const getStatus = (statusUrl: string, logs = 0) =>
  fetch(`${local(statusUrl)}?logs=${logs}`, { headers: AUTH });
const getResult = (responseUrl: string) => fetch(local(responseUrl), { headers: AUTH });

// ------------------------------------------------------------------------------------------------

describe("catalog: GET api.fal.ai/v1/models", () => {
  it("lists without a key, with fal's metadata fields, and pages with an opaque cursor", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(
        "api.fal.ai",
        `/v1/models?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(res.status).toBe(200);
      const body = await json<{
        models: { endpoint_id: string; metadata: Record<string, unknown> }[];
        next_cursor: string | null;
        has_more: boolean;
      }>(res);
      for (const m of body.models) {
        seen.push(m.endpoint_id);
        for (const k of [
          "display_name",
          "category",
          "description",
          "status",
          "tags",
          "updated_at",
          "is_favorited",
          "thumbnail_url",
          "model_url",
          "date",
          "highlighted",
          "pinned",
        ]) {
          expect(m.metadata).toHaveProperty(k);
        }
        expect(m.metadata.model_url).toBe(`https://fal.ai/models/${m.endpoint_id}`);
      }
      expect(body.has_more).toBe(body.next_cursor !== null);
      cursor = body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(Math.ceil(CATALOG.length / 7));
    expect(new Set(seen).size).toBe(CATALOG.length);
  });

  it("searches q case-insensitively over id, name, description, category and tags", async () => {
    const ids = async (qs: string) =>
      (
        await json<{ models: { endpoint_id: string }[] }>(await call("api.fal.ai", `/v1/models?${qs}`))
      ).models.map((m) => m.endpoint_id);
    expect(await ids("q=FLUX")).toContain("fal-ai/flux/dev");
    expect(await ids("q=background%20removal")).toEqual(["fal-ai/birefnet"]);
    expect(await ids("q=upscale%20video")).toContain("fal-ai/topaz/upscale/video");
    expect(await ids("category=image-to-3d")).toEqual(["fal-ai/trellis", "fal-ai/hunyuan3d/v2"]);
    expect(await ids("status=deprecated")).toEqual(["fal-ai/stable-diffusion-v15"]);
    expect(await ids("endpoint_id=fal-ai/veo3&endpoint_id=fal-ai/whisper")).toEqual([
      "fal-ai/veo3",
      "fal-ai/whisper",
    ]);
    expect(await ids("endpoint_id=fal-ai/does-not-exist")).toEqual([]);
    expect(await ids("q=flux&category=image-to-image")).toEqual(["fal-ai/flux/dev/image-to-image"]);
  });

  it("rejects bad parameters with the Platform error envelope", async () => {
    const many = Array.from({ length: 51 }, (_, i) => `endpoint_id=a/b${i}`).join("&");
    for (const qs of [many, "limit=101", "limit=0", "cursor=%%%", "status=gone"]) {
      const res = await call("api.fal.ai", `/v1/models?${qs}`);
      expect(res.status, qs).toBe(400);
      expect((await json<{ error: { type: string } }>(res)).error.type).toBe("validation_error");
    }
    const bad = await call("api.fal.ai", "/v1/models", { headers: { Authorization: "Key nope" } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({
      error: { type: "authorization_error", message: "Authentication required" },
    });
  });

  it("expands openapi-3.0 in fal's shape, and reports expansion_failed", async () => {
    const res = await call(
      "api.fal.ai",
      "/v1/models?endpoint_id=fal-ai/flux/dev&endpoint_id=fal-ai/broken-schema&expand=openapi-3.0",
    );
    const { models } = await json<{ models: { endpoint_id: string; openapi: unknown }[] }>(res);
    const doc = models.find((m) => m.endpoint_id === "fal-ai/flux/dev")!.openapi;
    const schemas = dig(doc, "components", "schemas");
    const paths = dig(doc, "paths");
    const jsonSchema = (path: string, ...rest: string[]) =>
      dig(paths, path, ...rest, "content", "application/json", "schema");
    expect(dig(doc, "openapi")).toBe("3.0.4");
    expect(dig(doc, "info", "title")).toBe("Queue OpenAPI for fal-ai/flux/dev");
    expect(dig(doc, "info", "x-fal-metadata")).toMatchObject({
      endpointId: "fal-ai/flux/dev",
      category: "text-to-image",
    });
    expect(dig(doc, "servers")).toEqual([{ url: "https://queue.fal.run" }]);
    const input = dig(schemas, "FluxDevInput");
    expect(dig(input, "x-fal-order-properties", 0)).toBe("prompt");
    expect(dig(input, "required")).toEqual(["prompt"]);
    expect(dig(input, "properties", "image_size", "anyOf", 0)).toEqual({
      $ref: "#/components/schemas/ImageSize",
    });
    expect(dig(input, "properties", "seed", "anyOf")).toContainEqual({ type: "null" });
    expect(dig(input, "properties", "num_images")).toMatchObject({
      type: "integer",
      minimum: 1,
      maximum: 4,
      default: 1,
    });
    expect(dig(schemas, "ImageSize", "properties", "width", "type")).toBe("integer");
    expect(dig(schemas, "QueueStatus", "properties", "status", "enum")).toEqual([
      "IN_QUEUE",
      "IN_PROGRESS",
      "COMPLETED",
    ]);
    expect(jsonSchema("/fal-ai/flux/dev", "post", "requestBody")).toEqual({
      $ref: "#/components/schemas/FluxDevInput",
    });
    expect(jsonSchema("/fal-ai/flux/dev/requests/{request_id}", "get", "responses", "200")).toEqual({
      $ref: "#/components/schemas/FluxDevOutput",
    });
    expect(paths).toHaveProperty(["/fal-ai/flux/dev/requests/{request_id}/status"]);
    expect(paths).toHaveProperty(["/fal-ai/flux/dev/requests/{request_id}/cancel"]);
    expect(dig(schemas, "FluxDevOutput", "properties", "images", "items")).toEqual({
      $ref: "#/components/schemas/Image",
    });
    expect(dig(models.find((m) => m.endpoint_id === "fal-ai/broken-schema")!.openapi, "error", "code")).toBe(
      "expansion_failed",
    );

    const pub = await call("fal.ai", "/api/openapi/queue/openapi.json?endpoint_id=fal-ai/flux/dev");
    expect(pub.status).toBe(200);
    expect(await pub.json()).toEqual(doc);
    expect((await call("fal.ai", "/api/openapi/queue/openapi.json?endpoint_id=nope/nope")).status).toBe(404);
    expect(
      (await call("fal.ai", "/api/openapi/queue/openapi.json?endpoint_id=fal-ai/broken-schema")).status,
    ).toBe(500);
  });

  it("serves llms.txt fallbacks", async () => {
    const index = await (await call("fal.ai", "/docs/llms.txt")).text();
    expect(index).toContain(
      "[Asynchronous Inference](https://fal.ai/docs/documentation/model-apis/inference/queue.md)",
    );
    const model = await call("fal.ai", "/models/fal-ai/flux/dev/llms.txt");
    expect(model.status).toBe(200);
    expect(await model.text()).toContain("`num_images` (integer, optional, default: 1, min: 1, max: 4)");
    expect((await call("fal.ai", "/models/nope/x/llms.txt")).status).toBe(404);
    expect(
      await (await call("fal.ai", "/docs/documentation/model-apis/inference/queue.md")).text(),
    ).toContain("# Asynchronous Inference");
  });

  it("pads a 2,000-model catalog with unique, plausible entries", async () => {
    const big = generateCatalog(2000);
    expect(big).toHaveLength(2000);
    expect(new Set(big.map((m) => m.endpoint_id)).size).toBe(2000);
    const f2 = await startFakeFal({ catalog: big });
    try {
      const res = await fetch(`${f2.url}/api.fal.ai/v1/models?category=text-to-video&limit=100`);
      const body = await json<{ models: unknown[]; has_more: boolean }>(res);
      expect(body.models).toHaveLength(100);
      expect(body.has_more).toBe(true);
    } finally {
      await f2.close();
    }
  });
});

describe("pricing and estimates", () => {
  it("requires a key (401 envelope) and takes comma or repeated ids", async () => {
    const anon = await call("api.fal.ai", "/v1/models/pricing?endpoint_id=fal-ai/flux/dev");
    expect(anon.status).toBe(401);
    expect(await anon.json()).toEqual({
      error: { type: "authorization_error", message: "Authentication required" },
    });
    const a = await json<{ prices: unknown[] }>(
      await call("api.fal.ai", "/v1/models/pricing?endpoint_id=fal-ai/flux/dev,fal-ai/veo3", {
        headers: AUTH,
      }),
    );
    const b = await json(
      await call("api.fal.ai", "/v1/models/pricing?endpoint_id=fal-ai/flux/dev&endpoint_id=fal-ai/veo3", {
        headers: AUTH,
      }),
    );
    expect(a).toEqual(b);
    expect(a).toEqual({
      prices: [
        { endpoint_id: "fal-ai/flux/dev", unit_price: 0.025, unit: "megapixels", currency: "USD" },
        { endpoint_id: "fal-ai/veo3", unit_price: 0.75, unit: "second", currency: "USD" },
      ],
      next_cursor: null,
      has_more: false,
    });
    const unknown = await call("api.fal.ai", "/v1/models/pricing?endpoint_id=nope/nope", { headers: AUTH });
    expect(unknown.status).toBe(404);
    expect((await json<{ error: { type: string } }>(unknown)).error.type).toBe("not_found");
  });

  it("estimates with both estimate types", async () => {
    const post = (body: unknown) =>
      call("api.fal.ai", "/v1/models/pricing/estimate", {
        method: "POST",
        headers: JSON_AUTH,
        body: JSON.stringify(body),
      });
    expect(
      await json(
        await post({
          estimate_type: "unit_price",
          endpoints: { "fal-ai/flux-pro/v1.1-ultra": { unit_quantity: 4 } },
        }),
      ),
    ).toEqual({
      estimate_type: "unit_price",
      total_cost: 0.24,
      currency: "USD",
    });
    const hist = await json<{ total_cost: number }>(
      await post({
        estimate_type: "historical_api_price",
        endpoints: { "fal-ai/veo3": { call_quantity: 2 } },
      }),
    );
    expect(hist.total_cost).toBeCloseTo(0.75 * 8 * 2);
    expect((await post({ estimate_type: "guess", endpoints: {} })).status).toBe(400);
    expect(
      (
        await post({
          estimate_type: "historical_api_price",
          endpoints: { "fal-ai/veo3": { call_quantity: 0.5 } },
        })
      ).status,
    ).toBe(400);
    expect(
      (await call("api.fal.ai", "/v1/models/pricing/estimate", { method: "POST", body: "{}" })).status,
    ).toBe(401);
  });
});

describe("queue with plain fetch", () => {
  it("runs submit → IN_QUEUE → IN_PROGRESS (logs) → COMPLETED → result with headers and real media", async () => {
    fake.setBehavior("fal-ai/flux/dev", { queueMs: 10_000, runMs: 10_000 });
    const sub = await submit("fal-ai/flux/dev", { prompt: "a cat", num_images: 2, image_size: "square" });
    expect(sub.status_url).toBe(`https://queue.fal.run/fal-ai/flux/requests/${sub.request_id}/status`);
    expect(sub.response_url).toBe(`https://queue.fal.run/fal-ai/flux/requests/${sub.request_id}`);
    expect(sub.cancel_url).toBe(`https://queue.fal.run/fal-ai/flux/requests/${sub.request_id}/cancel`);
    expect(sub.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sub).toMatchObject({ status: "IN_QUEUE", queue_position: 0 });

    let res = await getStatus(sub.status_url);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: "IN_QUEUE", queue_position: 0 });
    expect((await getResult(sub.response_url)).status).toBe(400);

    fake.advanceTime(12_000);
    res = await getStatus(sub.status_url);
    const noLogs = await json(res);
    expect(res.status).toBe(202);
    expect(noLogs.status).toBe("IN_PROGRESS");
    expect(noLogs.logs ?? null).toBeNull();
    const withLogs = await json<{ logs: { message: string; level: string }[] }>(
      await getStatus(sub.status_url, 1),
    );
    expect(withLogs.logs.map((l) => l.message)).toEqual(["Loading model", "Model loaded"]);
    fake.advanceTime(5_000);
    const later = await json<{ logs: unknown[] }>(await getStatus(sub.status_url, 1));
    expect(later.logs.length).toBeGreaterThan(withLogs.logs.length);

    const early = await getResult(sub.response_url);
    expect(early.status).toBe(400);
    expect(await early.json()).toEqual({ detail: "Request is still in progress" });

    fake.advanceTime(5_000);
    res = await getStatus(sub.status_url, 1);
    expect(res.status).toBe(200);
    const done = await json<{
      status: string;
      metrics: { inference_time: number };
      logs: unknown[];
      error?: unknown;
    }>(res);
    expect(done.status).toBe("COMPLETED");
    expect(done.metrics.inference_time).toBe(10);
    expect(done.logs).toHaveLength(7);
    expect(done.error).toBeUndefined();

    res = await getResult(sub.response_url);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-fal-request-id")).toBe(sub.request_id);
    expect(res.headers.get("x-fal-billable-units")).toBe(
      String(Math.round(((2 * 512 * 512) / 1e6) * 100) / 100),
    );
    const out = await json<{
      images: { url: string; width: number; height: number; content_type: string }[];
      seed: number;
      has_nsfw_concepts: boolean[];
      prompt: string;
      timings: { inference: number };
    }>(res);
    expect(out.images).toHaveLength(2);
    expect(out.has_nsfw_concepts).toEqual([false, false]);
    expect(out.prompt).toBe("a cat");
    expect(typeof out.seed).toBe("number");
    const img = out.images[0]!;
    expect(img.url).toMatch(/^https:\/\/v3\.fal\.media\/files\/[a-z]+\/[\w-]+\/[\w]+\.png$/);
    expect(img).toMatchObject({ width: 512, height: 512, content_type: "image/png" });
    const file = await fetch(local(img.url));
    expect(file.headers.get("content-type")).toBe("image/png");
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(Number(file.headers.get("content-length"))).toBe(bytes.length);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(bytes.readUInt32BE(16)).toBe(512); // IHDR width
    expect(fake.jobsFor("fal-ai/flux/dev")).toHaveLength(1);
    expect(fake.wrongRootRequests).toEqual([]);
  });

  it("answers 404 on the full endpoint id and records it as a wrong root", async () => {
    const sub = await submit("fake/instant", { prompt: "x" });
    const res = await call("queue.fal.run", `/fake/instant/requests/${sub.request_id}/status`, {
      headers: AUTH,
    });
    expect(res.status).toBe(200); // fake/instant: the root IS the full id
    const flux = await submit("fal-ai/flux/dev/image-to-image", {
      prompt: "x",
      image_url: "https://v3.fal.media/files/a/b/c.png",
    });
    const wrong = await call("queue.fal.run", `/fal-ai/flux/dev/image-to-image/requests/${flux.request_id}`, {
      headers: AUTH,
    });
    expect(wrong.status).toBe(404);
    expect(fake.wrongRootRequests).toEqual([
      {
        method: "GET",
        path: `/fal-ai/flux/dev/image-to-image/requests/${flux.request_id}`,
        requestId: flux.request_id,
        usedRoot: "fal-ai/flux/dev/image-to-image",
        expectedRoot: "fal-ai/flux",
      },
    ]);
    const wf = await submit("workflows/alice/my-flow", { prompt: "x" });
    expect(wf.status_url).toBe(
      `https://queue.fal.run/workflows/alice/my-flow/requests/${wf.request_id}/status`,
    );
  });

  it("decreases queue_position over time", async () => {
    fake.setBehavior("fal-ai/flux/schnell", { queueMs: 10_000, queuePosition: 5 });
    const sub = await submit("fal-ai/flux/schnell", { prompt: "x" });
    expect(sub.queue_position).toBe(5);
    // A second job on the same endpoint counts the first (still queued) one ahead of it.
    const second = await submit("fal-ai/flux/schnell", { prompt: "y" });
    expect(second.queue_position).toBe(1 + 5);
    const positions: number[] = [];
    for (let i = 0; i < 4; i++) {
      positions.push(
        (await json<{ queue_position: number }>(await getStatus(sub.status_url))).queue_position,
      );
      fake.advanceTime(2_500);
    }
    expect(positions[0]).toBe(5);
    for (let i = 1; i < positions.length; i++) expect(positions[i]).toBeLessThan(positions[i - 1]!);
    expect((await json(await getStatus(sub.status_url))).status).toBe("IN_PROGRESS");
  });

  it("refuses missing, wrong and locked keys, unknown apps and malformed JSON", async () => {
    const post = (path: string, headers: Record<string, string>, body = "{}") =>
      call("queue.fal.run", path, { method: "POST", headers, body });
    let res = await post("/fal-ai/flux/dev", { "Content-Type": "application/json" });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ detail: "Unauthorized" });
    expect((await post("/fal-ai/flux/dev", { Authorization: "Bearer test-key" })).status).toBe(401);
    expect((await post("/fal-ai/flux/dev", { Authorization: "Key wrong" })).status).toBe(401);
    res = await post("/fal-ai/nope-app/v1", JSON_AUTH);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: "Application 'nope-app' not found" });
    res = await post("/fal-ai/flux/dev", JSON_AUTH, "{not json");
    expect(res.status).toBe(400);
    expect((await json(res)).error_type).toBe("bad_request");
    expect(fake.jobs.size).toBe(0);

    const locked = await startFakeFal({ lockedKeys: ["locked-key"] });
    try {
      const r = await fetch(`${locked.url}/queue.fal.run/fal-ai/flux/dev`, {
        method: "POST",
        headers: { Authorization: "Key locked-key" },
        body: "{}",
      });
      expect(r.status).toBe(403);
      expect(((await r.json()) as { detail: string }).detail).toMatch(/^User is locked/);
    } finally {
      await locked.close();
    }
  });

  it("validates input: by default the job fails with a 422 result; validateAtSubmit rejects the POST", async () => {
    const sub = await submit("fal-ai/flux/dev", { num_images: 9, image_size: "huge", seed: null });
    fake.advanceTime(1_000);
    const status = await json(await getStatus(sub.status_url));
    expect(status).toMatchObject({ status: "COMPLETED", error: "Field required", error_type: "missing" });
    const res = await getResult(sub.response_url);
    expect(res.status).toBe(422);
    const { detail } = await json<{
      detail: { loc: string[]; type: string; ctx?: unknown; input?: unknown; url: string; msg: string }[];
    }>(res);
    expect(detail.map((d) => [d.loc.join("."), d.type])).toEqual([
      ["body.prompt", "missing"],
      ["body.image_size", "literal_error"],
      ["body.num_images", "less_than_equal"],
    ]);
    expect(detail[2]).toMatchObject({
      ctx: { le: 4 },
      input: 9,
      url: "https://docs.fal.ai/errors/#less_than_equal",
    });

    fake.settings.validateAtSubmit = true;
    const bad = await call("queue.fal.run", "/fal-ai/flux/dev", {
      method: "POST",
      headers: JSON_AUTH,
      body: JSON.stringify({ prompt: 3 }),
    });
    expect(bad.status).toBe(422);
    expect((await json<{ detail: { type: string }[] }>(bad)).detail[0]!.type).toBe("string_type");
    expect(fake.jobsFor("fal-ai/flux/dev")).toHaveLength(1);
  });

  it("fails fake/fails with COMPLETED + error and a 422 detail[] result; flat failures carry X-Fal-Error-Type", async () => {
    const sub = await submit("fake/fails", { prompt: "forbidden" });
    const status = await json(await getStatus(sub.status_url));
    expect(status).toMatchObject({ status: "COMPLETED", error_type: "content_policy_violation" });
    expect(typeof status.error).toBe("string");
    const res = await getResult(sub.response_url);
    expect(res.status).toBe(422);
    expect((await json<{ detail: { type: string; input: unknown }[] }>(res)).detail[0]).toMatchObject({
      type: "content_policy_violation",
      input: "forbidden",
    });

    fake.setBehavior("fake/fails", {
      failure: { kind: "flat", status: 504, detail: "Request timed out", errorType: "request_timeout" },
    });
    const sub2 = await submit("fake/fails", { prompt: "x" });
    const r2 = await getResult(sub2.response_url);
    expect(r2.status).toBe(504);
    expect(r2.headers.get("x-fal-error-type")).toBe("request_timeout");
    expect(await r2.json()).toEqual({ detail: "Request timed out", error_type: "request_timeout" });
  });

  it("cancels: queued → removed, running → stopped (or completes with the switch), done → 400, unknown → 404", async () => {
    fake.setBehavior("fal-ai/flux/dev", { queueMs: 10_000, runMs: 10_000 });
    const put = (url: string) => fetch(local(url), { method: "PUT", headers: AUTH });
    const queued = await submit("fal-ai/flux/dev", { prompt: "x" });
    let res = await put(queued.cancel_url);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: "CANCELLATION_REQUESTED" });
    expect(await json(await getStatus(queued.status_url))).toMatchObject({
      status: "COMPLETED",
      error_type: "client_cancelled",
    });
    expect((await getResult(queued.response_url)).status).toBe(499);
    res = await put(queued.cancel_url);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ status: "ALREADY_COMPLETED" });
    expect(fake.jobs.get(queued.request_id)!.cancelled).toBe(true);

    const running = await submit("fal-ai/flux/dev", { prompt: "x" });
    fake.advanceTime(15_000);
    expect((await put(running.cancel_url)).status).toBe(202);
    expect(await json(await getStatus(running.status_url))).toMatchObject({
      status: "COMPLETED",
      error_type: "client_cancelled",
    });

    fake.settings.runningJobsCompleteOnCancel = true;
    const survivor = await submit("fal-ai/flux/dev", { prompt: "x" });
    fake.advanceTime(15_000);
    expect((await put(survivor.cancel_url)).status).toBe(202);
    expect((await json(await getStatus(survivor.status_url))).status).toBe("IN_PROGRESS");
    fake.advanceTime(10_000);
    const result = await getResult(survivor.response_url);
    expect(result.status).toBe(200);

    res = await call("queue.fal.run", "/fal-ai/flux/requests/00000000-0000-0000-0000-000000000000/cancel", {
      method: "PUT",
      headers: AUTH,
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ status: "NOT_FOUND" });
  });

  it("forgets results after resultRetentionMs", async () => {
    fake.settings.resultRetentionMs = 60_000;
    const sub = await submit("fake/instant", { prompt: "x" });
    expect((await getResult(sub.response_url)).status).toBe(200);
    fake.advanceTime(61_000);
    expect((await getResult(sub.response_url)).status).toBe(404);
  });

  it("simulates a 5-minute video on the fake clock and serves an MP4", async () => {
    const sub = await submit("fake/slow-video", { prompt: "waves", duration: "10" });
    fake.advanceTime(60_000);
    expect((await json(await getStatus(sub.status_url))).status).toBe("IN_PROGRESS");
    fake.advanceTime(4 * 60_000 + 5_000);
    expect((await getStatus(sub.status_url)).status).toBe(200);
    const res = await getResult(sub.response_url);
    expect(res.headers.get("x-fal-billable-units")).toBe("10");
    const { video } = await json<{
      video: { url: string; content_type: string; file_name: string; file_size: number };
    }>(res);
    expect(video).toMatchObject({
      content_type: "video/mp4",
      file_name: "output.mp4",
      file_size: 256 * 1024,
    });
    const file = await fetch(local(video.url));
    expect(file.headers.get("content-length")).toBe(String(256 * 1024));
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(bytes.length).toBe(256 * 1024);
    expect(bytes.subarray(4, 8).toString("ascii")).toBe("ftyp");
  });

  it("produces fal-like outputs for audio, speech-to-text, mesh, echo, text, upscaler and training", async () => {
    const result = async (endpoint: string, input: unknown) => {
      fake.setBehavior(endpoint, { queueMs: 0, runMs: 0 });
      const sub = await submit(endpoint, input);
      const res = await getResult(sub.response_url);
      expect(res.status, endpoint).toBe(200);
      return json(res);
    };
    const download = async (url: unknown) => Buffer.from(await (await fetch(local(str(url)))).arrayBuffer());
    const tts = await result("fal-ai/elevenlabs/tts/multilingual-v2", { text: "hello" });
    expect(dig(tts, "audio", "content_type")).toBe("audio/wav");
    expect((await download(dig(tts, "audio", "url"))).subarray(0, 4).toString()).toBe("RIFF");
    expect(str(dig(await result("fal-ai/stable-audio", { prompt: "rain" }), "audio_file", "url"))).toMatch(
      /\.wav$/,
    );
    const stt = await result("fal-ai/whisper", { audio_url: "https://v3.fal.media/files/a/b/c.mp3" });
    expect(typeof stt.text).toBe("string");
    expect(Array.isArray(stt.chunks)).toBe(true);
    const mesh = await result("fal-ai/trellis", { image_url: "https://v3.fal.media/files/a/b/c.png" });
    expect(mesh.model_mesh).toMatchObject({ content_type: "model/gltf-binary", file_name: "model.glb" });
    expect((await download(dig(mesh, "model_mesh", "url"))).subarray(0, 4).toString()).toBe("glTF");
    const input = { prompt: "echo me", nested: { a: [1, 2] } };
    expect(await result("fake/echo", input)).toEqual(input);
    expect(str((await result("fake/text", { prompt: "hi" })).text)).toContain("hi");
    const up = await result("fal-ai/clarity-upscaler", {
      image_url: "https://v3.fal.media/files/a/b/c.png",
      upscale_factor: 2,
    });
    expect(up.image).toMatchObject({ width: 1024, height: 1024, content_type: "image/png" });
    const lora = await result("fal-ai/flux-lora-fast-training", {
      images_data_url: "https://v3.fal.media/files/a/b/imgs.zip",
    });
    expect(dig(lora, "diffusers_lora_file", "file_name")).toBe("pytorch_lora_weights.safetensors");
    expect(dig(lora, "config_file", "content_type")).toBe("application/json");
  });

  it("makes large preview-size PNGs when imageBytes is set", async () => {
    fake.settings.imageBytes = 2 * 1024 * 1024;
    const sub = await submit("fake/instant", { prompt: "big" });
    const out = await json<{ images: { url: string; width: number }[] }>(await getResult(sub.response_url));
    const bytes = Buffer.from(await (await fetch(local(out.images[0]!.url))).arrayBuffer());
    expect(bytes.length).toBeGreaterThan(1.9 * 1024 * 1024);
    expect(bytes.length).toBeLessThan(2.2 * 1024 * 1024);
    expect(bytes.readUInt32BE(16)).toBe(out.images[0]!.width);
  });

  it("streams status as SSE until COMPLETED", async () => {
    fake.setBehavior("fal-ai/flux/dev", { queueMs: 0, runMs: 600 });
    const sub = await submit("fal-ai/flux/dev", { prompt: "x" });
    const res = await fetch(`${local(sub.status_url)}/stream?logs=1`, { headers: AUTH });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const text = await res.text();
    const events = text
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => (JSON.parse(l.slice(6)) as { status: string }).status);
    expect(events[0]).toBe("IN_PROGRESS");
    expect(events.at(-1)).toBe("COMPLETED");
  });

  it("lists request history by endpoint, with filters and payloads", async () => {
    const ok = await submit("fake/instant", { prompt: "a" });
    await submit("fake/fails", { prompt: "b" });
    const get = (qs: string) =>
      call("api.fal.ai", `/v1/models/requests/by-endpoint?${qs}`, { headers: AUTH });
    expect(
      (await call("api.fal.ai", "/v1/models/requests/by-endpoint?endpoint_id=fake/instant")).status,
    ).toBe(401);
    const all = await json<{ items: { request_id: string; status_code: number; json_input?: unknown }[] }>(
      await get("endpoint_id=fake/instant,fake/fails&expand=payloads"),
    );
    expect(all.items).toHaveLength(2);
    expect(all.items.find((i) => i.request_id === ok.request_id)).toMatchObject({
      status_code: 200,
      json_input: { prompt: "a" },
    });
    const errs = await json<{ items: { status_code: number }[] }>(
      await get("endpoint_id=fake/instant&endpoint_id=fake/fails&status=user_error"),
    );
    expect(errs.items.map((i) => i.status_code)).toEqual([422]);
    const byId = await json<{ items: unknown[] }>(
      await get(`endpoint_id=fake/instant&request_id=${ok.request_id}`),
    );
    expect(byId.items).toHaveLength(1);
  });

  it("runs synchronously on fal.run", async () => {
    const res = await call("fal.run", "/fake/instant", {
      method: "POST",
      headers: JSON_AUTH,
      body: JSON.stringify({ prompt: "now" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-fal-request-id")).toBeTruthy();
    expect((await json<{ images: unknown[] }>(res)).images).toHaveLength(1);
    const invalid = await call("fal.run", "/fal-ai/flux/dev", {
      method: "POST",
      headers: JSON_AUTH,
      body: "{}",
    });
    expect(invalid.status).toBe(422);
  });
});

describe("the official @fal-ai/client against the fake", () => {
  it("subscribe, submit/status/result and cancel use the app root", async () => {
    const fal = client();
    const out = await fal.subscribe("fal-ai/flux/dev", { input: { prompt: "a fox" }, logs: true });
    expect((out.data as { images: unknown[] }).images).toHaveLength(1);
    expect(out.requestId).toMatch(/^[0-9a-f-]{36}$/);

    fake.setBehavior("fal-ai/kling-video/v2.1/master/image-to-video", { queueMs: 60_000 });
    const { request_id } = await fal.queue.submit("fal-ai/kling-video/v2.1/master/image-to-video", {
      input: { prompt: "pan", image_url: "https://v3.fal.media/files/a/b/c.png" },
    });
    const st = await fal.queue.status("fal-ai/kling-video/v2.1/master/image-to-video", {
      requestId: request_id,
      logs: true,
    });
    expect(st.status).toBe("IN_QUEUE");
    await fal.queue.cancel("fal-ai/kling-video/v2.1/master/image-to-video", { requestId: request_id });
    const err = await fal.queue
      .cancel("fal-ai/kling-video/v2.1/master/image-to-video", { requestId: request_id })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError<unknown>).status).toBe(400);
    expect((err as ApiError<unknown>).body).toEqual({ status: "ALREADY_COMPLETED" });

    expect(fake.wrongRootRequests).toEqual([]);
    expect(
      fake.countRequests({
        host: "queue.fal.run",
        method: "PUT",
        path: /^\/fal-ai\/kling-video\/requests\/[^/]+\/cancel$/,
      }),
    ).toBe(2);
    expect(fake.jobsFor("fal-ai/kling-video/v2.1/master/image-to-video")).toHaveLength(1);
    const logged = fake.requests.find((r) => r.host === "queue.fal.run" && r.method === "POST")!;
    expect(logged.headers.authorization).toBe("<redacted>");
    expect(logged).toMatchObject({ hadAuth: true, keyOk: true });
    expect(logged.headers["x-fal-queue-priority"]).toBe("normal");
  });

  it("run, result errors and 401 surface as the client's error classes", async () => {
    const fal = client();
    const run = await fal.run("fake/echo", { input: { prompt: "same" } });
    expect(run.data).toEqual({ prompt: "same" });

    fake.settings.validateAtSubmit = true;
    const v = await fal.queue
      .submit("fal-ai/flux/dev", { input: { prompt: "x", num_images: 0 } })
      .catch((e: unknown) => e);
    expect(v).toBeInstanceOf(ValidationError);
    expect((v as ValidationError).getFieldErrors("num_images")[0]!.type).toBe("greater_than_equal");

    const anon = await client("wrong-key")
      .queue.submit("fal-ai/flux/dev", { input: { prompt: "x" } })
      .catch((e: unknown) => e);
    expect(anon).toBeInstanceOf(ApiError);
    expect((anon as ApiError<unknown>).status).toBe(401);
    expect((anon as ApiError<unknown>).body).toEqual({ detail: "Unauthorized" });
  });

  it("uploads a small file with a single PUT (no auth leak) and serves it back", async () => {
    const fal = client();
    const data = Buffer.from("hello fake fal ".repeat(1000));
    const url = await fal.storage.upload(new File([data], "hello.txt", { type: "text/plain" }));
    expect(url).toMatch(/^https:\/\/v3\.fal\.media\/files\/upload\/[0-9a-f]+\/hello\.txt$/);
    expect(fake.uploads.get(url)).toEqual({
      size: data.length,
      sha256: createHash("sha256").update(data).digest("hex"),
      contentType: "text/plain",
      fileName: "hello.txt",
      multipart: false,
      parts: 1,
    });
    expect(fake.authLeaks).toBe(0);
    const put = fake.requests.find((r) => r.method === "PUT")!;
    expect(put.host).toBe("v3.fal.media");
    expect(put.hadAuth).toBe(false);
    const back = await fetch(local(url));
    expect(back.headers.get("content-type")).toBe("text/plain");
    expect(Buffer.from(await back.arrayBuffer()).equals(data)).toBe(true);
  });

  it("uploads a ~95 MiB blob as a multipart upload of 10 MiB parts", async () => {
    const fal = client();
    const size = 95 * 1024 * 1024;
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4096) data.writeUInt32LE(i, i);
    const blob = new Blob([data], { type: "video/mp4" });
    const part = (n: number) => new RegExp(`^/upload/[0-9a-f]+/${n}$`);

    // A part that always fails: the client tries it 3 times, then gives up.
    const removeAlways = fake.inject({
      host: "*.fal.media",
      method: "PUT",
      path: part(1),
      fault: { kind: "status", status: 500 },
    });
    await expect(fal.storage.upload(blob)).rejects.toThrow(/retries exhausted/);
    expect(fake.countRequests({ host: "v3.fal.media", method: "PUT" })).toBe(3);
    removeAlways();
    fake.reset();

    // A part that fails once is retried and the upload completes.
    fake.inject({
      host: "*.fal.media",
      method: "PUT",
      path: part(3),
      times: 1,
      fault: { kind: "drop-before" },
    });
    const url = await fal.storage.upload(blob);
    const rec = fake.uploads.get(url)!;
    expect(rec).toMatchObject({ size, multipart: true, parts: 10, contentType: "video/mp4" });
    expect(rec.sha256).toBe(createHash("sha256").update(data).digest("hex"));
    expect(fake.countRequests({ host: "v3.fal.media", method: "PUT" })).toBe(11);
    expect(fake.countRequests({ host: "v3.fal.media", method: "POST", path: /\/complete$/ })).toBe(1);
    expect(fake.countRequests({ host: "rest.fal.ai", path: "/storage/upload/initiate-multipart" })).toBe(1);
    const back = await fetch(local(url));
    expect(back.headers.get("content-length")).toBe(String(size));
    const hash = createHash("sha256");
    for await (const chunk of back.body!) hash.update(chunk as Uint8Array);
    expect(hash.digest("hex")).toBe(rec.sha256);
  }, 60_000);
});

describe("storage with plain fetch", () => {
  const initiate = async (multipart = false) => {
    const res = await call(
      "rest.fal.ai",
      `/storage/upload/initiate${multipart ? "-multipart" : ""}?storage_type=fal-cdn-v3`,
      {
        method: "POST",
        headers: JSON_AUTH,
        body: JSON.stringify({ content_type: "application/octet-stream", file_name: "a.bin" }),
      },
    );
    expect(res.status).toBe(200);
    return json<{ upload_url: string; file_url: string }>(res);
  };

  it("needs a key to initiate and validates the body", async () => {
    expect(
      (
        await call("rest.fal.ai", "/storage/upload/initiate?storage_type=fal-cdn-v3", {
          method: "POST",
          body: "{}",
        })
      ).status,
    ).toBe(401);
    const res = await call("rest.fal.ai", "/storage/upload/initiate", {
      method: "POST",
      headers: JSON_AUTH,
      body: JSON.stringify({ file_name: "x" }),
    });
    expect(res.status).toBe(422);
    const { upload_url, file_url } = await initiate();
    expect(upload_url).toMatch(/^https:\/\/v3\.fal\.media\/upload\/[0-9a-f]+\?sig=[0-9a-f]+$/);
    expect(file_url).toMatch(/^https:\/\/v3\.fal\.media\/files\/upload\/[0-9a-f]+\/a\.bin$/);
  });

  it("rejects Authorization and bad signatures on the signed PUT", async () => {
    const { upload_url, file_url } = await initiate();
    let res = await fetch(local(upload_url), { method: "PUT", headers: AUTH, body: "x" });
    expect(res.status).toBe(400);
    expect(fake.authLeaks).toBe(1);
    res = await fetch(local(upload_url.replace(/sig=\w+/, "sig=bad")), { method: "PUT", body: "x" });
    expect(res.status).toBe(403);
    expect(fake.uploads.has(file_url)).toBe(false);
    expect((await fetch(local(file_url))).status).toBe(404);
    res = await fetch(local(upload_url), {
      method: "PUT",
      headers: { "Content-Type": "application/x-test" },
      body: "abc",
    });
    expect(res.status).toBe(200);
    expect(fake.uploads.get(file_url)).toMatchObject({ size: 3, contentType: "application/x-test" });
  });

  it("checks multipart parts on complete", async () => {
    const { upload_url, file_url } = await initiate(true);
    const u = new URL(upload_url);
    const partUrl = (n: number | string) => local(`${u.origin}${u.pathname}/${n}${u.search}`);
    const p1 = await json<{ partNumber: number; etag: string }>(
      await fetch(partUrl(1), { method: "PUT", body: "aaa" }),
    );
    const p2 = await json<{ partNumber: number; etag: string }>(
      await fetch(partUrl(2), { method: "PUT", body: "bbb" }),
    );
    expect(p1).toEqual({ partNumber: 1, etag: createHash("md5").update("aaa").digest("hex") });
    const complete = (parts: unknown) =>
      fetch(partUrl("complete"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ parts }),
      });
    expect((await complete([p2])).status).toBe(400);
    expect((await complete([p1, { ...p2, etag: "nope" }])).status).toBe(400);
    expect((await complete([p1, p2, { partNumber: 3, etag: "x" }])).status).toBe(400);
    expect((await complete([p1, p2])).status).toBe(200);
    expect(await (await fetch(local(file_url))).text()).toBe("aaabbb");
    expect(fake.uploads.get(file_url)).toMatchObject({ size: 6, multipart: true, parts: 2 });
  });

  it("answers parts with their sha256 as etag when partDigest is sha256 (the bench's cheaper receiver)", async () => {
    fake.settings.partDigest = "sha256";
    const { upload_url, file_url } = await initiate(true);
    const u = new URL(upload_url);
    const partUrl = (n: number | string) => local(`${u.origin}${u.pathname}/${n}${u.search}`);
    const p1 = await json<{ partNumber: number; etag: string }>(
      await fetch(partUrl(1), { method: "PUT", body: "aaa" }),
    );
    expect(p1).toEqual({ partNumber: 1, etag: createHash("sha256").update("aaa").digest("hex") });
    const done = await fetch(partUrl("complete"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ parts: [p1] }),
    });
    expect(done.status).toBe(200);
    expect(fake.uploads.get(file_url)).toMatchObject({
      size: 3,
      sha256: createHash("sha256").update("aaa").digest("hex"),
    });
  });
});

describe("faults", () => {
  const submitRaw = () =>
    call("queue.fal.run", "/fake/instant", {
      method: "POST",
      headers: JSON_AUTH,
      body: JSON.stringify({ prompt: "x" }),
    });

  it("status faults apply `times` times, in order, with headers and bodies", async () => {
    fake.inject({
      host: "queue.fal.run",
      method: "POST",
      times: 1,
      fault: {
        kind: "status",
        status: 429,
        headers: { "X-Fal-Needs-Retry": "1" },
        body: { detail: "Too many", error_type: "concurrent_requests_limit" },
      },
    });
    fake.inject({
      host: "queue.fal.run",
      method: "POST",
      times: 1,
      fault: { kind: "status", status: 504, headers: { "X-Fal-Request-Timeout-Type": "user" } },
    });
    let res = await submitRaw();
    expect(res.status).toBe(429);
    expect(res.headers.get("x-fal-needs-retry")).toBe("1");
    expect(await res.json()).toEqual({ detail: "Too many", error_type: "concurrent_requests_limit" });
    res = await submitRaw();
    expect(res.status).toBe(504);
    expect(res.headers.get("x-fal-request-timeout-type")).toBe("user");
    expect((await submitRaw()).status).toBe(200);
    expect(fake.jobsFor("fake/instant")).toHaveLength(1);
  });

  it("html pages, wrong shapes and truncated JSON", async () => {
    const remove = fake.inject({ host: "api.fal.ai", fault: { kind: "html", status: 502 } });
    let res = await call("api.fal.ai", "/v1/models");
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toBe("text/html");
    expect(await res.text()).toContain("<center>nginx</center>");
    remove();
    expect((await call("api.fal.ai", "/v1/models")).status).toBe(200);

    fake.inject({ path: "/fake/instant", times: 1, fault: { kind: "wrong-shape" } });
    expect(await (await submitRaw()).json()).toEqual({ unexpected: true });

    fake.inject({ path: "/fake/instant", times: 1, fault: { kind: "truncated-json" } });
    res = await submitRaw();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    await expect(res.json()).rejects.toThrow(SyntaxError);
    // The handler ran: the job exists even though the answer was unusable.
    expect(fake.jobsFor("fake/instant")).toHaveLength(1);
  });

  it("drop-before loses the request; drop-after creates the job, then drops (duplicate-submit case)", async () => {
    fake.inject({ path: "/fake/instant", times: 1, fault: { kind: "drop-before" } });
    await expect(submitRaw()).rejects.toThrow();
    expect(fake.jobsFor("fake/instant")).toHaveLength(0);
    fake.inject({ path: "/fake/instant", times: 1, fault: { kind: "drop-after" } });
    await expect(submitRaw()).rejects.toThrow();
    expect(fake.jobsFor("fake/instant")).toHaveLength(1);
    expect(fake.countRequests({ host: "queue.fal.run", method: "POST", path: "/fake/instant" })).toBe(2);
  });

  it("delays the first byte, resets mid-body and stalls downloads", async () => {
    fake.inject({ host: "api.fal.ai", times: 1, fault: { kind: "delay", ms: 300 } });
    const t0 = Date.now();
    expect((await call("api.fal.ai", "/v1/models?limit=1")).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);

    const sub = await submit("fake/instant", { prompt: "x" });
    fake.inject({ path: /\/requests\/[^/]+$/, times: 1, fault: { kind: "reset-mid-body" } });
    const broken = await getResult(sub.response_url);
    expect(broken.status).toBe(200);
    await expect(broken.arrayBuffer()).rejects.toThrow();
    const out = await json<{ images: { url: string }[] }>(await getResult(sub.response_url));

    fake.inject({
      host: "*.fal.media",
      path: "/files/*",
      times: 1,
      fault: { kind: "stall-body", afterBytes: 10 },
    });
    const ac = new AbortController();
    const res = await fetch(local(out.images[0]!.url), { signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect((first.value as Uint8Array).length).toBe(10);
    const stalled = await Promise.race([
      reader.read().then(() => "data"),
      new Promise((r) => setTimeout(() => r("stalled"), 300)),
    ]);
    expect(stalled).toBe("stalled");
    ac.abort();
  });

  it("close() ends stalled sockets and removes temp files", async () => {
    const f2 = await startFakeFal();
    const sub = (await (
      await fetch(`${f2.url}/queue.fal.run/fake/instant`, {
        method: "POST",
        headers: JSON_AUTH,
        body: JSON.stringify({ prompt: "x" }),
      })
    ).json()) as { response_url: string };
    const out = (await (
      await fetch(`${f2.url}/queue.fal.run/fake/instant/requests/${sub.response_url.split("/").pop()}`, {
        headers: AUTH,
      })
    ).json()) as {
      images: { url: string }[];
    };
    f2.inject({ host: "v3.fal.media", fault: { kind: "stall-body" } });
    const u = new URL(out.images[0]!.url);
    const res = await fetch(`${f2.url}/${u.host}${u.pathname}`);
    const pending = res.arrayBuffer().then(
      () => "finished",
      () => "failed",
    );
    expect(existsSync(f2.tmpDir)).toBe(true);
    await f2.close();
    expect(await pending).toBe("failed");
    expect(existsSync(f2.tmpDir)).toBe(false);
  });

  it("is driven over HTTP by /__control", async () => {
    const add = await fetch(`${fake.url}/__control/faults`, {
      method: "POST",
      body: JSON.stringify({
        host: "queue.fal.run",
        method: "POST",
        path: "/fake/instant",
        times: 2,
        fault: { kind: "status", status: 503 },
      }),
    });
    expect(add.status).toBe(200);
    expect((await submitRaw()).status).toBe(503);
    await fetch(`${fake.url}/__control/faults`, { method: "DELETE" });
    expect((await submitRaw()).status).toBe(200);

    fake.setBehavior("fake/slow-video", {});
    const sub = await submit("fake/slow-video", { prompt: "x" });
    await fetch(`${fake.url}/__control/advance`, {
      method: "POST",
      body: JSON.stringify({ ms: 10 * 60_000 }),
    });
    expect((await getStatus(sub.status_url)).status).toBe(200);
    const state = await json<{ jobs: Record<string, { total: number; COMPLETED: number }> }>(
      await fetch(`${fake.url}/__control/`),
    );
    expect(state.jobs["fake/slow-video"]).toMatchObject({ total: 1, COMPLETED: 1 });
    expect(state.jobs["fake/instant"]).toMatchObject({ total: 1 });
    // Control traffic is not part of the request log.
    expect(fake.requests.every((r) => r.host !== "__control")).toBe(true);
  });

  it("answers unknown hosts with 404 JSON", async () => {
    const res = await call("example.com", "/x");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/Unknown host/);
  });
});

describe("docs search: POST docs.fal.ai/mcp", () => {
  const rpc = (body: unknown, accept = "application/json, text/event-stream") =>
    call("docs.fal.ai", "/mcp", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: accept },
      body: JSON.stringify(body),
    });
  const dataLine = async (res: Response) => {
    const text = await res.text();
    const line = text.split("\n").find((l) => l.startsWith("data: "))!;
    return JSON.parse(line.slice(6)) as {
      result?: { content?: { type: string; text: string }[]; tools?: { name: string }[] };
      error?: { code: number; message: string };
    };
  };

  it("answers tools/call search_fal as one SSE message with Title/Link/Content items", async () => {
    const res = await rpc({
      jsonrpc: "2.0",
      id: 7,
      method: "tools/call",
      params: { name: "search_fal", arguments: { query: "queue webhooks" } },
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const msg = await dataLine(res);
    const items = msg.result!.content!;
    expect(items.length).toBeGreaterThan(0);
    expect(items[0]!.text).toMatch(/^Title: .+\nLink: https:\/\/fal\.ai\/docs\/.+\nContent: /);
    expect(items.map((i) => i.text).join("\n")).toContain("Title: Webhooks");
  });

  it("reports unknown tools, lists tools, renames the tool and can answer plain JSON", async () => {
    let msg = await dataLine(
      await rpc({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "SearchFal", arguments: { query: "x" } },
      }),
    );
    expect(msg.error!.code).toBe(-32602);
    fake.settings.docsToolName = "search_fal_docs_v2";
    msg = await dataLine(
      await rpc({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "search_fal", arguments: { query: "x" } },
      }),
    );
    expect(msg.error).toBeDefined();
    msg = await dataLine(await rpc({ jsonrpc: "2.0", id: 3, method: "tools/list" }));
    expect(msg.result!.tools!.map((t) => t.name)).toEqual(["search_fal_docs_v2"]);
    fake.settings.docsPlainJson = true;
    const res = await rpc({
      jsonrpc: "2.0",
      id: 4,
      method: "tools/call",
      params: { name: "search_fal_docs_v2", arguments: { query: "pricing" } },
    });
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(
      ((await res.json()) as { id: number; result: { content: unknown[] } }).result.content.length,
    ).toBeGreaterThan(0);
  });
});
