import { describe, expect, it } from "vitest";
import { z } from "zod";
import { FalApiError, FalNetworkError, FalResponseError, FalValidationError } from "../../src/errors.js";
import { FalHttpClient, apiErrorFrom, buildUrl, parseRetryAfter } from "../../src/fal/http.js";
import { sendOverFetch } from "../../src/fal/transport.js";
import { Secret } from "../../src/secret.js";

type Step = Response | Error | (() => Promise<Response>);

/** A fetch that answers from a script and records every call. */
function scriptedFetch(steps: Step[]) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: input instanceof Request ? input.url : input.toString(), init });
    const step = steps.shift();
    if (!step) throw new Error("script exhausted");
    if (step instanceof Error) throw step;
    if (typeof step === "function") return step();
    return step;
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const noSleep = { sleep: async () => {}, random: () => 0.5 };
const schema = z.object({ ok: z.boolean() });

describe("FalHttpClient", () => {
  it("retries idempotent reads on 429/5xx and network errors, then succeeds", async () => {
    const { fetch, calls } = scriptedFetch([
      json(503, { detail: "busy" }),
      new TypeError("fetch failed"),
      json(429, { detail: "slow down" }, { "x-fal-needs-retry": "1" }),
      json(200, { ok: true }),
    ]);
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5_000, ...noSleep });
    const response = await client.request({
      method: "GET",
      url: "https://api.fal.ai/v1/models",
      what: "the catalog",
      idempotent: true,
      schema,
    });
    expect(response.data).toEqual({ ok: true });
    expect(calls).toHaveLength(4);
  });

  it("never repeats a non-idempotent call", async () => {
    const { fetch, calls } = scriptedFetch([json(503, { detail: "busy" }), json(200, { ok: true })]);
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5_000, ...noSleep });
    await expect(
      client.request({
        method: "POST",
        url: "https://queue.fal.run/a/b",
        what: "submit",
        idempotent: false,
        schema,
        body: {},
      }),
    ).rejects.toBeInstanceOf(FalApiError);
    expect(calls).toHaveLength(1);
  });

  it("does not retry a 504 whose timeout type is user, nor a 4xx", async () => {
    const { fetch, calls } = scriptedFetch([
      json(504, { detail: "late" }, { "x-fal-request-timeout-type": "user" }),
    ]);
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5_000, ...noSleep });
    await expect(
      client.request({ method: "GET", url: "https://x.fal.ai/a", what: "x", idempotent: true, schema }),
    ).rejects.toThrow(/start deadline/);
    expect(calls).toHaveLength(1);
    const second = scriptedFetch([json(404, { error: { type: "not_found", message: "no such model" } })]);
    const client2 = new FalHttpClient({ send: sendOverFetch(second.fetch), timeoutMs: 5_000, ...noSleep });
    await expect(
      client2.request({ method: "GET", url: "https://x.fal.ai/a", what: "x", idempotent: true, schema }),
    ).rejects.toThrow(/no such model/);
    expect(second.calls).toHaveLength(1);
  });

  it("gives up after the retry limit with the last error, typed", async () => {
    const { fetch, calls } = scriptedFetch([
      json(500, {}),
      json(500, {}),
      json(500, {}),
      json(500, {}),
      json(200, { ok: true }),
    ]);
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5_000, ...noSleep });
    const error = await client
      .request({ method: "GET", url: "https://x.fal.ai/a", what: "pricing", idempotent: true, schema })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FalApiError);
    expect((error as FalApiError).status).toBe(500);
    expect((error as FalApiError).message).toMatch(/server error.*pricing/);
    expect(calls).toHaveLength(4);
  });

  it("honours Retry-After", async () => {
    const delays: number[] = [];
    const { fetch } = scriptedFetch([json(429, {}, { "retry-after": "2" }), json(200, { ok: true })]);
    const client = new FalHttpClient({
      send: sendOverFetch(fetch),
      timeoutMs: 10_000,
      random: () => 0,
      sleep: async (ms) => void delays.push(ms),
    });
    await client.request({ method: "GET", url: "https://x.fal.ai/a", what: "x", idempotent: true, schema });
    expect(delays).toEqual([2000]);
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it("times out a request that never answers, within its budget", async () => {
    const fetch = ((_input: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason as Error));
      })) as typeof globalThis.fetch;
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 300, ...noSleep });
    const started = Date.now();
    const error = await client
      .request({ method: "GET", url: "https://x.fal.ai/a", what: "the catalog", idempotent: true, schema })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FalNetworkError);
    expect((error as FalNetworkError).kind).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("stops at once when the caller aborts, without retrying", async () => {
    const controller = new AbortController();
    const { fetch, calls } = scriptedFetch([
      () => {
        controller.abort(new Error("client went away"));
        return Promise.reject(new DOMException("aborted", "AbortError"));
      },
      json(200, { ok: true }),
    ]);
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5_000, ...noSleep });
    await expect(
      client.request({
        method: "GET",
        url: "https://x.fal.ai/a",
        what: "x",
        idempotent: true,
        schema,
        signal: controller.signal,
      }),
    ).rejects.toThrow("client went away");
    expect(calls).toHaveLength(1);
  });

  it("reports truncated JSON and wrong shapes as FalResponseError after retries", async () => {
    const truncated = () => new Response('{"ok": tr', { status: 200 });
    const { fetch } = scriptedFetch([truncated(), truncated(), truncated(), truncated()]);
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5_000, ...noSleep });
    await expect(
      client.request({ method: "GET", url: "https://x.fal.ai/a", what: "x", idempotent: true, schema }),
    ).rejects.toThrow(/not valid JSON/);
    const wrong = scriptedFetch([json(200, { unexpected: 1 })]);
    const client2 = new FalHttpClient({
      send: sendOverFetch(wrong.fetch),
      timeoutMs: 5_000,
      ...noSleep,
      maxRetries: 0,
    });
    const error = await client2
      .request({ method: "GET", url: "https://x.fal.ai/a", what: "x", idempotent: true, schema })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FalResponseError);
    expect((error as Error).message).toMatch(/unexpected shape.*ok/);
  });

  it("sends the key as `Key …` and JSON bodies", async () => {
    const { fetch, calls } = scriptedFetch([json(200, { ok: true })]);
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5_000, ...noSleep });
    await client.request({
      method: "POST",
      url: "https://api.fal.ai/v1/x",
      query: { endpoint_id: ["a", "b"], limit: 3, skip: undefined },
      what: "x",
      idempotent: false,
      schema,
      key: new Secret("my-key-123"),
      body: { a: 1 },
    });
    const headers = calls[0]?.init?.headers as Record<string, string>;
    expect(headers.authorization).toBe("Key my-key-123");
    expect(headers["content-type"]).toBe("application/json");
    expect(calls[0]?.url).toBe("https://api.fal.ai/v1/x?endpoint_id=a&endpoint_id=b&limit=3");
    expect(calls[0]?.init?.body).toBe('{"a":1}');
  });

  it("reads server-sent events when asked", async () => {
    const sse = new Response('event: message\ndata: {"ok":true}\n\n', {
      status: 200,
      headers: { "content-type": "text/event-stream" },
    });
    const { fetch } = scriptedFetch([sse]);
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5_000, ...noSleep });
    const response = await client.request({
      method: "POST",
      url: "https://docs.fal.ai/mcp",
      what: "docs",
      idempotent: true,
      schema,
      responseFormat: "sse-or-json",
    });
    expect(response.data.ok).toBe(true);
  });
});

describe("apiErrorFrom", () => {
  const headers = (h: Record<string, string> = {}) => new Headers(h);

  it("turns a 422 detail array into field errors", () => {
    const error = apiErrorFrom(
      422,
      headers({ "x-fal-request-id": "req-1" }),
      JSON.stringify({
        detail: [
          {
            loc: ["body", "num_images"],
            msg: "Input should be greater than 0",
            type: "greater_than",
            ctx: { gt: 0 },
          },
        ],
      }),
      "the submit",
    );
    expect(error).toBeInstanceOf(FalValidationError);
    expect((error as FalValidationError).fieldErrors[0]?.loc).toEqual(["body", "num_images"]);
    expect(error.requestId).toBe("req-1");
  });

  it("reads the flat form, the Platform envelope, HTML pages and the locked account", () => {
    const flat = apiErrorFrom(
      503,
      headers({ "x-fal-error-type": "runner_scheduling_failure" }),
      JSON.stringify({ detail: "No runner", error_type: "runner_scheduling_failure" }),
      "x",
    );
    expect(flat.errorType).toBe("runner_scheduling_failure");
    expect(flat.message).toContain("No runner");
    const envelope = apiErrorFrom(
      401,
      headers(),
      JSON.stringify({ error: { type: "authorization_error", message: "Authentication required" } }),
      "pricing",
    );
    expect(envelope.message).toMatch(/refused the API key/);
    expect(envelope.nextStep).toMatch(/FAL_KEY/);
    const html = apiErrorFrom(502, headers(), "<html><body><h1>502 Bad Gateway</h1></body></html>", "x");
    expect(html.message).toBe("fal had a server error (HTTP 502) for x.");
    const locked = apiErrorFrom(
      403,
      headers(),
      JSON.stringify({ detail: "User is locked. Reason: Exhausted balance." }),
      "x",
    );
    expect(locked.nextStep).toMatch(/billing/);
  });
});

describe("FalHttpClient text and size limits", () => {
  it("reads plain text when asked, through the same policy", async () => {
    const { fetch, calls } = scriptedFetch([
      new Response("busy", { status: 503 }),
      new Response("- [Queue](https://fal.ai/docs/q): jobs\n", { status: 200 }),
    ]);
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5_000, ...noSleep });
    const response = await client.request({
      method: "GET",
      url: "https://fal.ai/docs/llms.txt",
      what: "docs index",
      idempotent: true,
      schema: z.string(),
      responseFormat: "text",
    });
    expect(response.data).toContain("[Queue]");
    expect(calls).toHaveLength(2);
    expect((calls[1]?.init?.headers as Record<string, string>).accept).toMatch(/^text\/plain/);
  });

  it("refuses an answer larger than any fal API answer instead of holding it", async () => {
    const huge = new Response("{}", { status: 200, headers: { "content-length": String(64 * 1024 * 1024) } });
    const { fetch } = scriptedFetch([huge]);
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5_000, ...noSleep });
    await expect(
      client.request({
        method: "GET",
        url: "https://api.fal.ai/v1/models",
        what: "the catalog",
        idempotent: true,
        schema,
      }),
    ).rejects.toThrow(/unexpectedly large/);
  });

  it("states sub-10-second budgets to the tenth", async () => {
    const fetch = ((_input: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason as Error)),
      )) as typeof globalThis.fetch;
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 1_500, ...noSleep });
    await expect(
      client.request({ method: "GET", url: "https://x.fal.ai/a", what: "x", idempotent: true, schema }),
    ).rejects.toThrow("within 1.5 s");
  });
});

describe("buildUrl", () => {
  it("writes a query exactly as URLSearchParams does, appended to one the URL has", () => {
    const values = ["plain", "a b", "x&y=z", "ünï💥", "!'()~*-._", "%41", "+", ""];
    for (const value of values) {
      const expected = new URL("https://api.fal.ai/v1/models");
      expected.searchParams.set("q", value);
      expected.searchParams.append("endpoint_id", "fal-ai/flux");
      expected.searchParams.append("endpoint_id", value);
      expect(
        buildUrl("https://api.fal.ai/v1/models", { q: value, endpoint_id: ["fal-ai/flux", value] }),
      ).toBe(expected.href);
    }
    expect(buildUrl("https://x.fal.ai/a?b=1", { c: 2, d: undefined, e: true })).toBe(
      "https://x.fal.ai/a?b=1&c=2&e=true",
    );
    expect(buildUrl("https://x.fal.ai/a#frag", { c: 2 })).toBe("https://x.fal.ai/a?c=2");
    expect(buildUrl("https://x.fal.ai/a", { d: undefined })).toBe("https://x.fal.ai/a");
    expect(buildUrl("https://x.fal.ai/a", undefined)).toBe("https://x.fal.ai/a");
  });
});
