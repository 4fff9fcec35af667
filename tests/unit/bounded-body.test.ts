import http from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BodyTooLargeError,
  UnsupportedEncodingError,
  bufferedResponse,
  readIncomingBody,
  readResponseBody,
} from "../../src/util/bounded-body.js";

/** 64 MiB of zeros, gzip-compressed to about 64 KiB: a decompression bomb. */
const inflated = 64 * 1024 * 1024;
const gzipBomb = zlib.gzipSync(Buffer.alloc(inflated), { level: 9 });
const brotliBomb = zlib.brotliCompressSync(Buffer.alloc(inflated));

let server: http.Server;
let base = "";
/** Resolves when the server sees the socket of the latest request close. */
let socketClosed: Promise<void> = Promise.resolve();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    socketClosed = new Promise((resolve) => req.socket.once("close", () => resolve()));
    const route = req.url ?? "/";
    if (route === "/gzip-bomb") {
      res.writeHead(200, { "content-encoding": "gzip", "content-type": "application/json" });
      res.end(gzipBomb);
    } else if (route === "/br-bomb") {
      res.writeHead(200, { "content-encoding": "br" });
      res.end(brotliBomb);
    } else if (route === "/endless") {
      // Never ends: only the reader's cap stops it; the server keeps writing while it can.
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    } else if (route === "/declared-large") {
      res.writeHead(200, { "content-length": String(50 * 1024 * 1024) });
      res.write(Buffer.alloc(1024));
    } else if (route === "/zstd") {
      res.writeHead(200, { "content-encoding": "zstd" });
      res.end("xx");
    } else if (route === "/small-gzip") {
      res.writeHead(200, { "content-encoding": "gzip" });
      res.end(zlib.gzipSync('{"ok":true}'));
    } else {
      res.end("plain");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function get(path: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      `${base}${path}`,
      { agent: false, headers: { "accept-encoding": "gzip, br" } },
      resolve,
    );
    request.on("error", reject);
  });
}

const MiB = 1024 * 1024;

describe("readResponseBody (fetch)", () => {
  it("caps a gzip bomb by decoded bytes, not by what crossed the wire", async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/gzip-bomb`, { signal: controller.signal });
    const rss = process.memoryUsage().rss;
    await expect(readResponseBody(response, { maxBytes: MiB, abort: controller })).rejects.toBeInstanceOf(
      BodyTooLargeError,
    );
    expect(process.memoryUsage().rss - rss).toBeLessThan(48 * MiB);
    // The whole (small) wire body has arrived, so fetch may keep the idle socket for reuse.
  });

  it("caps an endless body and tears the connection down", async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/endless`, { signal: controller.signal });
    await expect(
      readResponseBody(response, { maxBytes: MiB, abort: controller, what: "the catalog" }),
    ).rejects.toThrow(/the catalog is larger than the limit of 1048576 bytes/);
    await socketClosed;
  });

  it("refuses a declared Content-Length over the cap before reading", async () => {
    const response = await fetch(`${base}/declared-large`);
    await expect(readResponseBody(response, { maxBytes: MiB })).rejects.toBeInstanceOf(BodyTooLargeError);
    await socketClosed;
  });

  it("reads a small compressed answer in full", async () => {
    const response = await fetch(`${base}/small-gzip`);
    expect((await readResponseBody(response, { maxBytes: 100 })).toString()).toBe('{"ok":true}');
  });
});

describe("bufferedResponse", () => {
  it("keeps the status and headers, and hands its bytes to readResponseBody from memory, under the cap", async () => {
    const wire = await fetch(`${base}/small-gzip`);
    const read = await readResponseBody(wire, { maxBytes: 100 });
    const buffered = bufferedResponse(read, wire);
    expect(buffered.status).toBe(wire.status);
    expect(await readResponseBody(bufferedResponse(read, wire), { maxBytes: 100 })).toBe(read);
    await expect(readResponseBody(bufferedResponse(read, wire), { maxBytes: 5 })).rejects.toBeInstanceOf(
      BodyTooLargeError,
    );
    expect(await buffered.text()).toBe('{"ok":true}');
  });

  it("reads like a Response: once, as text, JSON, bytes or a Blob; headers by any case, repeats joined", async () => {
    const answer = () =>
      bufferedResponse(Buffer.from('{"a":1}'), {
        status: 201,
        statusText: "Created",
        headers: [
          ["Content-Type", "application/json"],
          ["X-Many", "1"],
          ["x-many", "2"],
        ],
      });
    const response = answer();
    expect(response).toMatchObject({ ok: true, status: 201, statusText: "Created", bodyUsed: false });
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("X-MANY")).toBe("1, 2");
    expect(response.headers.has("x-missing")).toBe(false);
    // readResponseBody (the submit guard's read) leaves it unread for the client after it.
    expect((await readResponseBody(response, { maxBytes: 100 })).toString()).toBe('{"a":1}');
    const copy = response.clone();
    expect(await response.json()).toEqual({ a: 1 });
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
    await expect(readResponseBody(response, { maxBytes: 100 })).rejects.toThrow(TypeError);
    expect(() => response.clone()).toThrow(TypeError);
    expect(Buffer.from(await copy.arrayBuffer()).toString()).toBe('{"a":1}');
    const blob = await answer().blob();
    expect([blob.type, await blob.text()]).toEqual(["application/json", '{"a":1}']);
    expect(bufferedResponse(Buffer.alloc(0), { status: 404, statusText: "", headers: [] }).ok).toBe(false);
  });

  it("carries no body for a null-body status", async () => {
    const empty = bufferedResponse(Buffer.from("ignored"), { status: 204, statusText: "", headers: [] });
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe("");
  });
});

describe("readIncomingBody (node:http)", () => {
  it.each(["/gzip-bomb", "/br-bomb"])("caps %s by decoded bytes and destroys the socket", async (path) => {
    const message = await get(path);
    const rss = process.memoryUsage().rss;
    await expect(readIncomingBody(message, { maxBytes: MiB })).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(process.memoryUsage().rss - rss).toBeLessThan(48 * MiB);
    await socketClosed;
    expect(message.socket?.destroyed ?? true).toBe(true);
  });

  it("caps an endless body", async () => {
    const message = await get("/endless");
    await expect(readIncomingBody(message, { maxBytes: MiB })).rejects.toBeInstanceOf(BodyTooLargeError);
    await socketClosed;
  });

  it("refuses a declared Content-Length over the cap and closes the socket", async () => {
    const message = await get("/declared-large");
    await expect(readIncomingBody(message, { maxBytes: MiB })).rejects.toBeInstanceOf(BodyTooLargeError);
    await socketClosed;
  });

  it("refuses an encoding it cannot decode", async () => {
    const message = await get("/zstd");
    await expect(readIncomingBody(message, { maxBytes: MiB })).rejects.toBeInstanceOf(
      UnsupportedEncodingError,
    );
    await socketClosed;
  });

  it("decodes a small gzip answer", async () => {
    const message = await get("/small-gzip");
    expect((await readIncomingBody(message, { maxBytes: 100 })).toString()).toBe('{"ok":true}');
  });
});
