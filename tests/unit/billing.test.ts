import { afterEach, describe, expect, it, vi } from "vitest";
import {
  PermissionError,
  REFUSAL_MEMORY_MS,
  creditBalance,
  estimateCost,
  findBillingEvent,
  requestHistory,
} from "../../src/fal/billing.js";
import { FalHttpClient } from "../../src/fal/http.js";
import { sendOverFetch } from "../../src/fal/transport.js";
import { Secret } from "../../src/secret.js";

function scripted(answers: Response[]) {
  const calls: { url: URL; method: string; body: unknown; auth: string | null }[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    calls.push({
      url: new URL(input instanceof Request ? input.url : input.toString()),
      method: init?.method ?? "GET",
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
      auth: headers.get("authorization"),
    });
    const next = answers.shift();
    if (!next) throw new Error("script exhausted");
    return next;
  }) as typeof globalThis.fetch;
  const http = new FalHttpClient({
    send: sendOverFetch(fetch),
    timeoutMs: 5000,
    sleep: async () => {},
    random: () => 0,
  });
  return { options: { http, key: new Secret("key-id:key-secret") }, calls };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const forbidden = () => json(403, { error: { type: "authorization_error", message: "Forbidden" } });

describe("estimateCost", () => {
  it("sends fal's unit_price body and reads total_cost", async () => {
    const { options, calls } = scripted([
      json(200, { estimate_type: "unit_price", total_cost: 0.1, currency: "USD" }),
    ]);
    expect(
      await estimateCost(options, { kind: "unit_price", endpointId: "fal-ai/flux/dev", unitQuantity: 4 }),
    ).toEqual({
      totalCost: 0.1,
      currency: "USD",
    });
    expect(calls[0]?.method).toBe("POST");
    expect(calls[0]?.url.pathname).toBe("/v1/models/pricing/estimate");
    expect(calls[0]?.body).toEqual({
      estimate_type: "unit_price",
      endpoints: { "fal-ai/flux/dev": { unit_quantity: 4 } },
    });
    expect(calls[0]?.auth).toBe("Key key-id:key-secret");
  });

  it("sends the historical body and refuses an answer without a total", async () => {
    const { options, calls } = scripted([json(200, { currency: "USD" })]);
    await expect(
      estimateCost(options, { kind: "historical_api_price", endpointId: "a/b", callQuantity: 1 }),
    ).rejects.toThrow(/no usable total_cost/);
    expect(calls[0]?.body).toEqual({
      estimate_type: "historical_api_price",
      endpoints: { "a/b": { call_quantity: 1 } },
    });
  });
});

describe("findBillingEvent", () => {
  const window = { endpointId: "a/b", requestId: "req-2", start: new Date(0), end: new Date(1000) };

  it("finds the request's cost_total across pages", async () => {
    const { options, calls } = scripted([
      json(200, {
        billing_events: [{ request_id: "req-1", cost_total: 9 }],
        next_cursor: "c2",
        has_more: true,
      }),
      json(200, {
        billing_events: [{ request_id: "req-2", cost_total: "0.05", unit_quantity: 2 }],
        has_more: false,
      }),
    ]);
    expect(await findBillingEvent(options, window)).toMatchObject({
      requestId: "req-2",
      costTotal: 0.05,
      units: 2,
    });
    expect(calls[1]?.url.searchParams.get("cursor")).toBe("c2");
    expect(calls[0]?.url.searchParams.get("endpoint_id")).toBe("a/b");
  });

  it("falls back to cost_estimate_nano_usd, and is undefined when there is no record yet", async () => {
    const nano = scripted([
      json(200, { events: [{ request_id: "req-2", cost_estimate_nano_usd: 25_000_000 }] }),
    ]);
    expect((await findBillingEvent(nano.options, window))?.costTotal).toBe(0.025);
    const none = scripted([json(200, { billing_events: [] })]);
    expect(await findBillingEvent(none.options, window)).toBeUndefined();
  });

  it("turns a 403 into the missing permission, without retrying", async () => {
    const { options, calls } = scripted([forbidden()]);
    const error = await findBillingEvent(options, window).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PermissionError);
    expect((error as PermissionError).permission).toBe("billing:usage:read");
    expect((error as PermissionError).nextStep).toContain("Billing, Read-only or Full");
    expect(calls).toHaveLength(1);
  });
});

describe("creditBalance", () => {
  it("reads credits.current_balance with expand=credits", async () => {
    const { options, calls } = scripted([
      json(200, { username: "u", credits: { current_balance: 42.5, currency: "USD" } }),
    ]);
    expect(await creditBalance(options)).toEqual({ balance: 42.5, currency: "USD" });
    expect(calls[0]?.url.pathname).toBe("/v1/account/billing");
    expect(calls[0]?.url.searchParams.get("expand")).toBe("credits");
  });

  it("names billing:usage:read on a 403", async () => {
    const { options } = scripted([forbidden()]);
    await expect(creditBalance(options)).rejects.toThrow(/billing:usage:read/);
  });
});

describe("requestHistory", () => {
  it("lists the endpoint's requests in the window with their inputs", async () => {
    const { options, calls } = scripted([
      json(200, {
        items: [
          {
            request_id: "r1",
            endpoint_id: "a/b",
            sent_at: "2026-12-01T10:00:00Z",
            json_input: { prompt: "x" },
          },
          { nonsense: true },
        ],
      }),
    ]);
    const items = await requestHistory(options, {
      endpointId: "a/b",
      start: new Date(0),
      end: new Date(1000),
    });
    expect(items).toEqual([
      {
        requestId: "r1",
        endpointId: "a/b",
        receivedAt: "2026-12-01T10:00:00Z",
        statusCode: undefined,
        input: { prompt: "x" },
      },
    ]);
    expect(calls[0]?.url.searchParams.get("expand")).toBe("payloads");
    expect(calls[0]?.url.searchParams.get("start")).toBe("1970-01-01T00:00:00.000Z");
  });

  it("names models:requests:read on a 403", async () => {
    const { options } = scripted([forbidden()]);
    await expect(
      requestHistory(options, { endpointId: "a/b", start: new Date(0), end: new Date(1) }),
    ).rejects.toThrow(/models:requests:read/);
  });
});

describe("a refused permission is remembered for the key", () => {
  afterEach(() => vi.useRealTimers());
  const history = { endpointId: "a/b", start: new Date(0), end: new Date(1) };
  const locked = () =>
    json(403, {
      error: { type: "authorization_error", message: "User is locked. Reason: Exhausted balance." },
    });

  it("asks fal once; the next billing reads of that key fail the same way without a request", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const { options, calls } = scripted([forbidden(), json(200, { billing_events: [] })]);
    const window = { endpointId: "a/b", requestId: "r", start: new Date(0), end: new Date(1) };
    await expect(findBillingEvent(options, window)).rejects.toBeInstanceOf(PermissionError);
    const again = await findBillingEvent(options, window).catch((caught: unknown) => caught);
    expect(again).toBeInstanceOf(PermissionError);
    expect((again as PermissionError).message).toMatch(/what each job cost.*billing:usage:read/);
    // The credit balance needs the same permission: refused too, and named for what it is.
    await expect(creditBalance(options)).rejects.toThrow(/the credit balance.*billing:usage:read/);
    expect(calls).toHaveLength(1);
    // After the memory runs out, fal is asked again.
    vi.setSystemTime(Date.now() + REFUSAL_MEMORY_MS + 1);
    expect(await findBillingEvent(options, window)).toBeUndefined();
    expect(calls).toHaveLength(2);
  });

  it("keeps other permissions, other keys and a locked account out of it", async () => {
    const refused = scripted([forbidden(), json(200, { items: [] })]);
    await expect(creditBalance(refused.options)).rejects.toBeInstanceOf(PermissionError);
    // Another permission is still asked for.
    expect(await requestHistory(refused.options, history)).toEqual([]);
    expect(refused.calls).toHaveLength(2);
    // Another key (another client) is asked, and gets its own answer.
    const other = scripted([json(200, { username: "u", credits: { current_balance: 3, currency: "USD" } })]);
    expect(await creditBalance(other.options)).toEqual({ balance: 3, currency: "USD" });
    // A locked account's 403 ends once it is topped up: every read asks again.
    const lockedOut = scripted([locked(), json(200, { username: "u", credits: { current_balance: 9 } })]);
    await expect(creditBalance(lockedOut.options)).rejects.toBeInstanceOf(PermissionError);
    expect(await creditBalance(lockedOut.options)).toEqual({ balance: 9, currency: "USD" });
    expect(lockedOut.calls).toHaveLength(2);
  });
});
