import fs from "node:fs/promises";
import os from "node:os";
import { pathToFileURL } from "node:url";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, textOf, type Harness } from "../helpers/harness.js";

/**
 * A client that supports MCP roots decides which folders files may be read from when the user has
 * not set FAL_MCP_ALLOWED_DIRS, and a roots/list_changed notification takes effect at once. An
 * explicit FAL_MCP_ALLOWED_DIRS is the user's word: roots never replace it. Roots announced but
 * empty mean nothing is readable.
 */
let fake: FakeFal;
let harness: Harness;
let roots: string[];
let rootsAsked = 0;
let workspace: string;
let other: string;

let base: string;

beforeAll(async () => {
  fake = await startFakeFal();
  base = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-roots-"));
  workspace = path.join(base, "workspace");
  other = path.join(base, "other");
  await fs.mkdir(workspace);
  await fs.mkdir(other);
  await fs.writeFile(path.join(workspace, "in-root.png"), Buffer.alloc(512, 1));
  await fs.writeFile(path.join(other, "outside.png"), Buffer.alloc(512, 2));
  roots = [workspace];
  harness = await startHarness({
    baseUrl: fake.url,
    clientOptions: { capabilities: { roots: { listChanged: true } } },
    setupClient: (client) =>
      client.setRequestHandler("roots/list", async () => {
        rootsAsked++;
        return {
          roots: roots.map((folder) => ({ uri: pathToFileURL(folder).href, name: path.basename(folder) })),
        };
      }),
  });
});

afterAll(async () => {
  await harness?.close();
  await fake?.close();
  await fs.rm(base, { recursive: true, force: true });
});

describe("MCP roots", () => {
  it("reads files inside the client's roots and refuses others, asking the client once", async () => {
    const inside = await harness.call("upload_file", { path: path.join(workspace, "in-root.png") });
    expect(inside.isError, textOf(inside)).toBeFalsy();
    const before = fake.requests.length;
    const outside = await harness.call("upload_file", { path: path.join(other, "outside.png") });
    expect(outside.isError).toBe(true);
    expect(textOf(outside)).toContain("outside the readable folders");
    expect(textOf(outside)).toContain(await fs.realpath(workspace));
    expect(fake.requests.length).toBe(before);
    expect(rootsAsked).toBe(1);
  });

  it("follows roots/list_changed", async () => {
    roots = [other];
    await harness.client.sendRootsListChanged();
    // The notification is handled asynchronously; the next call asks for the roots again.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = await harness.call("upload_file", { path: path.join(other, "outside.png") });
    expect(now.isError, textOf(now)).toBeFalsy();
    expect(rootsAsked).toBe(2);
    const old = await harness.call("upload_file", { path: path.join(workspace, "in-root.png") });
    expect(old.isError).toBe(true);
  });

  it("uses the roots for local paths inside run_model inputs too", async () => {
    const result = await harness.call("run_model", {
      endpoint_id: "fake/echo",
      input: { image_url: path.join(other, "outside.png") },
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    const output = (result.structuredContent as { output: { image_url: string } }).output;
    expect(output.image_url).toMatch(/^https:\/\/v3\.fal\.media\/files\//);
    const refused = await harness.call("run_model", {
      endpoint_id: "fake/echo",
      input: { image_url: path.join(workspace, "in-root.png") },
    });
    expect(refused.isError).toBe(true);
  });
});

/** A harness whose client announces `announced` as its roots. */
async function harnessWithRoots(announced: string[], env: Record<string, string> = {}): Promise<Harness> {
  return startHarness({
    baseUrl: fake.url,
    clientOptions: { capabilities: { roots: { listChanged: true } } },
    setupClient: (client) =>
      client.setRequestHandler("roots/list", async () => ({
        roots: announced.map((folder) => ({ uri: pathToFileURL(folder).href, name: path.basename(folder) })),
      })),
    env,
  });
}

describe("roots and FAL_MCP_ALLOWED_DIRS: one rule", () => {
  it("an explicit FAL_MCP_ALLOWED_DIRS wins: the client's roots neither replace nor widen it", async () => {
    const explicit = await harnessWithRoots([workspace], { FAL_MCP_ALLOWED_DIRS: other });
    try {
      const allowed = await explicit.call("upload_file", { path: path.join(other, "outside.png") });
      expect(allowed.isError, textOf(allowed)).toBeFalsy();
      const root = await explicit.call("upload_file", { path: path.join(workspace, "in-root.png") });
      expect(root.isError).toBe(true);
      expect(textOf(root)).toContain("FAL_MCP_ALLOWED_DIRS and the output folder");
    } finally {
      await explicit.close();
    }
  });

  it("roots announced but empty: nothing is readable, and the message says how to add a folder", async () => {
    const empty = await harnessWithRoots([]);
    try {
      const before = fake.requests.length;
      const result = await empty.call("upload_file", { path: path.join(workspace, "in-root.png") });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain("empty list of workspace folders");
      expect(textOf(result)).toContain("FAL_MCP_ALLOWED_DIRS");
      expect(fake.requests.length).toBe(before);
    } finally {
      await empty.close();
    }
  });
});
