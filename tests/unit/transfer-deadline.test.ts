import http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TransferTimeoutError, meteredBy, startTransferDeadline } from "../../src/util/transfer-deadline.js";

let server: http.Server;
let base = "";
let socketClosed: Promise<void> = Promise.resolve();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    socketClosed = new Promise((resolve) => req.socket.once("close", () => resolve()));
    res.writeHead(200, { "content-type": "application/octet-stream" });
    if (req.url === "/trickle") {
      // One byte every 50 ms: never stalls for a 300 ms stall timeout, never ends.
      const timer = setInterval(() => res.write("x"), 50);
      res.on("close", () => clearInterval(timer));
    } else if (req.url === "/silent") {
      res.flushHeaders();
    } else res.end("done");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function download(path: string, stallMs: number, totalMs: number, signal?: AbortSignal) {
  const deadline = startTransferDeadline({
    stallMs,
    totalMs,
    signal,
    what: "the download",
    stallSetting: "FAL_MCP_STALL_TIMEOUT_MS",
    totalSetting: "FAL_MCP_DOWNLOAD_TIMEOUT_MS",
  });
  const started = Date.now();
  try {
    const response = await fetch(`${base}${path}`, { signal: deadline.signal });
    await pipeline(
      response.body!,
      meteredBy(deadline),
      new Writable({ write: (_chunk, _encoding, callback) => callback() }),
    );
    return { elapsed: Date.now() - started, error: undefined };
  } catch (error) {
    return { elapsed: Date.now() - started, error: deadline.explain(error) };
  } finally {
    deadline.dispose();
  }
}

describe("startTransferDeadline", () => {
  it("stops a trickling peer at the total deadline even though it never stalls", async () => {
    const { elapsed, error } = await download("/trickle", 300, 900);
    expect(error).toBeInstanceOf(TransferTimeoutError);
    expect((error as TransferTimeoutError).kind).toBe("deadline");
    expect(String((error as Error).message)).toMatch(
      /took longer than 900 ms \(FAL_MCP_DOWNLOAD_TIMEOUT_MS\)/,
    );
    expect(elapsed).toBeGreaterThanOrEqual(850);
    expect(elapsed).toBeLessThan(2000);
    await socketClosed;
  });

  it("stops a silent peer at the stall timeout", async () => {
    const { elapsed, error } = await download("/silent", 300, 10_000);
    expect((error as TransferTimeoutError).kind).toBe("stall");
    expect(String((error as Error).message)).toMatch(
      /stalled: no data for 300 ms \(FAL_MCP_STALL_TIMEOUT_MS\)/,
    );
    expect(elapsed).toBeLessThan(2000);
    await socketClosed;
  });

  it("lets a prompt transfer finish and follows the caller's signal", async () => {
    expect((await download("/", 300, 1000)).error).toBeUndefined();
    const caller = new AbortController();
    setTimeout(() => caller.abort(new Error("cancelled by the client")), 100);
    const { error } = await download("/trickle", 1000, 5000, caller.signal);
    expect(String((error as Error).message)).toMatch(/cancelled by the client/);
  });

  it("reports the time left and clears its timers", () => {
    const deadline = startTransferDeadline({ stallMs: 1000, totalMs: 5000 });
    expect(deadline.remainingMs()).toBeGreaterThan(4900);
    deadline.dispose();
    expect(deadline.signal.aborted).toBe(false);
  });
});
