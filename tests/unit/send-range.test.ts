import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalFileError } from "../../src/errors.js";
import { ChunkPool, MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, sendRange } from "../../src/files/send-range.js";

/**
 * sendRange on its own: a loopback HTTP server hashes what arrives, which must be exactly the
 * requested byte range of the file, whatever the range's size against the chunk sizes.
 */

interface Received {
  size: number;
  sha256: string;
  complete: boolean;
}

let server: http.Server;
let url: string;
let dir: string;
let file: string;
let bytes: Buffer;
const received = new Map<string, Promise<Received>>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const hash = createHash("sha256");
    let size = 0;
    const id = req.url ?? "";
    received.set(
      id,
      new Promise<Received>((resolve) => {
        req.on("data", (chunk: Buffer) => {
          size += chunk.length;
          hash.update(chunk);
        });
        req.on("end", () => {
          resolve({ size, sha256: hash.digest("hex"), complete: true });
          res.end("ok");
        });
        req.on("close", () => resolve({ size, sha256: "", complete: req.complete }));
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-send-range-"));
  file = path.join(dir, "data.bin");
  bytes = randomBytes(3 * MAX_CHUNK_BYTES + 5);
  await fs.writeFile(file, bytes);
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await fs.rm(dir, { recursive: true, force: true });
});

const sha256 = (buffer: Buffer) => createHash("sha256").update(buffer).digest("hex");

/** PUTs [start, end) of `file` with sendRange; resolves with what the server received. */
async function put(
  id: string,
  start: number,
  end: number,
  pool = new ChunkPool(4, 1_000),
  declaredLength = end - start,
) {
  const handle = await fs.open(file, "r");
  try {
    const request = http.request(`${url}/${id}`, {
      method: "PUT",
      agent: false,
      headers: { "content-length": String(declaredLength) },
    });
    const answered = new Promise<void>((resolve, reject) => {
      request.on("response", (response) => response.resume().on("end", resolve));
      request.on("error", reject);
    });
    const send = sendRange(request, handle, start, end, { pool, fileName: "data.bin", onMoved: () => {} });
    try {
      await send.done;
    } catch (error) {
      answered.catch(() => {}); // the destroyed request's "socket hang up"
      request.destroy();
      throw error;
    }
    await answered;
    return await received.get(`/${id}`)!;
  } finally {
    await handle.close();
  }
}

describe("sendRange", () => {
  const cases: [string, number, number][] = [
    ["one byte", 0, 1],
    ["one byte short of the first chunk", 0, MIN_CHUNK_BYTES - 1],
    ["exactly the first chunk", 0, MIN_CHUNK_BYTES],
    ["one byte over the first chunk", 0, MIN_CHUNK_BYTES + 1],
    ["an odd offset across several growing chunks", 7, 7 + 2 * MAX_CHUNK_BYTES + 3],
    ["the last byte of the file", 3 * MAX_CHUNK_BYTES + 4, 3 * MAX_CHUNK_BYTES + 5],
    ["the whole file", 0, 3 * MAX_CHUNK_BYTES + 5],
  ];
  for (const [name, start, end] of cases) {
    it(`sends exactly the range: ${name}`, async () => {
      const got = await put(`range-${start}-${end}`, start, end);
      expect(got).toEqual({ size: end - start, sha256: sha256(bytes.subarray(start, end)), complete: true });
    });
  }

  it("sends the right bytes from buffers used again by the next range", async () => {
    const pool = new ChunkPool(2, 1_000);
    const first = await put("reuse-1", 0, MAX_CHUNK_BYTES + 11, pool);
    const second = await put("reuse-2", 5, MIN_CHUNK_BYTES * 3, pool);
    expect(first.sha256).toBe(sha256(bytes.subarray(0, MAX_CHUNK_BYTES + 11)));
    expect(second.sha256).toBe(sha256(bytes.subarray(5, MIN_CHUNK_BYTES * 3)));
  });

  it("stops with a LocalFileError when the file is shorter than the range, never ending the body", async () => {
    // The range runs 1 MiB past the end of the file, as when the file is truncated mid-upload.
    const end = bytes.length + 1024 * 1024;
    const error = await put("shrunk", 0, end).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LocalFileError);
    expect((error as LocalFileError).message).toContain("became shorter while it was being uploaded");
    const got = await received.get("/shrunk")!;
    expect(got.complete).toBe(false);
    expect(got.size).toBeLessThan(end);
  });

  it("writes nothing more once stopped", async () => {
    const handle = await fs.open(file, "r");
    try {
      const request = http.request(`${url}/stopped`, {
        method: "PUT",
        agent: false,
        headers: { "content-length": String(bytes.length) },
      });
      request.on("error", () => {});
      const send = sendRange(request, handle, 0, bytes.length, {
        pool: new ChunkPool(2, 1_000),
        fileName: "data.bin",
        onMoved: () => {},
      });
      send.stop();
      await send.done;
      expect(request.writableEnded).toBe(false);
      request.destroy();
      const got = await received.get("/stopped");
      expect(got === undefined || !got.complete).toBe(true);
    } finally {
      await handle.close();
    }
  });
});

/** A request that records writes and calls back as `answer` says (undefined: never calls back). */
function fakeRequest(answer: (writeNumber: number) => Error | null | undefined) {
  const writes: number[] = [];
  let ended = false;
  const request = {
    write(chunk: Buffer, callback: (error?: Error | null) => void) {
      writes.push(chunk.length);
      const outcome = answer(writes.length);
      if (outcome !== undefined) setImmediate(() => callback(outcome));
      return true;
    },
    end() {
      ended = true;
    },
  };
  return { request: request as unknown as http.ClientRequest, writes, ended: () => ended };
}

describe("sendRange with a socket that fails or never drains", () => {
  it("fails with the write's error, reported once and never as an unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const handle = await fs.open(file, "r");
    try {
      const broken = new Error("write EPIPE");
      const fake = fakeRequest((n) => (n === 2 ? broken : null));
      const moved: number[] = [];
      const send = sendRange(fake.request, handle, 0, bytes.length, {
        pool: new ChunkPool(2, 1_000),
        fileName: "data.bin",
        onMoved: () => moved.push(fake.writes.length),
      });
      await expect(send.done).rejects.toBe(broken);
      // The failed write is the last: nothing more is written, the body is never ended, and only
      // the write the socket took counts as bytes moved (the stall timer's heartbeat).
      expect(fake.writes.length).toBe(2);
      expect(fake.ended()).toBe(false);
      expect(moved).toEqual([1]);
      await new Promise((resolve) => setTimeout(resolve, 20)); // let a stray rejection surface
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      await handle.close();
    }
  });

  it("stops while a write is still in the socket: done settles, nothing more is written", async () => {
    const handle = await fs.open(file, "r");
    try {
      const fake = fakeRequest((n) => (n === 1 ? null : undefined)); // the second write never calls back
      const send = sendRange(fake.request, handle, 0, bytes.length, {
        pool: new ChunkPool(2, 1_000),
        fileName: "data.bin",
        onMoved: () => {},
      });
      while (fake.writes.length < 2) await new Promise((resolve) => setImmediate(resolve));
      send.stop();
      await send.done;
      expect(fake.writes.length).toBe(2);
      expect(fake.ended()).toBe(false);
    } finally {
      await handle.close();
    }
  });
});

describe("ChunkPool", () => {
  it("sizes its buffers to the longest range it will send, up to the largest chunk", () => {
    expect(new ChunkPool(2, 100, 1024).take().length).toBe(1024);
    expect(new ChunkPool(2, 100, 10 * MAX_CHUNK_BYTES).take().length).toBe(MAX_CHUNK_BYTES);
    expect(new ChunkPool(2, 100).take().length).toBe(MAX_CHUNK_BYTES);
  });

  it("grows chunks while the link takes them quickly and shrinks them when it does not", () => {
    const pool = new ChunkPool(2, 100);
    expect(pool.chunkBytes).toBe(MIN_CHUNK_BYTES);
    for (let i = 0; i < 10; i++) pool.taken(5);
    expect(pool.chunkBytes).toBe(MAX_CHUNK_BYTES);
    pool.taken(150); // between quick and slow: unchanged
    expect(pool.chunkBytes).toBe(MAX_CHUNK_BYTES);
    pool.taken(250);
    expect(pool.chunkBytes).toBe(MAX_CHUNK_BYTES / 2);
    for (let i = 0; i < 10; i++) pool.taken(10_000);
    expect(pool.chunkBytes).toBe(MIN_CHUNK_BYTES);
  });

  it("hands an upload's idle full-size buffers to the next upload, and never a small one", () => {
    const first = new ChunkPool(2, 100);
    const full = first.take();
    first.give(full);
    first.release();
    expect(new ChunkPool(2, 100).take()).toBe(full);
    const small = new ChunkPool(2, 100, 1024);
    const tiny = small.take();
    small.give(tiny);
    small.release();
    expect(new ChunkPool(2, 100, 1024).take() === tiny).toBe(false);
    expect(new ChunkPool(2, 100).take() === tiny).toBe(false);
  });

  it("holds its buffers in memory V8 does not count as garbage pressure, so an upload starts no full collection", () => {
    const external = process.memoryUsage().external;
    const pool = new ChunkPool(6, 50);
    const buffers = Array.from({ length: 6 }, () => pool.take());
    // Six 2 MiB buffers; a plain Buffer.allocUnsafeSlow would add 12 MiB here.
    expect(process.memoryUsage().external - external).toBeLessThan(MAX_CHUNK_BYTES);
    expect(buffers.every((buffer) => buffer.length === MAX_CHUNK_BYTES)).toBe(true);
    // Buffers of their own: no two share memory.
    expect(new Set(buffers.map((buffer) => buffer.buffer)).size).toBe(6);
  });

  it("keeps at most `keep` idle buffers", () => {
    const pool = new ChunkPool(1, 100);
    const a = pool.take();
    const b = pool.take();
    // Identity by ===: a failing or negated toBe would compare 2 MiB of shared memory element by element.
    expect(a === b).toBe(false);
    pool.give(a);
    pool.give(b);
    expect(pool.take() === a).toBe(true);
    expect(pool.take() === b).toBe(false);
  });
});
