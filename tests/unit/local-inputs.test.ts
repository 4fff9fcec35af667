import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { AccessDeniedError, NotFoundError } from "../../src/errors.js";
import { createFal, type Fal } from "../../src/fal/index.js";
import { readPolicyFor } from "../../src/files/access.js";
import { localReferenceKind, uploadLocalInputs } from "../../src/files/local-inputs.js";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { TEST_KEY } from "../helpers/harness.js";

let fake: FakeFal;
let fal: Fal;
let base: string;
let home: string;
let allowed: string;
const photo = "a product photo, really".repeat(50);

beforeAll(async () => {
  fake = await startFakeFal();
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-inputs-")));
  home = path.join(base, "home");
  allowed = path.join(home, "media");
  await fs.mkdir(path.join(allowed, ".private"), { recursive: true });
  await fs.mkdir(path.join(base, "elsewhere"));
  await fs.writeFile(path.join(allowed, "photo.png"), photo);
  await fs.writeFile(path.join(allowed, "voice.wav"), "RIFF....WAVE");
  await fs.writeFile(path.join(allowed, ".private", "key.png"), "x");
  await fs.writeFile(path.join(base, "elsewhere", "other.png"), "y");
  await fs.symlink(path.join(allowed, "photo.png"), path.join(allowed, "same-photo.png"));
  const config = loadConfig({
    env: { FAL_KEY: TEST_KEY, FAL_MCP_BASE_URL: fake.url, FAL_MCP_OUTPUT_DIR: path.join(base, "out") },
    homeDir: home,
  });
  fal = createFal({ config });
});

afterAll(async () => {
  await fake.close();
  await fs.rm(base, { recursive: true, force: true });
});

// reset() forgets requests (uploads stay): each test asserts on its own uploads by URL.
beforeEach(() => fake.reset());

const options = () => ({
  fal,
  policy: readPolicyFor({ ...fal.config, allowedDirs: [allowed] }, undefined),
  signal: new AbortController().signal,
});
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("localReferenceKind", () => {
  it("recognises absolute, ~/ and file:// references and nothing else", () => {
    expect(localReferenceKind("/Users/me/a.png")).toBe("path");
    expect(localReferenceKind("~/a.png")).toBe("path");
    expect(localReferenceKind("file:///tmp/a.png")).toBe("file-url");
    expect(localReferenceKind("https://example.com/a.png")).toBeUndefined();
    expect(localReferenceKind("data:image/png;base64,AAAA")).toBeUndefined();
    expect(localReferenceKind("a cat on a sofa")).toBeUndefined();
    expect(localReferenceKind("relative/a.png")).toBeUndefined();
    expect(localReferenceKind("/a\nmultiline prompt")).toBeUndefined();
    expect(localReferenceKind("")).toBeUndefined();
  });
});

describe("uploadLocalInputs", () => {
  it("uploads a file referenced several ways (path, ~, file://, symlink) once, and replaces every reference", async () => {
    const file = path.join(allowed, "photo.png");
    const input = Object.freeze({
      image_url: file,
      reference_images: Object.freeze([
        file,
        "~/media/photo.png",
        Object.freeze({ url: pathToFileURL(file).href }),
      ]),
      mask_url: path.join(allowed, "same-photo.png"),
      prompt: "make it pop",
    });
    const before = JSON.stringify(input);
    const result = await uploadLocalInputs(input, options());

    expect(fake.countRequests({ host: "rest.fal.ai", path: "/storage/upload/initiate" })).toBe(1);
    expect(result.uploads).toHaveLength(1);
    const fileUrl = result.uploads[0]!.url;
    const record = fake.uploads.get(fileUrl)!;
    expect(record.sha256).toBe(sha256(photo));
    expect(record.size).toBe(photo.length);
    expect(record.contentType).toBe("image/png");
    expect(record.fileName).toBe("photo.png");
    expect(result.uploads).toEqual([
      { path: file, url: fileUrl, size: photo.length, content_type: "image/png" },
    ]);
    expect(result.input).toEqual({
      image_url: fileUrl,
      reference_images: [fileUrl, fileUrl, { url: fileUrl }],
      mask_url: fileUrl,
      prompt: "make it pop",
    });
    expect(JSON.stringify(input)).toBe(before);
    expect(fake.authLeaks).toBe(0);
  });

  it("uploads two different files once each and keeps URLs, data URIs and path-like words as written", async () => {
    const input = {
      image_url: path.join(allowed, "photo.png"),
      audio_url: path.join(allowed, "voice.wav"),
      style_url: "https://example.com/style.png",
      inline: "data:image/png;base64,iVBORw0KGgo=",
      prompt: "/imagine a cat",
      folder: allowed,
      missing: path.join(allowed, "not-a-file.png"),
      count: 3,
      enabled: true,
      nothing: null,
    };
    const result = await uploadLocalInputs(input, options());
    expect(fake.countRequests({ host: "rest.fal.ai", path: "/storage/upload/initiate" })).toBe(2);
    expect(result.uploads.map((upload) => fake.uploads.get(upload.url)?.sha256)).toEqual([
      sha256(photo),
      sha256("RIFF....WAVE"),
    ]);
    expect(result.uploads.map((upload) => path.basename(upload.path))).toEqual(["photo.png", "voice.wav"]);
    expect(result.uploads.map((upload) => upload.content_type)).toEqual(["image/png", "audio/wav"]);
    expect(result.input).toEqual({
      ...input,
      image_url: result.uploads[0]!.url,
      audio_url: result.uploads[1]!.url,
    });
  });

  it("sends nothing when there is no local file, and returns an equal copy", async () => {
    const input = {
      prompt: "a cat",
      image_size: { width: 512, height: 512 },
      loras: [{ path: "https://x/y.safetensors", scale: 1 }],
    };
    const result = await uploadLocalInputs(input, options());
    expect(result).toEqual({ input, uploads: [] });
    expect(result.input).not.toBe(input);
    expect(result.input.image_size).not.toBe(input.image_size);
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses every file before uploading any: a hidden or outside file means nothing is sent", async () => {
    const hidden = uploadLocalInputs(
      { a: path.join(allowed, "photo.png"), b: path.join(allowed, ".private", "key.png") },
      options(),
    );
    await expect(hidden).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(hidden).rejects.toThrow(/hidden/);
    // An explicit file:// reference outside the readable folders is refused...
    const outside = uploadLocalInputs(
      { a: [path.join(allowed, "photo.png"), pathToFileURL(path.join(base, "elsewhere", "other.png")).href] },
      options(),
    );
    await expect(outside).rejects.toThrow(/outside the readable folders/);
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses a file path outside the readable folders with the same answer whether a file exists there or not", async () => {
    const exists = path.join(base, "elsewhere", "other.png");
    const missing = path.join(base, "elsewhere", "none.png");
    const answer = (input: Record<string, unknown>) =>
      uploadLocalInputs(input, options()).then(
        () => "accepted",
        (e: Error) => e.message,
      );
    const a = await answer({ a: exists });
    const b = await answer({ a: missing });
    expect(a).toMatch(/outside the readable folders/);
    expect(a.replace(exists, "X")).toBe(b.replace(missing, "X"));
    // "/etc/passwd" exists, "/etc/no-such-file" does not: same answer.
    const passwd = await answer({ a: "/etc/passwd" });
    const none = await answer({ a: "/etc/no-such-file" });
    expect(passwd.replace("/etc/passwd", "X")).toBe(none.replace("/etc/no-such-file", "X"));
    expect(fake.requests).toHaveLength(0);
  });

  it("keeps prose that starts with a slash as text, with a notice", async () => {
    const notices: string[] = [];
    const result = await uploadLocalInputs(
      { prompt: "/imagine a cat on the moon" },
      { ...options(), onNotice: (message) => notices.push(message) },
    );
    expect(result).toEqual({ input: { prompt: "/imagine a cat on the moon" }, uploads: [] });
    expect(notices).toHaveLength(1);
  });

  it("requires a file:// URL to resolve, unlike a string that only looks like a path", async () => {
    const missing = uploadLocalInputs(
      { image_url: pathToFileURL(path.join(allowed, "gone.png")).href },
      options(),
    );
    await expect(missing).rejects.toBeInstanceOf(NotFoundError);
    expect(fake.requests).toHaveLength(0);
  });

  it("drops __proto__ keys and never writes to a prototype", async () => {
    const input = JSON.parse(
      `{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "nested": {"__proto__": {"polluted": true}, "x": 1}}`,
    ) as Record<string, unknown>;
    const result = await uploadLocalInputs(input, options());
    expect(Object.getPrototypeOf(result.input)).toBe(Object.prototype);
    expect(Object.keys(result.input)).toEqual(["constructor", "nested"]);
    expect(result.input.nested).toEqual({ x: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((result.input as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("reports progress per file", async () => {
    const messages: string[] = [];
    await uploadLocalInputs(
      { a: path.join(allowed, "photo.png"), b: path.join(allowed, "voice.wav") },
      { ...options(), onProgress: (message) => messages.push(message) },
    );
    expect(messages).toEqual([
      expect.stringMatching(/^Uploading photo\.png .*\(file 1 of 2\)$/),
      expect.stringMatching(/^Uploading voice\.wav .*\(file 2 of 2\)$/),
    ]);
  });
});
