import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, textOf, type Harness } from "../helpers/harness.js";

const MiB = 1024 * 1024;
let fake: FakeFal;
let harness: Harness;
let home: string;

interface UploadOutput {
  url: string;
  file_name: string;
  content_type: string;
  size: number | null;
}

/** Writes `size` bytes of random-looking data (a repeated random MiB) and returns its sha256. */
async function writeFile(file: string, size: number): Promise<string> {
  const block = randomBytes(Math.min(size, MiB));
  const hash = createHash("sha256");
  const handle = await fs.open(file, "w");
  try {
    for (let written = 0; written < size;) {
      const chunk = block.subarray(0, Math.min(block.length, size - written));
      await handle.write(chunk);
      hash.update(chunk);
      written += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

function output(result: Awaited<ReturnType<Harness["call"]>>): UploadOutput {
  expect(result.isError, textOf(result)).toBeFalsy();
  return result.structuredContent as UploadOutput;
}

beforeAll(async () => {
  fake = await startFakeFal();
  // The fake of fal lives on loopback, so re-hosting its files needs private URLs allowed.
  harness = await startHarness({
    baseUrl: fake.url,
    // The user allowed their home folder (the default is the output folder only).
    env: { FAL_MCP_STALL_TIMEOUT_MS: "5000", FAL_MCP_ALLOW_PRIVATE_URLS: "1", FAL_MCP_ALLOWED_DIRS: "~" },
  });
  // The tool reads the home folder from os.homedir() ($HOME).
  home = await fs.realpath(path.join(harness.tempDir, "home"));
  vi.stubEnv("HOME", home);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await harness.close();
  await fake.close();
});

beforeEach(() => fake.reset());

describe("upload_file with a path", () => {
  it("uploads a 1 KB file byte for byte with one initiate and one PUT, without sending the key to the CDN", async () => {
    const file = path.join(home, "photo.png");
    const sha = await writeFile(file, 1024);
    const progress: Progress[] = [];
    const result = await harness.call("upload_file", { path: file }, { onprogress: (p) => progress.push(p) });
    const out = output(result);
    expect(out).toMatchObject({ file_name: "photo.png", content_type: "image/png", size: 1024 });
    const record = fake.uploads.get(out.url);
    expect(record).toMatchObject({ size: 1024, sha256: sha, contentType: "image/png", multipart: false });
    expect(
      fake.countRequests({ host: "rest.fal.ai", method: "POST", path: "/storage/upload/initiate" }),
    ).toBe(1);
    expect(fake.countRequests({ method: "PUT" })).toBe(1);
    expect(fake.requests.find((request) => request.method === "PUT")?.hadAuth).toBe(false);
    expect(fake.requests.find((request) => request.host === "rest.fal.ai")?.keyOk).toBe(true);
    expect(fake.authLeaks).toBe(0);
    expect(textOf(result)).toContain(out.url);
    expect(textOf(result)).toContain("public");
    expect(progress.at(-1)).toMatchObject({ progress: 1, total: 1 });
  });

  it("honours file_name and content_type, and ~/ paths", async () => {
    await writeFile(path.join(home, "raw.bin"), 300);
    const out = output(
      await harness.call("upload_file", {
        path: "~/raw.bin",
        file_name: "voice.wav",
        content_type: "audio/x-wav",
      }),
    );
    expect(out).toMatchObject({ file_name: "voice.wav", content_type: "audio/x-wav", size: 300 });
    expect(out.url).toMatch(/\/voice\.wav$/);
    expect(fake.uploads.get(out.url)).toMatchObject({ contentType: "audio/x-wav", fileName: "voice.wav" });
  });

  it("uploads a 300 MB file in 29 parts of 10 MiB, checked by sha256, with progress per part", async () => {
    const file = path.join(home, "clip.mp4");
    const size = 300 * 1000 * 1000;
    const sha = await writeFile(file, size);
    const progress: Progress[] = [];
    const out = output(
      await harness.call(
        "upload_file",
        { path: file },
        { onprogress: (p) => progress.push(p), timeout: 120_000 },
      ),
    );
    expect(out).toMatchObject({ file_name: "clip.mp4", content_type: "video/mp4", size });
    expect(fake.uploads.get(out.url)).toMatchObject({ size, sha256: sha, multipart: true, parts: 29 });
    expect(fake.countRequests({ host: "rest.fal.ai", path: "/storage/upload/initiate-multipart" })).toBe(1);
    expect(fake.countRequests({ method: "PUT" })).toBe(29);
    expect(fake.countRequests({ method: "POST", path: /\/complete$/ })).toBe(1);
    expect(
      fake.requests.filter((request) => request.method === "PUT").every((request) => !request.hadAuth),
    ).toBe(true);
    // one before the first part, then one per part; always increasing, total = parts
    expect(progress.map((p) => p.progress)).toEqual(Array.from({ length: 30 }, (_, index) => index));
    expect(progress.every((p) => p.total === 29)).toBe(true);
    expect(progress.at(-1)?.message).toContain("part 29 of 29");
    await fs.rm(file);
  }, 120_000);

  describe("a multipart upload whose part or complete call fails", () => {
    let file: string;
    let sha: string;
    const size = 91 * MiB;
    beforeAll(async () => {
      file = path.join(home, "scan.tiff");
      sha = await writeFile(file, size);
    });
    afterAll(async () => {
      await fs.rm(file, { force: true });
    });

    it("retries a part that fails once and still uploads the right bytes", async () => {
      fake.inject({
        host: "v3.fal.media",
        method: "PUT",
        path: /^\/upload\/[0-9a-f]+\/3$/,
        times: 1,
        fault: { kind: "status", status: 503 },
      });
      fake.inject({
        host: "v3.fal.media",
        method: "PUT",
        path: /^\/upload\/[0-9a-f]+\/5$/,
        times: 1,
        fault: { kind: "drop-before" },
      });
      const out = output(await harness.call("upload_file", { path: file }));
      expect(fake.uploads.get(out.url)).toMatchObject({ size, sha256: sha, multipart: true, parts: 10 });
      expect(fake.countRequests({ method: "PUT", path: /\/3$/ })).toBe(2);
      expect(fake.countRequests({ method: "PUT", path: /\/5$/ })).toBe(2);
      expect(fake.countRequests({ method: "PUT" })).toBe(12);
    });

    it("gives up on a part that always fails, with a clear error and no file URL", async () => {
      const uploadsBefore = fake.uploads.size;
      fake.inject({
        host: "v3.fal.media",
        method: "PUT",
        path: /^\/upload\/[0-9a-f]+\/4$/,
        fault: { kind: "status", status: 500 },
      });
      const result = await harness.call("upload_file", { path: file });
      expect(result.isError).toBe(true);
      const text = textOf(result);
      expect(text).toContain("part 4 of 10 failed 3 times");
      expect(text).toContain("no file URL was created");
      expect(text).not.toMatch(/https:\/\/v3\.fal\.media/);
      expect(text).not.toContain("sig=");
      expect(fake.countRequests({ method: "PUT", path: /\/4$/ })).toBe(3);
      expect(fake.countRequests({ method: "POST", path: /\/complete$/ })).toBe(0);
      expect(fake.uploads.size).toBe(uploadsBefore);
    });

    it("asks again when fal's CDN answers the complete call with a 503, and then has the file", async () => {
      fake.inject({
        host: "v3.fal.media",
        method: "POST",
        path: /^\/upload\/[0-9a-f]+\/complete$/,
        times: 1,
        fault: { kind: "status", status: 503, body: { detail: "Service Unavailable" } },
      });
      const out = output(await harness.call("upload_file", { path: file }));
      expect(fake.uploads.get(out.url)).toMatchObject({ size, sha256: sha, multipart: true, parts: 10 });
      expect(fake.countRequests({ method: "POST", path: /\/complete$/ })).toBe(2);
      expect(fake.countRequests({ method: "PUT" })).toBe(10);
    });

    it("stops at once when fal's CDN refuses to assemble the parts, naming the status and no URL", async () => {
      const uploadsBefore = fake.uploads.size;
      fake.inject({
        host: "v3.fal.media",
        method: "POST",
        path: /^\/upload\/[0-9a-f]+\/complete$/,
        fault: { kind: "status", status: 400, body: { detail: "Part 7 is missing" } },
      });
      const result = await harness.call("upload_file", { path: file });
      expect(result.isError).toBe(true);
      const text = textOf(result);
      expect(text).toContain("refused to assemble the uploaded parts of scan.tiff (HTTP 400)");
      expect(text).toContain("No file URL was created");
      expect(text).not.toContain("sig=");
      expect(fake.countRequests({ method: "POST", path: /\/complete$/ })).toBe(1);
      expect(fake.uploads.size).toBe(uploadsBefore);
    });
  });
});

describe("upload_file at the part boundaries, cancelled, and with a file changing under it", () => {
  const cases: [string, number, number][] = [
    // fal's threshold is strictly above 90 MiB: exactly 90 MiB is one PUT.
    ["exactly 90 MiB goes up in one PUT", 90 * MiB, 1],
    ["90 MiB + 1 byte goes up in 10 parts, the last of one byte", 90 * MiB + 1, 10],
    ["exactly 100 MiB goes up in 10 full parts", 100 * MiB, 10],
  ];
  for (const [name, size, parts] of cases) {
    it(
      name,
      async () => {
        const file = path.join(home, `boundary-${size}.bin`);
        const sha = await writeFile(file, size);
        try {
          const out = output(await harness.call("upload_file", { path: file }, { timeout: 120_000 }));
          expect(out.size).toBe(size);
          expect(fake.uploads.get(out.url)).toMatchObject({ size, sha256: sha, multipart: parts > 1, parts });
          expect(fake.countRequests({ method: "PUT" })).toBe(parts);
        } finally {
          await fs.rm(file, { force: true });
        }
      },
      120_000,
    );
  }

  /** A 200 MiB file (20 parts) in the home folder, with every part PUT to fal's CDN delayed by `delayMs`. */
  async function bigFileWithSlowParts(name: string, delayMs: number): Promise<string> {
    const file = path.join(home, name);
    await writeFile(file, 200 * MiB);
    fake.inject({
      host: "v3.fal.media",
      method: "PUT",
      path: /^\/upload\/[0-9a-f]+\/\d+$/,
      fault: { kind: "delay", ms: delayMs },
    });
    return file;
  }

  it("stops sending parts when the client cancels the call, and never completes the upload", async () => {
    // Slow parts, so the cancel lands while parts are still to be sent.
    const file = await bigFileWithSlowParts("cancelled.bin", 300);
    const uploadsBefore = fake.uploads.size;
    const controller = new AbortController();
    try {
      const call = harness.call(
        "upload_file",
        { path: file },
        {
          signal: controller.signal,
          onprogress: (progress) => {
            if (progress.progress >= 1) controller.abort();
          },
        },
      );
      await expect(call).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const sent = fake.countRequests({ method: "PUT" });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      // Nothing more is sent after the cancel, far fewer than the 20 parts went out.
      expect(fake.countRequests({ method: "PUT" })).toBe(sent);
      expect(sent).toBeLessThan(20);
      expect(fake.countRequests({ method: "POST", path: /\/complete$/ })).toBe(0);
      expect(fake.uploads.size).toBe(uploadsBefore);
    } finally {
      await fs.rm(file, { force: true });
    }
  }, 60_000);

  it("stops with a clear error when the file becomes shorter while it is uploaded, and creates no URL", async () => {
    const file = await bigFileWithSlowParts("growing-and-shrinking.mov", 200);
    const uploadsBefore = fake.uploads.size;
    try {
      let truncated = false;
      const result = await harness.call(
        "upload_file",
        { path: file },
        {
          timeout: 60_000,
          onprogress: (progress) => {
            // After the first part: the file is cut to 15 MiB, as by an app rewriting it.
            if (progress.progress >= 1 && !truncated) {
              truncated = true;
              void fs.truncate(file, 15 * MiB);
            }
          },
        },
      );
      expect(truncated).toBe(true);
      expect(result.isError).toBe(true);
      const text = textOf(result);
      expect(text).toContain("became shorter while it was being uploaded");
      expect(text).not.toContain("sig=");
      expect(fake.countRequests({ method: "POST", path: /\/complete$/ })).toBe(0);
      expect(fake.uploads.size).toBe(uploadsBefore);
    } finally {
      await fs.rm(file, { force: true });
    }
  }, 60_000);
});

describe("upload_file refuses what it may not read, and sends nothing", () => {
  let outside: string;
  beforeAll(async () => {
    outside = await fs.mkdtemp(path.join(path.dirname(harness.tempDir), "fal-mcp-outside-"));
    await fs.writeFile(path.join(outside, "secret.txt"), "secret");
    await fs.mkdir(path.join(home, ".ssh"));
    await fs.writeFile(path.join(home, ".ssh", "id_rsa"), "PRIVATE KEY");
    await fs.mkdir(path.join(home, "album"));
    await fs.symlink(path.join(outside, "secret.txt"), path.join(home, "innocent.png"));
    execFileSync("mkfifo", [path.join(home, "pipe.wav")]);
  });
  afterAll(async () => {
    await fs.rm(outside, { recursive: true, force: true });
  });

  const cases: [string, () => string, RegExp][] = [
    [
      "../ out of the allowed folder",
      () => path.join(home, "..", "..", path.basename(outside), "secret.txt"),
      /outside the readable folders/,
    ],
    [
      "a symlink inside pointing outside",
      () => path.join(home, "innocent.png"),
      /resolves to .* through a symlink/,
    ],
    ["~/.ssh/id_rsa", () => "~/.ssh/id_rsa", /does not read hidden files or folders.*"\.ssh"/],
    ["a folder", () => path.join(home, "album"), /is a folder, not a file/],
    ["a FIFO", () => path.join(home, "pipe.wav"), /named pipe \(FIFO\)/],
    ["a missing file", () => path.join(home, "nope.png"), /No file at/],
    [
      "a non-file URL scheme as path",
      () => "ftp://example.com/a.png",
      /"ftp:" references are not local files/,
    ],
  ];

  it.each(cases)("refuses %s with its own message", async (_name, reference, message) => {
    const result = await harness.call("upload_file", { path: reference() });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(message);
    expect(textOf(result)).toContain("Next step:");
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses a file:// URL given as url by the same rules", async () => {
    const result = await harness.call("upload_file", { url: "file://" + path.join(home, ".ssh", "id_rsa") });
    expect(textOf(result)).toMatch(/hidden/);
    expect(fake.requests).toHaveLength(0);
  });

  it("needs exactly one source: url, data, prepare_upload or path", async () => {
    expect(textOf(await harness.call("upload_file", {}))).toMatch(/needs one source[\s\S]*`path`/);
    expect(textOf(await harness.call("upload_file", { path: "/a", url: "https://example.com/a" }))).toContain(
      "not `url` and `path`",
    );
    expect(
      textOf(
        await harness.call("upload_file", {
          data: "aGk=",
          prepare_upload: true,
          file_size: 2,
          file_name: "a",
        }),
      ),
    ).toContain("not `data` and `prepare_upload`");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("upload_file with a url", () => {
  it("returns a fal CDN URL as is, without any request", async () => {
    const result = await harness.call("upload_file", {
      url: "https://v3.fal.media/files/zebra/abc_photo.png",
    });
    expect(output(result)).toEqual({
      cdn_url: "https://v3.fal.media/files/zebra/abc_photo.png",
      url: "https://v3.fal.media/files/zebra/abc_photo.png",
      file_name: "abc_photo.png",
      content_type: "image/png",
      size: null,
    });
    expect(textOf(result)).toContain("already on fal's CDN");
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses URLs on this machine or a private network by default, sending nothing", async () => {
    const strict = await startHarness({ baseUrl: fake.url });
    try {
      fake.reset();
      for (const url of [
        `${fake.url}/v3.fal.media/files/x.png`,
        "http://localhost:9/a.png",
        "http://10.1.2.3/a.png",
        "http://[::1]:9/a.png",
        "http://192.168.1.1/admin",
      ]) {
        const result = await strict.call("upload_file", { url });
        expect(result.isError, url).toBe(true);
        expect(textOf(result), url).toMatch(/private network[\s\S]*FAL_MCP_ALLOW_PRIVATE_URLS=1/);
      }
      expect(fake.requests).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });

  it("re-hosts a file from another host, streamed, byte for byte", async () => {
    const source = path.join(home, "source.jpg");
    const sha = await writeFile(source, 200 * 1024);
    const first = output(await harness.call("upload_file", { path: source }));
    fake.reset();
    // The fake serves CDN files from its own loopback address too: a non-fal host for fal-mcp.
    const foreign = `${fake.url}/v3.fal.media${new URL(first.url).pathname}`;
    const out = output(await harness.call("upload_file", { url: foreign, file_name: "copy.jpg" }));
    expect(out).toMatchObject({ file_name: "copy.jpg", content_type: "image/jpeg", size: 200 * 1024 });
    expect(out.url).not.toBe(first.url);
    expect(fake.uploads.get(out.url)).toMatchObject({ sha256: sha, size: 200 * 1024 });
    expect(fake.countRequests({ method: "GET", path: /^\/files\// })).toBe(1);
  });

  it("refuses a source above FAL_MCP_MAX_UPLOAD_BYTES before uploading anything", async () => {
    const capped = await startHarness({
      baseUrl: fake.url,
      env: { FAL_MCP_MAX_UPLOAD_BYTES: "1000", FAL_MCP_ALLOW_PRIVATE_URLS: "1" },
    });
    try {
      const source = path.join(home, "big.jpg");
      await writeFile(source, 5000);
      const first = output(await harness.call("upload_file", { path: source }));
      fake.reset();
      const result = await capped.call("upload_file", {
        url: `${fake.url}/v3.fal.media${new URL(first.url).pathname}`,
      });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/above the upload limit of 1000 B[\s\S]*FAL_MCP_MAX_UPLOAD_BYTES/);
      expect(fake.countRequests({ host: "rest.fal.ai" })).toBe(0);
    } finally {
      await capped.close();
    }
  });

  it("refuses non-http schemes and cloud metadata addresses", async () => {
    expect(textOf(await harness.call("upload_file", { url: "ftp://example.com/a.png" }))).toContain(
      '"ftp:" URLs are refused',
    );
    expect(
      textOf(await harness.call("upload_file", { url: "http://169.254.169.254/latest/meta-data/" })),
    ).toContain("cloud-metadata");
    expect(fake.requests).toHaveLength(0);
  });
});
