// Tests of the fake of fal's account and job-flow additions (issues 12 and 13): pricing estimates,
// billing events, credits, key permissions, request history for unconfirmed submits, generation
// headers, result/cancel by the URLs a submit returned, and prepared (signed) uploads.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PRESET_KEYS, startFakeFal, type FakeFal, type FakeFalSettings } from "./fake-fal/server.js";

const KEY = "test-key";
const AUTH = { Authorization: `Key ${KEY}` };
const JSON_AUTH = { ...AUTH, "Content-Type": "application/json" };
const API_KEY = { Authorization: `Key ${PRESET_KEYS.api}` };

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

const call = (host: string, path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${fake.url}/${host}${path}`, init);
const json = async <T = Record<string, unknown>>(res: Response): Promise<T> => (await res.json()) as T;
const local = (falUrl: string): string => {
  const u = new URL(falUrl);
  return `${fake.url}/${u.host}${u.pathname}${u.search}`;
};
const api = (path: string, headers: Record<string, string> = AUTH) => call("api.fal.ai", path, { headers });

interface Submitted {
  request_id: string;
  status_url: string;
  response_url: string;
  cancel_url: string;
}
const submitRaw = (endpoint: string, input: unknown, headers: Record<string, string> = {}) =>
  call("queue.fal.run", `/${endpoint}`, {
    method: "POST",
    headers: { ...JSON_AUTH, ...headers },
    body: JSON.stringify(input),
  });
async function submit(
  endpoint: string,
  input: unknown,
  headers: Record<string, string> = {},
): Promise<Submitted> {
  const res = await submitRaw(endpoint, input, headers);
  expect(res.status).toBe(200);
  return json<Submitted>(res);
}

interface BillingEvent {
  request_id: string;
  endpoint_id: string;
  quantity: number;
  unit_price: number;
  cost_subtotal: number;
  cost_discount: number;
  cost_total: number;
  cost_estimate_nano_usd: number;
}
const events = async (qs = "") =>
  json<{ billing_events: BillingEvent[]; next_cursor: string | null; has_more: boolean; as_of: string }>(
    await api(`/v1/models/billing-events${qs}`),
  );

describe("pricing estimate", () => {
  it("agrees with the unit prices for both estimate types", async () => {
    const { prices } = await json<{ prices: { endpoint_id: string; unit_price: number }[] }>(
      await api("/v1/models/pricing?endpoint_id=fake/instant,fal-ai/veo3"),
    );
    const price = Object.fromEntries(prices.map((p) => [p.endpoint_id, p.unit_price]));
    const estimate = (body: unknown) =>
      call("api.fal.ai", "/v1/models/pricing/estimate", {
        method: "POST",
        headers: JSON_AUTH,
        body: JSON.stringify(body),
      });
    const unit = await json<{ total_cost: number }>(
      await estimate({
        estimate_type: "unit_price",
        endpoints: { "fake/instant": { unit_quantity: 3 }, "fal-ai/veo3": { unit_quantity: 8 } },
      }),
    );
    expect(unit.total_cost).toBeCloseTo(3 * price["fake/instant"]! + 8 * price["fal-ai/veo3"]!, 9);
    const hist = await json<{ estimate_type: string; total_cost: number; currency: string }>(
      await estimate({
        estimate_type: "historical_api_price",
        endpoints: { "fake/instant": { call_quantity: 5 } },
      }),
    );
    expect(hist).toEqual({ estimate_type: "historical_api_price", total_cost: 0.05, currency: "USD" });
    const bad = await estimate({
      estimate_type: "unit_price",
      endpoints: { "fake/instant": { unit_quantity: 0 } },
    });
    expect(bad.status).toBe(400);
    fake.inject({
      host: "api.fal.ai",
      path: "/v1/models/pricing/estimate",
      times: 1,
      fault: { kind: "html", status: 502 },
    });
    expect(
      (await estimate({ estimate_type: "unit_price", endpoints: { "fake/instant": { unit_quantity: 1 } } }))
        .status,
    ).toBe(502);
  });
});

describe("billing events", () => {
  it("bills each completed job units × unit price, with filters, paging and the lag switch", async () => {
    const two = await submit("fake/instant", { prompt: "a", num_images: 2 });
    const res = await fetch(local(two.response_url), { headers: AUTH });
    expect(res.headers.get("x-fal-billable-units")).toBe("2");
    const one = await submit("fake/instant", { prompt: "b" });
    await submit("fake/fails", { prompt: "x" }); // failures are not billed
    const all = await events();
    expect(all.billing_events.map((e) => e.request_id).sort()).toEqual(
      [two.request_id, one.request_id].sort(),
    );
    const e2 = all.billing_events.find((e) => e.request_id === two.request_id)!;
    expect(e2).toMatchObject({
      endpoint_id: "fake/instant",
      quantity: 2,
      unit_price: 0.01,
      cost_subtotal: 0.02,
      cost_discount: 0,
      cost_total: 0.02,
      cost_estimate_nano_usd: 20_000_000,
      currency: "USD",
    });
    expect(Date.parse(all.as_of)).toBeGreaterThan(0);
    expect((await events(`?request_id=${one.request_id}`)).billing_events).toHaveLength(1);
    expect((await events("?endpoint_id=fal-ai/veo3")).billing_events).toHaveLength(0);
    const future = new Date(fake.now() + 3_600_000).toISOString();
    expect((await events(`?start=${future}&end=${future}`)).billing_events).toHaveLength(0);
    const p1 = await events("?limit=1");
    expect(p1).toMatchObject({ has_more: true });
    const p2 = await events(`?limit=1&cursor=${p1.next_cursor}`);
    expect(p2.billing_events[0]!.request_id).not.toBe(p1.billing_events[0]!.request_id);
    expect((await api("/v1/models/billing-events?start=2020-01-01T00:00:00Z")).status).toBe(400);

    fake.settings.billingEventLagMs = 120_000;
    const late = await submit("fake/instant", { prompt: "c" });
    expect((await events(`?request_id=${late.request_id}`)).billing_events).toHaveLength(0);
    fake.advanceTime(121_000);
    expect((await events(`?request_id=${late.request_id}`)).billing_events).toHaveLength(1);
  });

  it("looks a request id up with the other filters still applied", async () => {
    const done = await submit("fake/instant", { prompt: "a" });
    const failed = await submit("fake/fails", { prompt: "x" });
    const byId = (query: string) => events(`?request_id=${done.request_id}${query}`);
    expect((await byId("")).billing_events.map((e) => e.request_id)).toEqual([done.request_id]);
    expect((await byId("&endpoint_id=fake/instant")).billing_events).toHaveLength(1);
    expect((await byId("&endpoint_id=fal-ai/veo3")).billing_events).toHaveLength(0);
    const future = new Date(fake.now() + 3_600_000).toISOString();
    expect((await byId(`&start=${future}&end=${future}`)).billing_events).toHaveLength(0);
    expect((await events(`?request_id=${failed.request_id}`)).billing_events).toHaveLength(0);
    expect((await events("?request_id=no-such-request")).billing_events).toHaveLength(0);
  });

  it("answers 403 in the Platform envelope for a key without billing:usage:read, and faults apply", async () => {
    const res = await api("/v1/models/billing-events", API_KEY);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      error: {
        type: "authorization_error",
        message: "This API key does not have the required permission: billing:usage:read",
        docs_url: "https://fal.ai/docs/platform-apis",
      },
    });
    expect((await api("/v1/models/billing-events", {})).status).toBe(401);
    fake.inject({
      host: "api.fal.ai",
      path: "/v1/models/billing-events",
      times: 1,
      fault: { kind: "status", status: 429 },
    });
    expect((await api("/v1/models/billing-events")).status).toBe(429);
    expect((await api("/v1/models/billing-events")).status).toBe(200);
  });
});

describe("credit balance and key permissions", () => {
  it("reports the balance minus billed jobs, only with expand=credits", async () => {
    expect(await json(await api("/v1/account/billing"))).toEqual({ username: "fake-user" });
    const before = await json<{ credits: { current_balance: number; currency: string } }>(
      await api("/v1/account/billing?expand=credits"),
    );
    expect(before.credits).toEqual({ current_balance: 42.5, currency: "USD" });
    const sub = await submit("fake/instant", { prompt: "x", num_images: 3 });
    await fetch(local(sub.response_url), { headers: AUTH });
    const after = await json<{ credits: { current_balance: number } }>(
      await api("/v1/account/billing?expand=credits"),
    );
    expect(after.credits.current_balance).toBeCloseTo(42.5 - 0.03, 9);
  });

  it("restricts keys by preset key, option and control API; reset restores", async () => {
    for (const path of [
      "/v1/account/billing?expand=credits",
      "/v1/models/requests/by-endpoint?endpoint_id=fake/instant",
    ])
      expect((await api(path, API_KEY)).status, path).toBe(403);
    // The API preset still runs models; the read-only preset reads Platform data but may not run them.
    expect((await submitRaw("fake/instant", { prompt: "x" }, API_KEY)).status).toBe(200);
    const ro = { Authorization: `Key ${PRESET_KEYS["read-only"]}` };
    expect((await api("/v1/account/billing?expand=credits", ro)).status).toBe(200);
    const refused = await submitRaw("fake/instant", { prompt: "x" }, ro);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      detail: "This API key does not have the required permission: model:execute",
    });

    const set = await fetch(`${fake.url}/__control/permissions`, {
      method: "POST",
      body: JSON.stringify({ key: KEY, permissions: "api" }),
    });
    expect(await set.json()).toEqual({ key: KEY, permissions: ["model:execute"] });
    expect((await api("/v1/account/billing?expand=credits")).status).toBe(403);
    fake.setPermissions(KEY, ["model:execute", "models:requests:read"]);
    expect((await api("/v1/account/billing?expand=credits")).status).toBe(403);
    expect((await api("/v1/models/requests/by-endpoint?endpoint_id=fake/instant")).status).toBe(200);
    fake.reset();
    expect((await api("/v1/account/billing?expand=credits")).status).toBe(200);

    const f2 = await startFakeFal({ keyPermissions: { [KEY]: "billing" } });
    try {
      expect(
        (await fetch(`${f2.url}/api.fal.ai/v1/account/billing?expand=credits`, { headers: AUTH })).status,
      ).toBe(200);
      const post = await fetch(`${f2.url}/queue.fal.run/fake/instant`, {
        method: "POST",
        headers: JSON_AUTH,
        body: "{}",
      });
      expect(post.status).toBe(403);
      f2.reset();
      expect(
        (
          await fetch(`${f2.url}/queue.fal.run/fake/instant`, {
            method: "POST",
            headers: JSON_AUTH,
            body: "{}",
          })
        ).status,
      ).toBe(403);
    } finally {
      await f2.close();
    }
  });
});

describe("request history resolves unconfirmed submits", () => {
  const history = async (qs: string) =>
    json<{ items: { request_id: string; sent_at: string; json_input?: unknown; json_output?: unknown }[] }>(
      await api(`/v1/models/requests/by-endpoint?${qs}`),
    );

  it("lists submits whose answer was dropped, reset or replaced by a gateway error", async () => {
    fake.inject({ host: "queue.fal.run", method: "POST", times: 1, fault: { kind: "drop-after" } });
    await expect(submitRaw("fake/instant", { prompt: "dropped" })).rejects.toThrow();
    fake.inject({ host: "queue.fal.run", method: "POST", times: 1, fault: { kind: "reset-mid-body" } });
    await expect(submitRaw("fake/instant", { prompt: "reset" }).then((r) => r.text())).rejects.toThrow();
    fake.inject({
      host: "queue.fal.run",
      method: "POST",
      times: 1,
      fault: { kind: "status", status: 503, afterHandler: true, headers: { "X-Fal-Needs-Retry": "0" } },
    });
    const gw = await submitRaw("fake/instant", { prompt: "gateway" });
    expect(gw.status).toBe(503);
    expect(gw.headers.get("x-fal-needs-retry")).toBe("0");
    expect(gw.headers.get("x-fal-request-id")).toBeNull();
    fake.inject({ host: "queue.fal.run", method: "POST", times: 1, fault: { kind: "drop-before" } });
    await expect(submitRaw("fake/instant", { prompt: "never arrived" })).rejects.toThrow();

    const jobs = fake.jobsFor("fake/instant");
    expect(jobs).toHaveLength(3);
    const start = new Date(fake.now() - 60_000).toISOString();
    const items = (await history(`endpoint_id=fake/instant&start=${start}&expand=payloads`)).items;
    expect(items.map((i) => i.request_id).sort()).toEqual(jobs.map((j) => j.requestId).sort());
    expect(items.map((i) => (i.json_input as { prompt: string }).prompt).sort()).toEqual([
      "dropped",
      "gateway",
      "reset",
    ]);
  });

  it("honours the time window (24 h default, 90 days with request_id), the lag switch and Store-IO 0", async () => {
    const old = await submit("fake/instant", { prompt: "old" });
    fake.advanceTime(25 * 3_600_000);
    expect((await history("endpoint_id=fake/instant")).items).toHaveLength(0);
    expect((await history(`endpoint_id=fake/instant&request_id=${old.request_id}`)).items).toHaveLength(1);
    expect(
      (await api("/v1/models/requests/by-endpoint?endpoint_id=fake/instant&start=nonsense")).status,
    ).toBe(400);

    fake.settings.historyLagMs = 5_000;
    const fresh = await submit("fake/instant", { prompt: "fresh" }, { "X-Fal-Store-IO": "0" });
    expect((await history("endpoint_id=fake/instant")).items).toHaveLength(0);
    fake.advanceTime(5_000);
    const [item] = (await history("endpoint_id=fake/instant&expand=payloads")).items;
    expect(item).toMatchObject({ request_id: fresh.request_id, json_input: null, json_output: null });
  });
});

describe("generation headers", () => {
  it("records X-Fal-Object-Lifecycle-Preference and X-Fal-Store-IO and honours them", async () => {
    const lifecycle = JSON.stringify({ expiration_duration_seconds: 60 });
    const sub = await submit(
      "fake/instant",
      { prompt: "x" },
      { "X-Fal-Object-Lifecycle-Preference": lifecycle, "X-Fal-Store-IO": "0" },
    );
    const logged = fake.requests.find((r) => r.method === "POST" && r.host === "queue.fal.run")!;
    expect(logged.headers["x-fal-object-lifecycle-preference"]).toBe(lifecycle);
    expect(logged.headers["x-fal-store-io"]).toBe("0");
    const job = fake.jobs.get(sub.request_id)!;
    expect(job.storeIo).toBe(false);
    expect(job.lifecycle).toEqual({ expiration_duration_seconds: 60 });
    const listed = await json<{ request_id: string; store_io: boolean; lifecycle: unknown }[]>(
      await fetch(`${fake.url}/__control/jobs`),
    );
    expect(listed[0]).toMatchObject({
      request_id: sub.request_id,
      store_io: false,
      lifecycle: { expiration_duration_seconds: 60 },
    });

    const out = await json<{ images: { url: string }[] }>(
      await fetch(local(sub.response_url), { headers: AUTH }),
    );
    expect((await fetch(local(out.images[0]!.url))).status).toBe(200);
    fake.advanceTime(61_000);
    expect((await fetch(local(out.images[0]!.url))).status).toBe(404); // output media expired
    expect((await fetch(local(sub.response_url), { headers: AUTH })).status).toBe(200);
    fake.advanceTime(3_600_000);
    expect((await fetch(local(sub.response_url), { headers: AUTH })).status).toBe(404); // 1 h without payload storage

    // A result of 10 KB or more is kept only 6 minutes without payload storage; with it, unlimited.
    const big = { prompt: "y".repeat(11 * 1024) };
    const small = await submit("fake/echo", big, { "X-Fal-Store-IO": "0" });
    const stored = await submit("fake/echo", big);
    fake.advanceTime(6 * 60_000 + 1_000);
    expect((await fetch(local(small.response_url), { headers: AUTH })).status).toBe(404);
    expect((await fetch(local(stored.response_url), { headers: AUTH })).status).toBe(200);
  });
});

describe("get_job_result and cancel_job by the URLs a submit returned", () => {
  it("serves result and cancel on response_url and cancel_url, with fal's cancel answers", async () => {
    fake.setBehavior("fal-ai/flux/dev", { queueMs: 10_000, runMs: 10_000 });
    const sub = await submit("fal-ai/flux/dev/image-to-image", {
      prompt: "x",
      image_url: "https://v3.fal.media/files/a.png",
    });
    expect(sub.cancel_url).toBe(`https://queue.fal.run/fal-ai/flux/requests/${sub.request_id}/cancel`);
    const early = await fetch(local(sub.response_url), { headers: AUTH });
    expect(early.status).toBe(400);
    const c = await fetch(local(sub.cancel_url), { method: "PUT", headers: AUTH });
    expect(c.status).toBe(202);
    expect(await c.json()).toEqual({ status: "CANCELLATION_REQUESTED" });
    const done = await submit("fake/instant", { prompt: "x" });
    expect((await fetch(local(done.response_url), { headers: AUTH })).status).toBe(200);
    const late = await fetch(local(done.cancel_url), { method: "PUT", headers: AUTH });
    expect([late.status, await late.json()]).toEqual([400, { status: "ALREADY_COMPLETED" }]);
    const missing = await fetch(local(done.cancel_url.replace(done.request_id, "no-such-id")), {
      method: "PUT",
      headers: AUTH,
    });
    expect([missing.status, await missing.json()]).toEqual([404, { status: "NOT_FOUND" }]);
    expect(fake.wrongRootRequests).toEqual([]);
  });

  it("hands out and serves the response-suffix and full-id URL variants when switched on", async () => {
    fake.settings.queueUrlStyle = "response-suffix";
    const a = await submit("fal-ai/flux/dev", { prompt: "x" });
    expect(a.response_url).toBe(`https://queue.fal.run/fal-ai/flux/requests/${a.request_id}/response`);
    fake.advanceTime(60_000);
    expect((await fetch(local(a.response_url), { headers: AUTH })).status).toBe(200);

    fake.settings.queueUrlStyle = "full-id";
    const b = await submit("fal-ai/flux/dev", { prompt: "x" });
    expect(b.status_url).toBe(`https://queue.fal.run/fal-ai/flux/dev/requests/${b.request_id}/status`);
    fake.advanceTime(60_000);
    expect((await fetch(local(b.status_url), { headers: AUTH })).status).toBe(200);
    expect((await fetch(local(b.response_url), { headers: AUTH })).status).toBe(200);

    fake.settings.queueUrlStyle = "app-root";
    expect((await fetch(local(a.response_url), { headers: AUTH })).status).toBe(404);
    expect((await fetch(local(b.response_url), { headers: AUTH })).status).toBe(404);
    expect(fake.wrongRootRequests.map((w) => w.usedRoot)).toEqual(["fal-ai/flux/dev"]);
  });
});

describe("prepared uploads (upload_file with prepare_upload)", () => {
  const initiate = async () =>
    json<{ upload_url: string; file_url: string }>(
      await call("rest.fal.ai", "/storage/upload/initiate?storage_type=fal-cdn-v3", {
        method: "POST",
        headers: JSON_AUTH,
        body: JSON.stringify({ content_type: "application/octet-stream", file_name: "data.bin" }),
      }),
    );
  const put = (url: string, body: Uint8Array, headers: Record<string, string> = {}) =>
    fetch(local(url), {
      method: "PUT",
      headers: { "Content-Type": "application/octet-stream", ...headers },
      body,
    });

  it("accepts 1 byte and 90 MB PUTs without Authorization and serves them at file_url", async () => {
    const one = await initiate();
    expect(new URL(one.upload_url).host).toMatch(/\.fal\.media$/);
    expect((await put(one.upload_url, new Uint8Array([7]))).status).toBe(200);
    expect(new Uint8Array(await (await fetch(local(one.file_url))).arrayBuffer())).toEqual(
      new Uint8Array([7]),
    );

    const big = await initiate();
    const bytes = new Uint8Array(90_000_000);
    bytes[bytes.length - 1] = 9;
    expect((await put(big.upload_url, bytes)).status).toBe(200);
    expect(fake.uploads.get(big.file_url)).toMatchObject({ size: 90_000_000, multipart: false });
    expect(fake.requests.filter((r) => r.method === "PUT").every((r) => !r.hadAuth)).toBe(true);
  });

  it("refuses unknown, forged, expired and oversized targets, and a PUT that carries the key", async () => {
    const t = await initiate();
    const u = new URL(t.upload_url);
    expect(
      (await put(t.upload_url.replace(u.pathname, "/upload/0123456789abcdef"), new Uint8Array(1))).status,
    ).toBe(404);
    expect((await put(t.upload_url.replace(/sig=[^&]+/, "sig=forged"), new Uint8Array(1))).status).toBe(403);
    expect((await put(t.upload_url, new Uint8Array(1), AUTH)).status).toBe(400);
    expect(fake.authLeaks).toBe(1);
    fake.settings.maxSinglePutBytes = 1000;
    const tooBig = await put(t.upload_url, new Uint8Array(1001));
    expect(tooBig.status).toBe(413);
    fake.advanceTime(fake.settings.uploadTargetTtlMs + 1);
    const expired = await put(t.upload_url, new Uint8Array(1));
    expect([expired.status, await expired.json()]).toEqual([403, { detail: "Upload URL expired" }]);
    expect((await fetch(local(t.file_url))).status).toBe(404);
  });
});
