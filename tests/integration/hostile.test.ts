import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, TEST_KEY, textOf, type Harness } from "../helpers/harness.js";

// Issue 11 end to end: a real MCP client, fal-mcp, and the fake of fal answering hostile things.
let fake: FakeFal;
let harness: Harness;
const secretHalf = TEST_KEY.split(":")[1]!;

beforeAll(async () => {
  fake = await startFakeFal();
  harness = await startHarness({ baseUrl: fake.url });
});
afterAll(async () => {
  await harness?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

const run = (input: Record<string, unknown> = { prompt: "x" }) =>
  harness.call("run_model", { endpoint_id: "fake/instant", input, wait_seconds: 20 });

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe("hostile answers of fal, through a real client", () => {
  it("a 6,000-deep output: a clear error with the request id and a next step, no crash", async () => {
    fake.setBehavior("fake/instant", { hostile: { kind: "deep" } });
    const result = await run();
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/nested more than 128 levels/);
    expect(textOf(result)).toMatch(/[0-9a-f-]{36}/);
    // The server is still up.
    expect((await harness.call("search_models", { query: "flux" })).isError).toBeFalsy();
  });

  it("a 3 MB output: the result fits the budget and names the file that holds all of it", async () => {
    fake.setBehavior("fake/instant", { hostile: { kind: "large" } });
    const result = await run();
    expect(result.isError, textOf(result)).toBeFalsy();
    const size = Buffer.byteLength(JSON.stringify(result));
    expect(size).toBeLessThan(1024 * 1024);
    const file = /saved in (\S+\.json)/.exec(textOf(result))?.[1];
    expect(file, textOf(result).slice(0, 300)).toBeDefined();
    expect(fs.readFileSync(file!, "utf8").length).toBeGreaterThan(3 * 1024 * 1024);
  });

  it("a 4 MB data: URI output is never repeated whole", async () => {
    fake.setBehavior("fake/instant", { hostile: { kind: "large", as: "data-uri", bytes: 4_000_000 } });
    const result = await run();
    expect(result.isError, textOf(result)).toBeFalsy();
    const all = JSON.stringify(result);
    expect(all.length).toBeLessThan(1024 * 1024);
    expect(all).not.toMatch(/[A-Za-z0-9+/]{10000}/);
  });

  it("the key echoed in an output, a log line and a signed URL reaches no result, record or file", async () => {
    fake.setBehavior("fake/instant", { hostile: { kind: "echo-key" } });
    const result = await run();
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(JSON.stringify(result)).not.toContain(secretHalf);
    const status = await harness.call("check_job", {
      request_id: (result.structuredContent as { request_id: string }).request_id,
      logs: true,
    });
    expect(JSON.stringify(status)).not.toContain(secretHalf);
    for (const file of [
      ...filesUnder(path.join(harness.tempDir, "state")),
      ...filesUnder(path.join(harness.tempDir, "output")),
    ]) {
      expect(path.basename(file)).not.toContain(secretHalf);
      expect(fs.readFileSync(file).toString("latin1"), file).not.toContain(secretHalf);
    }
  });

  it("media at loopback, private and metadata addresses are refused without a connection; the job stays a success", async () => {
    fake.setBehavior("fake/instant", { hostile: { kind: "private-urls" } });
    const result = await run();
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(fake.canaryConnections).toBe(0);
    const files = (result.structuredContent as { files: { error: string | null; path: string | null }[] })
      .files;
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      expect(file.path).toBeNull();
      expect(file.error).toMatch(/not downloaded/);
    }
  });

  it("a fal API answer redirecting to a private address is not followed (catalog, schema, status, submit)", async () => {
    const toCanary = {
      kind: "status",
      status: 302,
      headers: { location: `${fake.canaryUrl}/latest/meta-data/` },
      body: "",
    };
    const calls: [string, Record<string, unknown>][] = [
      ["search_models", { query: "flux" }],
      ["get_model_schema", { endpoint_id: "fal-ai/flux/dev" }],
      ["check_job", { endpoint_id: "fake/instant", request_id: "764cabcf-b745-4b3e-ae38-1200304cf45b" }],
      ["submit_job", { endpoint_id: "fake/instant", input: { prompt: "x" } }],
    ];
    // A fresh server: nothing cached from the tests above.
    const fresh = await startHarness({ baseUrl: fake.url });
    try {
      for (const [tool, args] of calls) {
        fake.reset();
        fake.inject({ fault: toCanary as never });
        const result = await fresh.call(tool, args);
        expect(result.isError, tool).toBe(true);
        expect(fake.canaryConnections, tool).toBe(0);
        if (tool !== "submit_job")
          expect(textOf(result), tool).toMatch(/redirect to 127\.0\.0\.1:\d+, which is not fal's/);
        // The submit reached something that answered: its outcome is unknown, never "not sent".
        else expect(textOf(result)).toMatch(/may or may not have been created|Do NOT resubmit/);
      }
    } finally {
      await fresh.close();
    }
  });

  it("an HTML page served as image/png is saved but never attached inline as an image", async () => {
    fake.setBehavior("fake/instant", { hostile: { kind: "html-as-png" } });
    const result = await run();
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(result.content.filter((item) => item.type === "image")).toEqual([]);
  });
});
