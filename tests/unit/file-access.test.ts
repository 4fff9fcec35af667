import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { AccessDeniedError, InvalidArgumentError, NotFoundError } from "../../src/errors.js";
import { openReadable, readableFolders, readPolicyFor, type ReadPolicy } from "../../src/files/access.js";

/** The first policy's options, mapped onto the read policy (the old checkReadableFile's shape). */
interface AccessPolicy {
  allowedDirs: string[];
  allowHidden: boolean;
  maxBytes: number;
  homeDir: string;
}

function toReadPolicy(policy: AccessPolicy): ReadPolicy {
  return {
    readable:
      policy.allowedDirs.length === 0
        ? readableFolders({
            allowedDirs: undefined,
            roots: [],
            outputDir: path.join(policy.homeDir, "fal-mcp"),
          })
        : { folders: policy.allowedDirs, source: "setting" },
    allowHidden: policy.allowHidden,
    allowSensitive: true, // this file tests containment and hidden rules; read-policy.test.ts the deny list
    maxBytes: policy.maxBytes,
    homeDir: policy.homeDir,
  };
}

/** Opens, reads nothing, closes: what the old checkReadableFile answered. */
async function checkReadableFile(
  reference: string,
  policy: AccessPolicy,
): Promise<{ realPath: string; size: number }> {
  const file = await openReadable(reference, toReadPolicy(policy));
  await file.handle.close();
  return { realPath: file.realPath, size: file.size };
}

let base: string;
let home: string;
let allowed: string;
let outside: string;
let policy: AccessPolicy;

beforeAll(async () => {
  // realpath: os.tmpdir() may itself be a symlink (macOS /var → /private/var).
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-access-")));
  home = path.join(base, "home");
  allowed = path.join(home, "work");
  outside = path.join(base, "outside");
  for (const dir of [
    allowed,
    outside,
    path.join(home, ".ssh"),
    path.join(allowed, "sub"),
    path.join(allowed, ".cache"),
    path.join(base, "alice"),
  ]) {
    await fs.mkdir(dir, { recursive: true });
  }
  await fs.writeFile(path.join(allowed, "photo.png"), "png-bytes");
  await fs.writeFile(path.join(allowed, "sub", "clip.mp4"), "mp4");
  await fs.writeFile(path.join(allowed, ".env"), "SECRET=1");
  await fs.writeFile(path.join(allowed, ".cache", "thumb.png"), "thumb");
  await fs.writeFile(path.join(allowed, "empty.txt"), "");
  await fs.writeFile(path.join(allowed, "big.bin"), Buffer.alloc(2048));
  await fs.writeFile(path.join(outside, "secret.txt"), "outside");
  await fs.writeFile(path.join(home, ".ssh", "id_rsa"), "PRIVATE KEY");
  await fs.writeFile(path.join(base, "alice", "a.png"), "a");
  await fs.symlink(path.join(outside, "secret.txt"), path.join(allowed, "link-out.txt"));
  await fs.symlink(path.join(allowed, "photo.png"), path.join(allowed, "link-in.png"));
  await fs.symlink(path.join(allowed, ".env"), path.join(allowed, "visible-link"));
  await fs.symlink(outside, path.join(allowed, "dir-link"));
  execFileSync("mkfifo", [path.join(allowed, "pipe")]);
  policy = { allowedDirs: [allowed], allowHidden: false, maxBytes: 1024, homeDir: home };
});

afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

async function refusal(reference: string, overrides: Partial<AccessPolicy> = {}): Promise<Error> {
  const error = await checkReadableFile(reference, { ...policy, ...overrides }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error(`expected ${reference} to be refused`);
  return error;
}

describe("readPolicyFor: one rule for roots and FAL_MCP_ALLOWED_DIRS", () => {
  // The first rule let roots replace the setting, let empty roots fall back, and defaulted to the
  // whole home folder: all three are the defects of issue 11. The rule now (README, "Local files"):
  it("an explicit FAL_MCP_ALLOWED_DIRS wins: announced roots neither replace nor widen it", async () => {
    const config = loadConfig({ env: { FAL_MCP_ALLOWED_DIRS: outside }, homeDir: home });
    const link = path.join(base, "root-link");
    await fs.symlink(allowed, link).catch(() => undefined);
    expect(readPolicyFor(config, [link, outside]).readable).toEqual({
      folders: [outside, config.outputDir],
      source: "setting",
    });
  });

  it("without the setting, roots (plus the output folder) are readable; roots announced but empty: nothing", async () => {
    const config = loadConfig({ env: {}, homeDir: home });
    expect(readPolicyFor(config, [allowed]).readable.folders).toEqual([allowed, config.outputDir]);
    expect(readPolicyFor(config, []).readable).toEqual({ folders: [], source: "roots-empty" });
  });

  it("defaults to the output folder only, never the home folder", async () => {
    const output = path.join(base, "output");
    const config = loadConfig({ env: { FAL_MCP_OUTPUT_DIR: output }, homeDir: home });
    expect(readPolicyFor(config, undefined).readable).toEqual({ folders: [output], source: "default" });
  });
});

describe("checkReadableFile", () => {
  it("accepts a regular file inside an allowed folder, by absolute path, ~, relative path or file:// URL", async () => {
    const expected = { realPath: path.join(allowed, "photo.png"), size: 9 };
    expect(await checkReadableFile(path.join(allowed, "photo.png"), policy)).toEqual(expected);
    expect(await checkReadableFile("~/work/photo.png", policy)).toEqual(expected);
    expect(await checkReadableFile("photo.png", policy)).toEqual(expected);
    expect(await checkReadableFile(pathToFileURL(path.join(allowed, "photo.png")).href, policy)).toEqual(
      expected,
    );
    expect(await checkReadableFile(path.join(allowed, "sub", "..", "photo.png"), policy)).toEqual(expected);
  });

  it("refuses a path holding a NUL character (as written or as %00 in a file:// URL) with what to do", async () => {
    for (const reference of [
      path.join(allowed, "photo.png\0.txt"),
      `${pathToFileURL(allowed).href}/photo.png%00.txt`,
    ]) {
      const error = await refusal(reference);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toContain("NUL character");
      expect((error as InvalidArgumentError).nextStep).toContain("without control characters");
    }
  });

  it("follows a symlink that stays inside the allowed folder", async () => {
    expect(await checkReadableFile(path.join(allowed, "link-in.png"), policy)).toEqual({
      realPath: path.join(allowed, "photo.png"),
      size: 9,
    });
  });

  it("refuses ../ out of the allowed folder", async () => {
    const error = await refusal(path.join(allowed, "..", "..", "outside", "secret.txt"));
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error.message).toContain("outside the readable folders");
    expect(error.message).toContain(allowed);
    expect((error as AccessDeniedError).nextStep).toContain("FAL_MCP_ALLOWED_DIRS");
    expect((await refusal("../../outside/secret.txt")).message).toContain("outside the readable folders");
    // a missing file outside is refused as outside: nothing is revealed about what exists there
    expect((await refusal(path.join(outside, "missing.txt"))).message).toContain(
      "outside the readable folders",
    );
  });

  it("refuses a symlink inside the folder that points outside, naming the target", async () => {
    const error = await refusal(path.join(allowed, "link-out.txt"));
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error.message).toContain("through a symlink");
    expect(error.message).toContain(path.join(outside, "secret.txt"));
    expect((await refusal(path.join(allowed, "dir-link", "secret.txt"))).message).toContain(
      "through a symlink",
    );
  });

  it("does not treat a sibling folder sharing a name prefix as inside (/x/al vs /x/alice)", async () => {
    const error = await refusal(path.join(base, "alice", "a.png"), { allowedDirs: [path.join(base, "al")] });
    expect(error.message).toContain("outside the readable folders");
  });

  it("refuses ~/.ssh files even when home is allowed, and says how to allow hidden files", async () => {
    const error = await refusal("~/.ssh/id_rsa", { allowedDirs: [home] });
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error.message).toContain("hidden");
    expect(error.message).toContain(".ssh");
    expect((error as AccessDeniedError).nextStep).toContain("FAL_MCP_ALLOW_HIDDEN=1");
    // outside every folder, containment is decided first, on the string: nothing is looked at
    expect((await refusal("~/.ssh/id_rsa")).message).toContain("outside the readable folders");
  });

  it("refuses hidden files and folders inside the allowed folder, and a visible link to a hidden file", async () => {
    expect((await refusal(path.join(allowed, ".env"))).message).toContain('".env"');
    expect((await refusal(path.join(allowed, ".cache", "thumb.png"))).message).toContain('".cache"');
    const viaLink = await refusal(path.join(allowed, "visible-link"));
    expect(viaLink.message).toContain("resolves to");
    expect(viaLink.message).toContain(".env");
  });

  it("allows hidden files with FAL_MCP_ALLOW_HIDDEN, and an allowed folder that itself lives under a dot-folder", async () => {
    expect((await checkReadableFile(path.join(allowed, ".env"), { ...policy, allowHidden: true })).size).toBe(
      8,
    );
    const cacheDir = path.join(allowed, ".cache");
    expect(
      await checkReadableFile(path.join(cacheDir, "thumb.png"), { ...policy, allowedDirs: [cacheDir] }),
    ).toEqual({
      realPath: path.join(cacheDir, "thumb.png"),
      size: 5,
    });
  });

  it("refuses a folder, a FIFO, a missing file, an empty file, a file above the cap, other URL schemes: each with its own message", async () => {
    const folder = await refusal(path.join(allowed, "sub"));
    expect(folder).toBeInstanceOf(InvalidArgumentError);
    expect(folder.message).toContain("is a folder");

    const fifo = await refusal(path.join(allowed, "pipe"));
    expect(fifo).toBeInstanceOf(AccessDeniedError);
    expect(fifo.message).toContain("named pipe (FIFO)");

    const missing = await refusal(path.join(allowed, "nope.png"));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.message).toContain("No file at");

    expect((await refusal(path.join(allowed, "empty.txt"))).message).toContain("empty");

    const big = await refusal(path.join(allowed, "big.bin"));
    expect(big.message).toContain("above the upload limit of 1.0 KiB");
    expect((big as AccessDeniedError).nextStep).toContain("FAL_MCP_MAX_UPLOAD_BYTES");

    const http = await refusal("https://example.com/a.png");
    expect(http.message).toContain('"https:" references are not local files');

    const noFolders = await refusal(path.join(allowed, "photo.png"), { allowedDirs: [] });
    expect(noFolders.message).toContain("empty list of workspace folders");

    const messages = [folder, fifo, missing, big, http, noFolders].map((error) => error.message);
    expect(new Set(messages).size).toBe(messages.length);
  });
});

describe("Claude's chat sandbox paths (/mnt/user-data/…)", () => {
  const MESSAGE = /chat attachment inside Claude's own sandbox[\s\S]*give its real path/;
  const refusal = async (reference: string, readPolicy: ReadPolicy) => {
    const error = await openReadable(reference, readPolicy).then(
      () => undefined,
      (e: unknown) => e as Error & { nextStep?: string },
    );
    return `${error?.message ?? "(read)"} ${error?.nextStep ?? ""}`;
  };

  it("the refusal of such a path outside the readable folders explains the attachment, as a path or a file:// URL", async () => {
    const readPolicy = toReadPolicy(policy);
    for (const reference of [
      "/mnt/user-data/uploads/photo.png",
      "file:///mnt/user-data/uploads/photo%20one.jpg",
      "/home/claude/cat.png",
    ])
      expect(await refusal(reference, readPolicy), reference).toMatch(MESSAGE);
    // Roots announced but empty: the same explanation rather than "add a folder".
    const empty: ReadPolicy = { ...readPolicy, readable: { folders: [], source: "roots-empty" } };
    expect(await refusal("file:///mnt/user-data/uploads/a.png", empty)).toMatch(MESSAGE);
  });

  it("inside an allowed folder a missing sandbox path explains too; a user whose home is /home/claude is not the sandbox", async () => {
    const inside: ReadPolicy = {
      ...toReadPolicy(policy),
      readable: { folders: ["/mnt"], source: "setting" },
    };
    expect(await refusal("/mnt/user-data/uploads/never-there.png", inside)).toMatch(MESSAGE);
    const claudeHome: ReadPolicy = { ...toReadPolicy(policy), homeDir: "/home/claude" };
    const text = await refusal("/home/claude/Pictures/cat.png", claudeHome);
    expect(text).not.toMatch(MESSAGE);
    expect(text).toMatch(/outside the readable folders/);
  });
});
