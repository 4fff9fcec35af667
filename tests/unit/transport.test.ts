import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FalConnectionError,
  fetchOverSend,
  sendOverFetch,
  sendOverNodeHttp,
  type FalSend,
  type FalSendInit,
} from "../../src/fal/transport.js";
import { BodyTooLargeError, UnsupportedEncodingError } from "../../src/util/bounded-body.js";
import { networkCause } from "../../src/util/errors.js";

const KiB = 1024;

let server: http.Server;
let base = "";
let connections = 0;
const sockets = new Set<Socket>();
/** What the server saw of the latest request. */
let seen: { method?: string; headers: http.IncomingHttpHeaders; body: string } = { headers: {}, body: "" };
/** Resolves when the socket of the latest request closes. */
let socketClosed: Promise<void> = Promise.resolve();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    socketClosed = new Promise((resolve) => req.socket.once("close", () => resolve()));
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      seen = { method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() };
      const route = req.url ?? "/";
      if (route === "/json") {
        res.writeHead(201, { "content-type": "application/json", "x-fal-request-id": "r-1" });
        res.end('{"ok":true}');
      } else if (route === "/gzip") {
        res.writeHead(200, { "content-encoding": "gzip", "content-type": "application/json" });
        res.end(zlib.gzipSync('{"zipped":true}'));
      } else if (route === "/zstd") {
        res.writeHead(200, { "content-encoding": "zstd" });
        res.end("xx");
      } else if (route === "/declared-large") {
        res.writeHead(200, { "content-length": String(50 * 1024 * 1024) });
        res.write(Buffer.alloc(KiB));
      } else if (route === "/endless") {
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * KiB, 0x20);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once("drain", pump);
        };
        pump();
      } else if (route === "/cut-off") {
        res.writeHead(200, { "content-length": "1000" });
        res.write("x".repeat(100), () => req.socket.destroy());
      } else if (route === "/slow") {
        res.writeHead(200, { "content-length": "10" });
        res.write("12345");
      } else if (route === "/no-content") {
        res.writeHead(204).end();
      } else if (route === "/odd-status") {
        res.writeHead(999).end("odd");
      } else {
        res.writeHead(404).end("none");
      }
    });
  });
  server.on("connection", (socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const init = (extra: Partial<FalSendInit> = {}): FalSendInit => ({
  method: "GET",
  headers: {},
  maxBytes: 64 * KiB,
  what: "the test answer",
  ...extra,
});

const ways: [string, () => { send: FalSend; destroy: () => void }][] = [
  ["node:http", () => sendOverNodeHttp()],
  ["fetch", () => ({ send: sendOverFetch(globalThis.fetch), destroy() {} })],
];

describe.each(ways)("a send over %s", (_way, make) => {
  it("reads status, headers and the whole body, and sends method, headers and body", async () => {
    const { send, destroy } = make();
    try {
      const answer = await send(
        `${base}/json`,
        init({ method: "POST", headers: { "x-test": "1" }, body: "{}" }),
      );
      expect(answer.status).toBe(201);
      expect(answer.headers.get("X-Fal-Request-Id")).toBe("r-1");
      expect(answer.headers.get("absent")).toBeNull();
      expect([...answer.headers.entries()]).toContainEqual(["x-fal-request-id", "r-1"]);
      expect(answer.body.toString()).toBe('{"ok":true}');
      expect(seen).toMatchObject({
        method: "POST",
        body: "{}",
        headers: { "x-test": "1", "content-length": "2" },
      });
    } finally {
      destroy();
    }
  });

  it("decodes a compressed answer and refuses an encoding it cannot decode", async () => {
    const { send, destroy } = make();
    try {
      expect((await send(`${base}/gzip`, init())).body.toString()).toBe('{"zipped":true}');
      if (_way === "node:http")
        await expect(send(`${base}/zstd`, init())).rejects.toBeInstanceOf(UnsupportedEncodingError);
    } finally {
      destroy();
    }
  });

  it.each(["/declared-large", "/endless"])(
    "refuses %s past the cap and closes its connection",
    async (route) => {
      const { send, destroy } = make();
      try {
        await expect(send(`${base}${route}`, init())).rejects.toBeInstanceOf(BodyTooLargeError);
        await socketClosed;
      } finally {
        destroy();
      }
    },
  );

  it("fails a body cut off before its declared end, rather than returning part of it", async () => {
    const { send, destroy } = make();
    try {
      await expect(send(`${base}/cut-off`, init())).rejects.toThrow();
    } finally {
      destroy();
    }
  });

  it("stops at the caller's signal, mid-body, with the signal's reason, and closes the connection", async () => {
    const { send, destroy } = make();
    try {
      const stop = new AbortController();
      const reason = new Error("caller stopped");
      const pending = send(`${base}/slow`, init({ signal: stop.signal }));
      setTimeout(() => stop.abort(reason), 50);
      await expect(pending).rejects.toBe(reason);
      await socketClosed;
      const already = new AbortController();
      already.abort(reason);
      await expect(send(`${base}/json`, init({ signal: already.signal }))).rejects.toBe(reason);
    } finally {
      destroy();
    }
  });
});

describe("the node:http send", () => {
  it("keeps one connection alive for calls one after another", async () => {
    const { send, destroy } = sendOverNodeHttp();
    try {
      await send(`${base}/json`, init());
      const before = connections;
      for (let i = 0; i < 5; i++) await send(`${base}/json`, init());
      expect(connections).toBe(before);
      expect(seen.headers["user-agent"]).toMatch(/^fal-mcp\//);
    } finally {
      destroy();
    }
  });

  it("names a refused connection by its code, as fetch's errors did", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { send, destroy } = sendOverNodeHttp();
    try {
      const error = await send(`http://127.0.0.1:${port}/`, init()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FalConnectionError);
      expect(networkCause(error)).toBe("ECONNREFUSED");
      await expect(send("ftp://127.0.0.1/", init())).rejects.toThrow(/http\(s\) only/);
    } finally {
      destroy();
    }
  });
});

describe("fetchOverSend", () => {
  it("hands back a Response read whole, with the decoded body's headers", async () => {
    const { send, destroy } = sendOverNodeHttp();
    const fetchFal = fetchOverSend(send, { maxBytes: 64 * KiB, what: "the test answer" });
    try {
      const zipped = await fetchFal(`${base}/gzip`);
      expect(zipped.headers.get("content-encoding")).toBeNull();
      expect(await zipped.json()).toEqual({ zipped: true });
      const posted = await fetchFal(
        new Request(`${base}/json`, { method: "POST", body: "{}", headers: new Headers({ "x-test": "2" }) }),
      );
      expect(posted.status).toBe(201);
      expect(seen).toMatchObject({ method: "POST", body: "{}", headers: { "x-test": "2" } });
      expect((await fetchFal(`${base}/no-content`)).status).toBe(204);
      await expect(fetchFal(`${base}/odd-status`)).rejects.toThrow(/HTTP status 999/);
      await expect(fetchFal(`${base}/endless`)).rejects.toBeInstanceOf(BodyTooLargeError);
    } finally {
      destroy();
    }
  });
});
