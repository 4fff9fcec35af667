import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { DownloadError, downloadToFile, extensionFor, sanitizeName } from "../../src/files/download.js";
import { isInside } from "../../src/util/paths.js";
import { createFal, type Fal } from "../../src/fal/index.js";
import { compactOutput, extractMedia, imagePreview } from "../../src/files/media.js";
import { outputBaseName, recordEntries, saveFiles, unsavedFiles } from "../../src/files/results.js";

// A local file server with a few misbehaving routes.
const BIG = Buffer.alloc(300_000, 7);
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(2000, 1),
]);
let server: http.Server;
let base: string;
const openSockets = new Set<import("node:net").Socket>();

beforeAll(async () => {
  server = http.createServer((request, response) => {
    const url = request.url ?? "/";
    if (url === "/image.png") {
      response.writeHead(200, { "content-type": "image/png", "content-length": PNG.length });
      response.end(PNG);
    } else if (url === "/big.bin") {
      // Chunked, no Content-Length: only counting the bytes can enforce the cap.
      response.writeHead(200, { "content-type": "application/octet-stream" });
      let sent = 0;
      const pump = () => {
        while (sent < BIG.length) {
          const chunk = BIG.subarray(sent, sent + 16_384);
          sent += chunk.length;
          if (!response.write(chunk)) return response.once("drain", pump);
        }
        response.end();
      };
      pump();
    } else if (url === "/declared-big.mp4") {
      response.writeHead(200, { "content-type": "video/mp4", "content-length": 10_000_000 });
      response.write(Buffer.alloc(10));
      // never finishes: the client must give up on Content-Length alone.
    } else if (url === "/stall.mp4") {
      response.writeHead(200, { "content-type": "video/mp4", "content-length": 1000 });
      response.write(Buffer.alloc(100));
      // then nothing
    } else if (url === "/gone.png") {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("expired");
    } else if (url.startsWith("/untyped/")) {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      response.end(Buffer.from("glTF-bytes"));
    } else {
      response.writeHead(500);
      response.end();
    }
  });
  server.on("connection", (socket) => {
    openSockets.add(socket);
    socket.on("close", () => openSockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of openSockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let dir: string;
let fal: Fal;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-results-"));
  const config = loadConfig({
    env: {
      FAL_KEY: "test-key",
      FAL_MCP_OUTPUT_DIR: path.join(dir, "out"),
      FAL_MCP_STATE_DIR: path.join(dir, "state"),
      FAL_MCP_MAX_DOWNLOAD_BYTES: "200000",
      FAL_MCP_STALL_TIMEOUT_MS: "300",
      // The media server of these tests is on loopback, a private address.
      FAL_MCP_ALLOW_PRIVATE_URLS: "1",
    },
    homeDir: dir,
  });
  fal = createFal({ config });
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("extractMedia", () => {
  it("finds fal's file objects, string media URLs and data URIs, once each, with their place in the output", () => {
    const output = {
      images: [
        { url: "https://v3.fal.media/files/a/1.png", width: 1024, height: 768, content_type: "image/png" },
        { url: "https://v3.fal.media/files/a/2.jpeg", width: 1024, height: 768 },
      ],
      video: {
        url: "https://v3.fal.media/files/b/output",
        content_type: "video/mp4",
        file_name: "output.mp4",
        file_size: 5000,
      },
      diffusers_lora_file: {
        url: "https://v3.fal.media/files/c/w.safetensors",
        content_type: "application/octet-stream",
        file_name: "w.safetensors",
        file_size: 12,
      },
      thumbnail_url: "https://v3.fal.media/files/d/thumb.webp",
      again: { url: "https://v3.fal.media/files/a/1.png", content_type: "image/png" },
      inline: { url: "data:image/png;base64,iVBORw0KGgo=" },
      prompt: "https://example.com/not-media",
      seed: 42,
      page: { url: "https://fal.ai/models/x" },
    };
    const found = extractMedia(output);
    expect(found.map((file) => [file.field, file.url, file.contentType, file.size])).toEqual([
      ["images[0]", "https://v3.fal.media/files/a/1.png", "image/png", undefined],
      ["images[1]", "https://v3.fal.media/files/a/2.jpeg", "image/jpeg", undefined],
      ["video", "https://v3.fal.media/files/b/output", "video/mp4", 5000],
      ["diffusers_lora_file", "https://v3.fal.media/files/c/w.safetensors", "application/octet-stream", 12],
      ["thumbnail_url", "https://v3.fal.media/files/d/thumb.webp", "image/webp", undefined],
      ["inline", "data:image/png;base64,iVBORw0KGgo=", "image/png", undefined],
    ]);
  });

  it("returns nothing for text-only outputs", () => {
    expect(extractMedia({ text: "hello", chunks: [{ timestamp: [0, 1], text: "hello" }] })).toEqual([]);
    expect(extractMedia(null)).toEqual([]);
  });
});

describe("names and paths", () => {
  it("builds date_endpoint_request_n names with only safe characters", () => {
    const name = outputBaseName({
      date: new Date("2026-03-04T12:00:00Z"),
      endpointId: "fal-ai/flux/dev",
      requestId: "764cabcf-b745-4b3e",
      index: 2,
    });
    expect(name).toBe("2026-03-04_fal-ai-flux-dev_764cabcf_2");
    expect(
      outputBaseName({
        date: new Date("2026-03-04T00:00:00Z"),
        endpointId: "../../x",
        requestId: "../..",
        index: 1,
      }),
    ).not.toContain("/");
    expect(sanitizeName("../../etc/passwd")).toBe("etc-passwd");
    // A key-shaped id, or one that carries the key, is named by a hash: no part of it is a file name.
    const secret = "0123456789abcdef0123456789abcdef";
    for (const requestId of [`11111111-2222-3333-4444-555555555555:${secret}`, secret]) {
      const hashed = outputBaseName({
        date: new Date("2026-03-04T00:00:00Z"),
        endpointId: "fal-ai/x",
        requestId,
        index: 1,
        leaks: (text) => text.includes(secret),
      });
      expect(hashed).toMatch(/^2026-03-04_fal-ai-x_h[0-9a-f]{7}_1$/);
      expect(hashed).not.toContain(secret.slice(0, 8));
      expect(hashed).not.toContain("11111111");
    }
  });

  it("picks extensions from the content type, else the URL, else bin", () => {
    expect(extensionFor("image/png", "https://x/y")).toBe("png");
    expect(extensionFor("image/jpeg; charset=binary", "https://x/y")).toBe("jpg");
    expect(extensionFor("audio/mpeg", "https://x/y")).toBe("mp3");
    expect(extensionFor("video/mp4", "https://x/y.webm")).toBe("mp4");
    expect(extensionFor("application/octet-stream", "https://x/w.safetensors?sig=1")).toBe("safetensors");
    expect(extensionFor(undefined, "https://x/noext")).toBe("bin");
  });

  it("isInside rejects the folder itself, parents and siblings", () => {
    expect(isInside("/a/out", "/a/out/x.png")).toBe(true);
    expect(isInside("/a/out", "/a/out")).toBe(false);
    expect(isInside("/a/out", "/a/out/../secret")).toBe(false);
    expect(isInside("/a/out", "/a/outside/x")).toBe(false);
  });
});

describe("downloadToFile", () => {
  // The test server is on loopback: private addresses allowed, as FAL_MCP_ALLOW_PRIVATE_URLS=1 would.
  const options = () => ({
    network: { policy: { allowPrivate: true } },
    directory: path.join(dir, "out"),
    maxBytes: 200_000,
    stallTimeoutMs: 300,
    totalTimeoutMs: 10_000,
  });

  it("streams a file to disk under a fresh name and never overwrites an existing file", async () => {
    const first = await downloadToFile({ ...options(), url: `${base}/image.png`, baseName: "shot" });
    expect(first).toMatchObject({
      path: path.join(dir, "out", "shot.png"),
      size: PNG.length,
      contentType: "image/png",
    });
    expect(
      createHash("sha256")
        .update(await fs.readFile(first.path))
        .digest("hex"),
    ).toBe(createHash("sha256").update(PNG).digest("hex"));
    const second = await downloadToFile({ ...options(), url: `${base}/image.png`, baseName: "shot" });
    expect(second.path).toBe(path.join(dir, "out", "shot-2.png"));
    expect(await fs.readdir(path.join(dir, "out"))).toEqual(["shot-2.png", "shot.png"]);
  });

  it("uses the model's content type when the server sends a generic one", async () => {
    const saved = await downloadToFile({
      ...options(),
      url: `${base}/untyped/model`,
      baseName: "mesh",
      contentTypeHint: "model/gltf-binary",
    });
    expect(path.basename(saved.path)).toBe("mesh.glb");
  });

  it("refuses a declared size above the cap before reading the body", async () => {
    await expect(
      downloadToFile({ ...options(), url: `${base}/declared-big.mp4`, baseName: "v" }),
    ).rejects.toThrow(/10000000 bytes, more than the limit of 200000/);
    expect(await fs.readdir(path.join(dir, "out"))).toEqual([]);
  });

  it("counts bytes when there is no Content-Length and stops at the cap, leaving no partial file", async () => {
    await expect(downloadToFile({ ...options(), url: `${base}/big.bin`, baseName: "b" })).rejects.toThrow(
      /larger than the limit of 200000/,
    );
    expect(await fs.readdir(path.join(dir, "out"))).toEqual([]);
  });

  it("aborts a stalled download after the stall timeout", async () => {
    const started = Date.now();
    const error = await downloadToFile({ ...options(), url: `${base}/stall.mp4`, baseName: "s" }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DownloadError);
    expect(String(error)).toMatch(/stalled/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await fs.readdir(path.join(dir, "out"))).toEqual([]);
  });

  it("reports HTTP errors and refuses non-http URLs", async () => {
    await expect(downloadToFile({ ...options(), url: `${base}/gone.png`, baseName: "g" })).rejects.toThrow(
      /HTTP 404 \(the file may have expired\)/,
    );
    await expect(downloadToFile({ ...options(), url: "file:///etc/passwd", baseName: "p" })).rejects.toThrow(
      /only http\(s\) URLs/,
    );
  });
});

describe("saveFiles", () => {
  it("saves what it can and reports each failure next to its URL", async () => {
    const refs = extractMedia({
      images: [
        { url: `${base}/image.png`, content_type: "image/png" },
        { url: `${base}/gone.png`, content_type: "image/png" },
      ],
      inline: { url: `data:image/png;base64,${PNG.toString("base64")}` },
    });
    const files = await saveFiles({
      fal,
      endpointId: "fal-ai/flux/dev",
      requestId: "abcdef123456",
      files: refs,
      date: new Date("2026-01-02T03:04:05Z"),
    });
    expect(
      files.map((file) => [file.field, file.path && path.basename(file.path), file.size, file.error]),
    ).toEqual([
      ["images[0]", "2026-01-02_fal-ai-flux-dev_abcdef12_1.png", PNG.length, null],
      ["images[1]", null, null, "the server answered HTTP 404 (the file may have expired)"],
      ["inline", "2026-01-02_fal-ai-flux-dev_abcdef12_3.png", PNG.length, null],
    ]);
    for (const file of files) if (file.path) expect(isInside(fal.config.outputDir, file.path)).toBe(true);

    // A second call reuses the saved copies instead of downloading again.
    // The record keeps data: URIs only as a marker, never their bytes; reuse still matches them.
    const previous = recordEntries(files);
    expect(JSON.stringify(previous)).not.toContain(PNG.toString("base64").slice(0, 40));
    const again = await saveFiles({
      fal,
      endpointId: "fal-ai/flux/dev",
      requestId: "abcdef123456",
      files: refs,
      previous,
    });
    expect(again.map((file) => file.path)).toEqual(files.map((file) => file.path));
    expect(await fs.readdir(fal.config.outputDir)).toHaveLength(2);
  });
});

describe("imagePreview", () => {
  it("inlines the first image within the budget and nothing above it", async () => {
    const refs = extractMedia({
      video: { url: `${base}/stall.mp4`, content_type: "video/mp4" },
      images: [{ url: `${base}/image.png`, content_type: "image/png" }],
    });
    const files = await saveFiles({ fal, endpointId: "a/b", requestId: "r1", files: refs.slice(1) });
    const preview = await imagePreview({ fal, files, budgetBytes: 10_000 });
    expect(preview).toEqual({
      data: PNG.toString("base64"),
      mimeType: "image/png",
      url: `${base}/image.png`,
    });
    expect(await imagePreview({ fal, files, budgetBytes: 1000 })).toBeUndefined();
    // Never a video, even when it is the only file.
    expect(
      await imagePreview({ fal, files: unsavedFiles(refs.slice(0, 1)), budgetBytes: 10_000_000 }),
    ).toBeUndefined();
    // Without a saved copy it is fetched into memory, under the same cap.
    expect((await imagePreview({ fal, files: unsavedFiles(refs.slice(1)), budgetBytes: 10_000 }))?.data).toBe(
      PNG.toString("base64"),
    );
  });
});

describe("compactOutput", () => {
  it("shortens long data URIs and leaves everything else alone", () => {
    const uri = `data:image/png;base64,${"A".repeat(1000)}`;
    const compact = compactOutput({ images: [{ url: uri }], seed: 1, prompt: "p" }, [
      { url: uri, field: "images[0]", content_type: "image/png", size: 750, path: "/out/x.png", error: null },
    ]);
    expect(compact).toEqual({
      images: [{ url: "<data URI, image/png, 1022 characters; saved to /out/x.png>" }],
      seed: 1,
      prompt: "p",
    });
  });
});
