import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AccessDeniedError, NotFoundError } from "../../src/errors.js";
import { isInsideReadable, openReadable, readableFolders, type ReadPolicy } from "../../src/files/access.js";
import { sensitiveReason } from "../../src/files/sensitive-paths.js";

let root: string;
let home: string;
let allowed: string;
let outside: string;
let output: string;

beforeAll(async () => {
  root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), "fal-mcp-read-")));
  home = path.join(root, "home");
  allowed = path.join(home, "Pictures");
  outside = path.join(root, "outside");
  output = path.join(home, "fal-mcp");
  for (const dir of [allowed, outside, output, path.join(home, ".ssh"), path.join(allowed, "project")])
    await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(path.join(allowed, "cat.png"), "inside-bytes");
  await fsp.writeFile(path.join(outside, "secret.txt"), "OUTSIDE-SECRET");
  await fsp.writeFile(path.join(allowed, "project", ".env.local"), "KEY=1");
  await fsp.writeFile(path.join(allowed, "claude_desktop_config.json"), "{}");
  await fsp.writeFile(path.join(home, ".ssh", "id_ed25519"), "key");
  await fsp.writeFile(path.join(output, "result.png"), "made");
  await fsp.symlink(path.join(outside, "secret.txt"), path.join(allowed, "link-out.png"));
  await fsp.symlink(path.join(allowed, "cat.png"), path.join(allowed, "link-in.png"));
});
afterAll(() => fsp.rm(root, { recursive: true, force: true }));

function policy(
  readable = readableFolders({ allowedDirs: [allowed], roots: undefined, outputDir: output }),
): ReadPolicy {
  return { readable, allowHidden: false, allowSensitive: false, maxBytes: 1024 * 1024, homeDir: home };
}

async function read(reference: string, p = policy()): Promise<string> {
  const file = await openReadable(reference, p);
  try {
    return (await file.handle.readFile()).toString();
  } finally {
    await file.handle.close();
  }
}

describe("readableFolders: one rule", () => {
  it("default: the output folder only, never the home folder", () =>
    expect(readableFolders({ allowedDirs: undefined, roots: undefined, outputDir: output })).toEqual({
      folders: [output],
      source: "default",
    }));
  it("an explicit FAL_MCP_ALLOWED_DIRS wins: roots neither replace nor widen it", () => {
    const result = readableFolders({ allowedDirs: [allowed], roots: ["/work/project"], outputDir: output });
    expect(result).toEqual({ folders: [allowed, output], source: "setting" });
  });
  it("roots announced: roots plus the output folder", () =>
    expect(readableFolders({ allowedDirs: undefined, roots: [allowed], outputDir: output }).folders).toEqual([
      allowed,
      output,
    ]));
  it("roots announced but empty: nothing readable", () =>
    expect(readableFolders({ allowedDirs: undefined, roots: [], outputDir: output })).toEqual({
      folders: [],
      source: "roots-empty",
    }));
});

describe("openReadable", () => {
  it("reads a file inside, and a symlink that stays inside", async () => {
    expect(await read(path.join(allowed, "cat.png"))).toBe("inside-bytes");
    expect(await read(path.join(allowed, "link-in.png"))).toBe("inside-bytes");
    expect(await read("cat.png")).toBe("inside-bytes"); // relative to the first folder
  });

  it("by default the home folder is not readable, the output folder is", async () => {
    const defaults = policy(readableFolders({ allowedDirs: undefined, roots: undefined, outputDir: output }));
    await expect(read(path.join(allowed, "cat.png"), defaults)).rejects.toThrow(
      /outside the readable folders/,
    );
    expect(await read(path.join(output, "result.png"), defaults)).toBe("made");
  });

  it("empty roots: nothing readable, with how to add a folder", async () => {
    const empty = policy(readableFolders({ allowedDirs: undefined, roots: [], outputDir: output }));
    await expect(read(path.join(output, "result.png"), empty)).rejects.toThrow(
      /empty list of workspace folders/,
    );
    const error = (await read(path.join(output, "result.png"), empty).catch(
      (e: unknown) => e,
    )) as AccessDeniedError;
    expect(error.nextStep).toMatch(/workspace.*FAL_MCP_ALLOWED_DIRS/);
  });

  it("refuses a symlink leading outside", async () =>
    expect(read(path.join(allowed, "link-out.png"))).rejects.toThrow(/resolves to .*outside/));

  it("answers the same for an outside path whether it exists or not, without touching the disk", async () => {
    const realpath = vi.spyOn(fsp, "realpath");
    const stat = vi.spyOn(fsp, "stat");
    const lstat = vi.spyOn(fsp, "lstat");
    const open = vi.spyOn(fsp, "open");
    const exists = await read(path.join(outside, "secret.txt")).catch((e: Error) => e.message);
    const missing = await read(path.join(outside, "nothing.txt")).catch((e: Error) => e.message);
    const touched = [...realpath.mock.calls, ...stat.mock.calls, ...lstat.mock.calls, ...open.mock.calls].map(
      (c) => String(c[0]),
    );
    vi.restoreAllMocks();
    expect(exists.replace("secret.txt", "X")).toBe(missing.replace("nothing.txt", "X"));
    expect(touched.filter((p) => p.startsWith(outside))).toEqual([]);
    expect(isInsideReadable("/etc/passwd", policy())).toBe(false);
    expect(isInsideReadable(path.join(allowed, "x.png"), policy())).toBe(true);
  });

  it("refuses credential locations inside an allowed folder unless overridden", async () => {
    await expect(read(path.join(allowed, "claude_desktop_config.json"))).rejects.toThrow(
      /Claude Desktop's MCP configuration/,
    );
    const homeWide = {
      ...policy(readableFolders({ allowedDirs: [home], roots: undefined, outputDir: output })),
      allowHidden: true,
    };
    await expect(read(path.join(home, ".ssh", "id_ed25519"), homeWide)).rejects.toThrow(/SSH keys/);
    await expect(read(path.join(allowed, "project", ".env.local"), homeWide)).rejects.toThrow(
      /environment file/,
    );
    expect(
      await read(path.join(allowed, "claude_desktop_config.json"), { ...policy(), allowSensitive: true }),
    ).toBe("{}");
  });

  it("refuses hidden paths, FIFOs and folders with a reason", async () => {
    await expect(
      read(path.join(allowed, "project", ".env.local"), { ...policy(), allowSensitive: true }),
    ).rejects.toThrow(/hidden/);
    await expect(read(allowed)).rejects.toThrow(/is a folder/);
    await expect(read(path.join(allowed, "missing.png"))).rejects.toBeInstanceOf(NotFoundError);
    if (process.platform !== "win32") {
      const fifo = path.join(allowed, "pipe.png");
      const { execFileSync } = await import("node:child_process");
      execFileSync("mkfifo", [fifo]);
      await expect(read(fifo)).rejects.toThrow(/named pipe/);
    }
  });

  it("never returns outside bytes while a file is swapped for a symlink in a tight loop", async () => {
    // A worker thread swaps the file atomically (rename over it) between a regular file and a
    // symlink to a file outside, as fast as it can, while the reader opens it again and again.
    const target = path.join(allowed, "swap.png");
    fs.writeFileSync(target, "inside-bytes");
    const worker = new Worker(
      `const fs = require("node:fs");
       const { target, secret } = require("node:worker_threads").workerData;
       const stop = new Int32Array(require("node:worker_threads").workerData.stop);
       for (let i = 0; Atomics.load(stop, 0) === 0; i++) {
         try {
           if (i % 2) { fs.writeFileSync(target + ".f", "inside-bytes"); fs.renameSync(target + ".f", target); }
           else { fs.rmSync(target + ".l", { force: true }); fs.symlinkSync(secret, target + ".l"); fs.renameSync(target + ".l", target); }
         } catch {}
       }`,
      {
        eval: true,
        workerData: { target, secret: path.join(outside, "secret.txt"), stop: new SharedArrayBuffer(4) },
      },
    );
    const seen = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const bytes = await read(target).catch((error: Error) =>
        error instanceof AccessDeniedError || error instanceof NotFoundError ? "refused" : error.message,
      );
      seen.set(bytes, (seen.get(bytes) ?? 0) + 1);
    }
    await worker.terminate();
    expect(seen.has("OUTSIDE-SECRET")).toBe(false);
    expect(seen.get("inside-bytes") ?? 0).toBeGreaterThan(0);
    expect(seen.get("refused") ?? 0).toBeGreaterThan(0);
    expect([...seen.keys()].filter((s) => s !== "inside-bytes" && s !== "refused")).toEqual([]);
  });

  it("never returns outside bytes while a parent folder is swapped for a symlink", async () => {
    const dir = path.join(allowed, "swapdir");
    await fsp.mkdir(outside + "/dir", { recursive: true });
    await fsp.writeFile(path.join(outside, "dir", "a.png"), "OUTSIDE-SECRET");
    let running = true;
    const swapper = (async () => {
      while (running) {
        try {
          fs.mkdirSync(dir);
          fs.writeFileSync(path.join(dir, "a.png"), "inside-bytes");
          await new Promise((resolve) => setImmediate(resolve));
          fs.rmSync(dir, { recursive: true, force: true });
          fs.symlinkSync(path.join(outside, "dir"), dir);
          await new Promise((resolve) => setImmediate(resolve));
          fs.rmSync(dir, { force: true });
        } catch {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
    })();
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++)
      seen.add(
        await read(path.join(dir, "a.png")).catch((error: Error) =>
          error instanceof AccessDeniedError || error instanceof NotFoundError ? "refused" : error.message,
        ),
      );
    running = false;
    await swapper;
    expect(seen.has("OUTSIDE-SECRET")).toBe(false);
  });
});

describe("sensitiveReason", () => {
  const h = "/home/u";
  it.each([
    ["/home/u/.ssh/config", "SSH keys"],
    ["/backup/olduser/.ssh/id_rsa", "SSH keys"],
    ["/home/u/.aws/credentials", "AWS credentials"],
    ["/home/u/.config/gcloud/application_default_credentials.json", "Google Cloud credentials"],
    ["/home/u/.docker/config.json", "Docker registry credentials"],
    ["/home/u/.kube/config", "Kubernetes credentials"],
    ["/home/u/Library/Application Support/Claude/claude_desktop_config.json", "Claude Desktop"],
    ["/home/u/Library/Keychains/login.keychain-db", "keychain"],
    ["/home/u/.config/google-chrome/Default/Cookies", "a browser profile"],
    ["/home/u/work/app/.env", "an environment file"],
    ["/home/u/work/app/.env.production", "an environment file"],
    ["/home/u/work/app/.cursor/mcp.json", "Cursor"],
    ["/home/u/.claude.json", "Claude Code"],
    ["/home/u/AppData/Roaming/Claude/config.json", "Claude Desktop"],
    // Another user's home, or a backup of one: the home-relative locations hold there too.
    ["/Users/other/Library/Application Support/Claude/config.json", "Claude Desktop"],
    ["/mnt/backup/home/v/.config/gh/hosts.yml", "GitHub CLI"],
    ["/media/usb/old-home/AppData/Roaming/Microsoft/Credentials/x", "Windows credentials"],
  ])("%s is %s", (file, what) => expect(sensitiveReason(file, { homeDir: h })).toContain(what));
  it.each(["/home/u/Pictures/cat.png", "/home/u/work/environment.png", "/home/u/work/notes.txt"])(
    "%s is fine",
    (file) => expect(sensitiveReason(file, { homeDir: h })).toBeUndefined(),
  );
});
