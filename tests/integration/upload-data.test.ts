import fs from "node:fs/promises";
import os from "node:os";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Fal } from "../../src/fal/index.js";
import { prepareUpload } from "../../src/files/prepared-upload.js";
import { redirectUrl } from "../../src/fal/redirect.js";
import { MAX_DATA_BYTES, uploadData } from "../../src/files/data-upload.js";
import type { FakeFal } from "../fake-fal/server.js";
import { startFalOnFake } from "../helpers/fal-on-fake.js";
import { startHarness, textOf, type Harness } from "../helpers/harness.js";

/** upload_file's two client-side paths: base64 `data`, and a prepared target the client PUTs to. */

const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
let fake: FakeFal;
let fal: Fal;
let onFake: Awaited<ReturnType<typeof startFalOnFake>>;

beforeAll(async () => {
  onFake = await startFalOnFake();
  ({ fake, fal } = onFake);
});

afterAll(() => onFake?.close());

beforeEach(() => fake.reset());

async function download(url: string): Promise<Buffer> {
  const response = await fetch(redirectUrl(url, fake.url));
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe("uploadData", () => {
  it("uploads decoded base64 with the type sniffed from the bytes and a name from the type", async () => {
    const result = await uploadData(PNG.toString("base64"), {
      fal,
      signal: new AbortController().signal,
      maxBytes: fal.config.maxUploadBytes,
    });
    expect(result).toMatchObject({
      content_type: "image/png",
      file_name: "upload.png",
      size: PNG.length,
      content_type_source: "detected",
    });
    expect(fake.uploads.get(result.url)).toMatchObject({ size: PNG.length, contentType: "image/png" });
    expect(await download(result.url)).toEqual(PNG);
    expect(fake.authLeaks).toBe(0);
  });

  it("keeps the caller's name and type, and leaves no temporary file behind", async () => {
    const before = (await fs.readdir(os.tmpdir())).filter((name) => name.startsWith("fal-mcp-data-"));
    const result = await uploadData(`data:image/png;base64,${PNG.toString("base64")}`, {
      fal,
      signal: new AbortController().signal,
      maxBytes: fal.config.maxUploadBytes,
      fileName: "../../etc/fox.png",
      contentType: "image/x-fox",
    });
    expect(result).toMatchObject({
      file_name: "fox.png",
      content_type: "image/x-fox",
      content_type_source: "given",
    });
    const after = (await fs.readdir(os.tmpdir())).filter((name) => name.startsWith("fal-mcp-data-"));
    expect(after.sort()).toEqual(before.sort());
  });

  it("refuses bytes over the configured upload limit before sending anything", async () => {
    await expect(
      uploadData(Buffer.alloc(100).toString("base64"), {
        fal,
        signal: new AbortController().signal,
        maxBytes: 99,
      }),
    ).rejects.toThrow(/above the 99 B limit/);
    expect(fake.countRequests()).toBe(0);
  });
});

describe("prepareUpload", () => {
  it("hands out fal's signed target; a PUT without Authorization then puts the file on the CDN", async () => {
    const prepared = await prepareUpload(fal, {
      fileName: "clip.png",
      fileSize: PNG.length,
      maxBytes: fal.config.maxUploadBytes,
    });
    expect(prepared).toMatchObject({
      method: "PUT",
      headers: { "Content-Type": "image/png" },
      file_name: "clip.png",
      content_type: "image/png",
      file_size: PNG.length,
    });
    expect(new URL(prepared.upload_url).hostname).toMatch(/\.fal\.media$/);
    expect(prepared.file_url).toMatch(/^https:\/\/v3\.fal\.media\/files\//);
    expect(fake.uploads.has(prepared.file_url)).toBe(false);

    // What the client does with it: one PUT of the raw bytes, no key.
    const put = await fetch(redirectUrl(prepared.upload_url, fake.url), {
      method: "PUT",
      headers: prepared.headers,
      body: PNG,
    });
    expect(put.ok).toBe(true);
    expect(fake.uploads.get(prepared.file_url)).toMatchObject({ size: PNG.length, contentType: "image/png" });
    expect(await download(prepared.file_url)).toEqual(PNG);
    expect(fake.authLeaks).toBe(0);
  });

  it("takes 1 byte to 90 MiB, and nothing is asked of fal outside that", async () => {
    for (const fileSize of [0, -1, 1.5, 90 * 1024 * 1024 + 1]) {
      await expect(
        prepareUpload(fal, { fileName: "a.bin", fileSize, maxBytes: fal.config.maxUploadBytes }),
        String(fileSize),
      ).rejects.toThrow(/file_size must be a whole number of bytes from 1 to/);
    }
    expect(fake.countRequests()).toBe(0);
    await expect(
      prepareUpload(fal, {
        fileName: "a.bin",
        fileSize: 90 * 1024 * 1024,
        maxBytes: fal.config.maxUploadBytes,
      }),
    ).resolves.toMatchObject({ file_size: 90 * 1024 * 1024, content_type: "application/octet-stream" });
  });

  it("refuses a signed target that is not on fal's CDN", async () => {
    for (const upload_url of [
      "https://evil.example/upload/x?sig=1",
      "http://v3.fal.media/upload/x",
      "nonsense",
    ]) {
      fake.inject({
        host: "rest.fal.ai",
        path: "/storage/upload/initiate",
        times: 1,
        fault: {
          kind: "status",
          status: 200,
          body: { upload_url, file_url: "https://v3.fal.media/files/x" },
        },
      });
      await expect(
        prepareUpload(fal, { fileName: "a.png", fileSize: 10, maxBytes: fal.config.maxUploadBytes }),
        upload_url,
      ).rejects.toThrow(/not fal's CDN|not a URL/);
    }
  });
});

describe("upload_file's data and prepare_upload", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ baseUrl: fake.url });
  });
  afterAll(async () => {
    await harness.close();
  });

  it("uploads base64 data and answers with fal's cdn_url", async () => {
    const result = await harness.call("upload_file", { data: PNG.toString("base64") });
    expect(result.isError, textOf(result)).toBeFalsy();
    const out = result.structuredContent as {
      cdn_url: string;
      url: string;
      content_type: string;
      size: number;
    };
    expect(out).toMatchObject({ content_type: "image/png", size: PNG.length });
    expect(out.cdn_url).toBe(out.url);
    expect(await download(out.cdn_url)).toEqual(PNG);
    expect(textOf(result)).toMatch(/type read from the bytes/);
  });

  it("refuses broken or oversized data by name, sending nothing", async () => {
    for (const data of ["not*base64", "aGVsb", Buffer.alloc(MAX_DATA_BYTES + 10).toString("base64")]) {
      const result = await harness.call("upload_file", { data });
      expect(result.isError, data.slice(0, 20)).toBe(true);
      expect(textOf(result)).toMatch(/data|base64|limit/);
    }
    expect(fake.countRequests()).toBe(0);
  });

  it("prepares an upload: upload_url and file_url, then the client's PUT without a key makes the file", async () => {
    const result = await harness.call("upload_file", {
      prepare_upload: true,
      file_size: PNG.length,
      file_name: "shot.png",
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    const out = result.structuredContent as {
      upload_url: string;
      file_url: string;
      method: string;
      headers: Record<string, string>;
      next_step: string;
    };
    expect(out).toMatchObject({ method: "PUT", headers: { "Content-Type": "image/png" } });
    expect(out.next_step).toMatch(/no Authorization header/);
    expect(fake.countRequests({ method: "PUT" })).toBe(0);
    const put = await fetch(redirectUrl(out.upload_url, fake.url), {
      method: "PUT",
      headers: out.headers,
      body: PNG,
    });
    expect(put.ok).toBe(true);
    expect(await download(out.file_url)).toEqual(PNG);
  });

  it("asks for file_size and file_name with prepare_upload, and file_size only with it", async () => {
    const missing = await harness.call("upload_file", { prepare_upload: true, file_name: "a.mp4" });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/file_size/);
    const noName = await harness.call("upload_file", { prepare_upload: true, file_size: 10 });
    expect(textOf(noName)).toMatch(/file_name/);
    const stray = await harness.call("upload_file", {
      url: "https://v3.fal.media/files/a.png",
      file_size: 10,
    });
    expect(textOf(stray)).toMatch(/file_size is only used with prepare_upload/);
    const tooBig = await harness.call("upload_file", {
      prepare_upload: true,
      file_size: 90 * 1024 * 1024 + 1,
      file_name: "big.mp4",
    });
    expect(tooBig.isError).toBe(true);
    expect(textOf(tooBig)).toMatch(/file_size/);
    expect(fake.countRequests()).toBe(0);
  });
});
