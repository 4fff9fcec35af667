// Tests of the fake of fal's hostile answers (issue 11), each switched on per test. No test here
// connects anywhere but the fake and its loopback canary.
import { isIP } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { privateUrls, startFakeFal, type FakeFal, type FakeFalSettings } from "./fake-fal/server.js";

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

const call = (host: string, path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${fake.url}/${host}${path}`, init);
const local = (falUrl: string): string => {
  const u = new URL(falUrl);
  return `${fake.url}/${u.host}${u.pathname}${u.search}`;
};
interface Submitted {
  request_id: string;
  status_url: string;
  response_url: string;
}
async function submit(endpoint: string, input: unknown): Promise<Submitted> {
  const res = await call("queue.fal.run", `/${endpoint}`, {
    method: "POST",
    headers: JSON_AUTH,
    body: JSON.stringify(input),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Submitted;
}
const resultText = async (sub: Submitted): Promise<string> =>
  (await fetch(local(sub.response_url), { headers: AUTH })).text();

/** Reads a body, counting bytes, until `limit` (then cancels) or its end. */
async function readUpTo(res: Response, limit: number): Promise<{ bytes: number; chunks: number[] }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let bytes = 0;
  const chunks: number[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    chunks.push(Date.now());
    if (bytes >= limit) {
      await reader.cancel();
      break;
    }
  }
  return { bytes, chunks };
}
const until = async (check: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe("(a) gzip decompression bomb", () => {
  it("sends ~1 MB on the wire that decodes to ~1 GiB, streamed, and records the transfer", async () => {
    const sub = await submit("fake/instant", { prompt: "x" });
    fake.inject({
      host: "queue.fal.run",
      path: /\/requests\/[^/]+$/,
      times: 1,
      fault: { kind: "gzip-bomb" },
    });
    const res = await fetch(local(sub.response_url), { headers: AUTH });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    const wire = Number(res.headers.get("content-length"));
    expect(wire).toBeLessThan(1.5 * 1024 * 1024);
    const { bytes } = await readUpTo(res, 64 * 1024 * 1024);
    expect(bytes).toBeGreaterThanOrEqual(64 * 1024 * 1024); // 40× the wire size already
    // The whole ~1 MB fits in loopback socket buffers, so the fake usually finishes writing first.
    expect(fake.transfers[0]).toMatchObject({ fault: "gzip-bomb", host: "queue.fal.run" });
    expect(fake.transfers[0]!.wireBytes).toBeLessThanOrEqual(wire);
    expect(fake.transfers[0]!.bodyBytes).toBeGreaterThanOrEqual(64 * 1024 * 1024);
  });

  it("decodes to valid JSON of the size asked for", async () => {
    fake.inject({
      host: "api.fal.ai",
      times: 1,
      fault: { kind: "gzip-bomb", decodedBytes: 32 * 1024 * 1024 },
    });
    const body = (await (await call("api.fal.ai", "/v1/models")).json()) as { padding: string };
    expect(body.padding.length).toBe(32 * 1024 * 1024);
    await until(() => fake.transfers[0]?.finished === true);
    expect(fake.transfers[0]!.wireBytes).toBeLessThan(100 * 1024);
  });
});

describe("hostile outputs", () => {
  it("(b) a 6,000-deep JSON output, sent raw on result and history", async () => {
    fake.setBehavior("fake/instant", { hostile: { kind: "deep" } });
    const sub = await submit("fake/instant", { prompt: "x" });
    const text = await resultText(sub);
    expect(text.startsWith(`{"data":${"[".repeat(6000)}]`)).toBe(true);
    expect(text.length).toBe(`{"data":,"seed":42}`.length + 12_000);
    const hist = await (
      await call("api.fal.ai", "/v1/models/requests/by-endpoint?endpoint_id=fake/instant&expand=payloads", {
        headers: AUTH,
      })
    ).text();
    expect(hist).toContain(`"json_output":{"data":${"[".repeat(6000)}`);
  });

  it("(c) several MB of text, or a real PNG as a data: URI", async () => {
    fake.setBehavior("fake/instant", { hostile: { kind: "large" } });
    const text = JSON.parse(await resultText(await submit("fake/instant", { prompt: "x" }))) as {
      text: string;
    };
    expect(text.text.length).toBe(3 * 1024 * 1024);
    fake.setBehavior("fake/instant", { hostile: { kind: "large", as: "data-uri", bytes: 4_000_000 } });
    const out = JSON.parse(await resultText(await submit("fake/instant", { prompt: "x" }))) as {
      images: { url: string }[];
    };
    const url = out.images[0]!.url;
    expect(url.length).toBeGreaterThan(3_900_000);
    const png = Buffer.from(url.slice("data:image/png;base64,".length), "base64");
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
  });

  it("(d) echoes the caller's key in an output field, a status log line and a signed URL", async () => {
    fake.setBehavior("fake/instant", { hostile: { kind: "echo-key" } });
    const sub = await submit("fake/instant", { prompt: "x" });
    const out = JSON.parse(await resultText(sub)) as { images: { url: string }[]; debug: unknown };
    expect(JSON.stringify(out.debug)).toContain(KEY);
    const signed = new URL(out.images[0]!.url);
    expect(signed.searchParams.get("token")).toBe(KEY);
    const media = await fetch(local(out.images[0]!.url));
    expect(media.headers.get("content-type")).toBe("image/png");
    const status = await (await fetch(`${local(sub.status_url)}?logs=1`, { headers: AUTH })).text();
    expect(status).toContain(`Key ${KEY}`);
    // The fake's own request log never holds the key in headers (the signed URL's query has it).
    expect(JSON.stringify(fake.requests.map((r) => r.headers))).not.toContain(KEY);
    fake.setBehavior("fake/instant", { hostile: { kind: "echo-key", in: ["logs"] } });
    const onlyLogs = await submit("fake/instant", { prompt: "x" });
    expect(await resultText(onlyLogs)).not.toContain(KEY);
  });

  it("(e) media URLs at loopback, private, link-local and metadata addresses; the canary counts connections", async () => {
    fake.setBehavior("fake/instant", { hostile: { kind: "private-urls" } });
    const out = JSON.parse(await resultText(await submit("fake/instant", { prompt: "x" }))) as {
      images: { url: string }[];
    };
    const urls = out.images.map((i) => i.url);
    expect(urls).toEqual(privateUrls(fake.canaryUrl));
    expect(urls).toContain(`${fake.canaryUrl}/image.png`);
    expect(urls).toContain("http://169.254.169.254/latest/meta-data/iam/security-credentials/");
    expect(urls.some((u) => u.includes("[::ffff:127.0.0.1]"))).toBe(true);
    for (const u of urls) {
      const host = new URL(u).hostname.replace(/^\[|\]$/g, "");
      expect(host === "localhost" || isIP(host) !== 0, u).toBe(true); // literal addresses: no DNS
    }
    expect(fake.canaryConnections).toBe(0);
    // Only the canary is contacted here, to show the counter works.
    await (await fetch(`${fake.canaryUrl}/image.png`)).arrayBuffer();
    expect(fake.canaryConnections).toBe(1);
    fake.setBehavior("fake/instant", { hostile: { kind: "private-urls", urls: ["http://10.1.2.3/x.png"] } });
    expect(await resultText(await submit("fake/instant", { prompt: "x" }))).toContain(
      "http://10.1.2.3/x.png",
    );
  });

  it("(f) an HTML page served as image/png, from an output or a CDN fault", async () => {
    fake.setBehavior("fake/instant", { hostile: { kind: "html-as-png" } });
    const out = JSON.parse(await resultText(await submit("fake/instant", { prompt: "x" }))) as {
      images: { url: string }[];
    };
    const res = await fetch(local(out.images[0]!.url));
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(await res.text()).toMatch(/^<!DOCTYPE html>/);
    fake.inject({
      host: "*.fal.media",
      path: "/files/*",
      times: 1,
      fault: {
        kind: "status",
        status: 200,
        body: "<html>hi</html>",
        headers: { "content-type": "image/png" },
      },
    });
    const faulted = await call("v3.fal.media", "/files/anything.png");
    expect([faulted.headers.get("content-type"), await faulted.text()]).toEqual([
      "image/png",
      "<html>hi</html>",
    ]);
  });

  it("(h) a path-traversal or key-shaped request id in the submit answer", async () => {
    fake.setBehavior("fake/instant", { requestId: "../../x" });
    const sub = await submit("fake/instant", { prompt: "x" });
    expect(sub.request_id).toBe("../../x");
    expect(sub.status_url).toBe("https://queue.fal.run/fake/instant/requests/..%2F..%2Fx/status");
    expect((await fetch(local(sub.status_url), { headers: AUTH })).status).toBe(200);
    fake.setBehavior("fake/instant", { requestId: "caller-key" });
    expect((await submit("fake/instant", { prompt: "x" })).request_id).toBe(KEY);
  });
});

describe("slow and huge bodies", () => {
  it("(g) trickles a CDN download a few bytes at a time, never pausing longer than intervalMs", async () => {
    const out = JSON.parse(await resultText(await submit("fake/instant", { prompt: "x" }))) as {
      images: { url: string }[];
    };
    fake.inject({
      host: "*.fal.media",
      path: "/files/*",
      times: 1,
      fault: { kind: "trickle", intervalMs: 50 },
    });
    const res = await fetch(local(out.images[0]!.url));
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("content-length")).toBeNull(); // forever: no length
    const t0 = Date.now();
    const { bytes, chunks } = await readUpTo(res, 40);
    expect(bytes).toBe(40);
    const gaps = chunks.map((t, i) => t - (chunks[i - 1] ?? t0));
    // Several small chunks, none long after the previous (slack for a loaded machine).
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...gaps)).toBeLessThan(1000);
    await until(() => fake.transfers[0]?.closedByClient === true);
    expect(fake.transfers[0]).toMatchObject({ fault: "trickle", finished: false });

    fake.inject({
      host: "*.fal.media",
      path: "/files/*",
      times: 1,
      fault: { kind: "trickle", intervalMs: 10, bytesPerTick: 8, totalBytes: 32 },
    });
    const bounded = await fetch(local(out.images[0]!.url));
    const body = Buffer.from(await bounded.arrayBuffer());
    expect(body.length).toBe(32);
    expect(body.subarray(1, 4).toString("latin1")).toBe("PNG"); // the real file's bytes, slowly
    await until(() => fake.transfers[1]?.finished === true);
    expect(fake.transfers[1]!.closedByClient).toBe(false);
  });

  it("(j) a huge body for size caps, recording whether the client closed at its cap", async () => {
    fake.inject({ host: "v3.fal.media", path: "/files/huge.bin", fault: { kind: "huge-body" } });
    const res = await call("v3.fal.media", "/files/huge.bin");
    expect(res.headers.get("content-length")).toBe(String(10 * 1024 ** 3));
    const { bytes } = await readUpTo(res, 5 * 1024 * 1024);
    expect(bytes).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    await until(() => fake.transfers[0]?.closedByClient === true);
    expect(fake.transfers[0]!.wireBytes).toBeLessThan(64 * 1024 * 1024);

    fake.inject({
      host: "v3.fal.media",
      path: "/files/small-but-says-huge.bin",
      times: 1,
      fault: { kind: "huge-body", bodyBytes: 1000, contentLength: null },
    });
    const honest = await call("v3.fal.media", "/files/small-but-says-huge.bin");
    expect(honest.headers.get("content-length")).toBeNull();
    expect((await honest.arrayBuffer()).byteLength).toBe(1000);
    await until(() => fake.transfers[1]?.finished === true);
    expect(fake.transfers[1]!.closedByClient).toBe(false);
  });
});

describe("(i) X-Fal-Needs-Retry on error answers", () => {
  it("sends 0 or 1 on submit, status and result errors, and counts each attempt", async () => {
    const sub = await submit("fake/instant", { prompt: "x" });
    const path = new URL(sub.response_url).pathname;
    const cases = [
      { method: "POST", path: "/fake/instant", status: 503, retry: "0" },
      { method: "GET", path: `${path}/status`, status: 500, retry: "1" },
      { method: "GET", path, status: 429, retry: "1" },
    ];
    for (const c of cases)
      fake.inject({
        host: "queue.fal.run",
        method: c.method,
        path: c.path,
        times: 1,
        fault: { kind: "status", status: c.status, headers: { "X-Fal-Needs-Retry": c.retry } },
      });
    const answers = [
      await call("queue.fal.run", "/fake/instant", { method: "POST", headers: JSON_AUTH, body: "{}" }),
      await fetch(local(sub.status_url), { headers: AUTH }),
      await fetch(local(sub.response_url), { headers: AUTH }),
    ];
    expect(answers.map((r) => [r.status, r.headers.get("x-fal-needs-retry")])).toEqual([
      [503, "0"],
      [500, "1"],
      [429, "1"],
    ]);
    expect(fake.appliedFaults.map((f) => [f.method, f.path])).toEqual(cases.map((c) => [c.method, c.path]));
    expect(fake.countRequests({ host: "queue.fal.run", method: "POST", path: "/fake/instant" })).toBe(2);
    expect(fake.jobsFor("fake/instant")).toHaveLength(1); // the 503 submit created nothing
  });
});
