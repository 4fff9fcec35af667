import { describe, expect, it } from "vitest";
import { z } from "zod";
import { FalApiError, FalResponseError } from "../../src/errors.js";
import { FalHttpClient, isRetryableAnswer } from "../../src/fal/http.js";
import { sendOverFetch, sendOverNodeHttp } from "../../src/fal/transport.js";

/** A fetch answering `answers` in turn, counting calls. */
function counting(answers: (() => Response)[]) {
  let calls = 0;
  const fetch = (async () => {
    const answer = answers[Math.min(calls, answers.length - 1)]!;
    calls++;
    return answer();
  }) as typeof globalThis.fetch;
  return { fetch, calls: () => calls };
}

const answer =
  (status: number, headers: Record<string, string> = {}, body: unknown = { detail: "x" }) =>
  () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });

const read = (client: FalHttpClient) =>
  client.request({
    method: "GET",
    url: "https://queue.fal.run/a/requests/r/status",
    what: "the status",
    idempotent: true,
    schema: z.object({ ok: z.boolean() }),
  });

const noSleep = { sleep: async () => {}, random: () => 0 };

describe("X-Fal-Needs-Retry", () => {
  it("0: a read is not retried, even a 503 that would be", async () => {
    const { fetch, calls } = counting([
      answer(503, { "X-Fal-Needs-Retry": "0" }),
      answer(200, {}, { ok: true }),
    ]);
    await expect(
      read(new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5000, ...noSleep })),
    ).rejects.toBeInstanceOf(FalApiError);
    expect(calls()).toBe(1);
  });

  it("1: a read is retried, even a status that would not be (400)", async () => {
    const { fetch, calls } = counting([
      answer(400, { "X-Fal-Needs-Retry": "1" }),
      answer(200, {}, { ok: true }),
    ]);
    await expect(
      read(new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5000, ...noSleep })),
    ).resolves.toMatchObject({
      data: { ok: true },
    });
    expect(calls()).toBe(2);
  });

  it("absent: the status decides (503 retried, 400 not)", async () => {
    expect(isRetryableAnswer(503, new Headers())).toBe(true);
    expect(isRetryableAnswer(400, new Headers())).toBe(false);
    expect(isRetryableAnswer(504, new Headers({ "x-fal-request-timeout-type": "user" }))).toBe(false);
    expect(isRetryableAnswer(503, new Headers({ "x-fal-needs-retry": "0" }))).toBe(false);
    expect(isRetryableAnswer(418, new Headers({ "x-fal-needs-retry": "1" }))).toBe(true);
  });

  it("never makes a write retried", async () => {
    const { fetch, calls } = counting([answer(503, { "X-Fal-Needs-Retry": "1" })]);
    const client = new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5000, ...noSleep });
    await expect(
      client.request({
        method: "POST",
        url: "https://queue.fal.run/a",
        what: "submit",
        idempotent: false,
        schema: z.unknown(),
        body: {},
      }),
    ).rejects.toBeInstanceOf(FalApiError);
    expect(calls()).toBe(1);
  });
});

describe("bounded answers", () => {
  it("refuses a 5,000-deep JSON answer with the request id, not a stack overflow, and does not retry it", async () => {
    const deep = "[".repeat(5000) + "]".repeat(5000);
    const { fetch, calls } = counting([
      () =>
        new Response(deep, {
          status: 200,
          headers: { "content-type": "application/json", "x-fal-request-id": "req-deep" },
        }),
    ]);
    const error = await read(
      new FalHttpClient({ send: sendOverFetch(fetch), timeoutMs: 5000, ...noSleep }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FalResponseError);
    expect(String((error as Error).message)).toMatch(/nested more than 128 levels.*req-deep/);
    expect(calls()).toBe(1);
  });
});

describe("decoded-byte cap on fal's answers", () => {
  it.each(["node:http", "fetch"])(
    "refuses a gzip bomb (64 KiB on the wire, 256 MiB decoded) without holding it, over %s",
    async (way) => {
      const { createServer } = await import("node:http");
      const { gzipSync } = await import("node:zlib");
      const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024, 0x20));
      const server = createServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
        res.end(bomb);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      try {
        const transport = way === "fetch" ? sendOverFetch(fetch) : sendOverNodeHttp().send;
        const client = new FalHttpClient({
          send: (url, init) =>
            transport(url.replace("https://queue.fal.run", `http://127.0.0.1:${port}`), init),
          timeoutMs: 10_000,
          maxRetries: 0,
          ...noSleep,
        });
        const rss = process.memoryUsage().rss;
        const error = await read(client).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(FalResponseError);
        expect(String((error as Error).message)).toMatch(/unexpectedly large/);
        expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024);
      } finally {
        server.close();
      }
    },
  );
});
