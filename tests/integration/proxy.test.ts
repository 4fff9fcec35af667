import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { BIN, childEnv } from "../helpers/bin.js";
import { startHarness, textOf, TEST_KEY, type Harness } from "../helpers/harness.js";
import { startLoopbackProxy, type LoopbackProxy } from "../helpers/loopback-proxy.js";

// The fake of fal is named by a host that cannot resolve (.invalid, RFC 6761): a request that did
// not go through the proxy cannot reach it at all, so a passing call proves the route, and the
// proxy forwards to the fake's loopback port only, so nothing leaves the machine.
const HIDDEN_HOST = "fal-fake.invalid";

let fake: FakeFal;
let proxy: LoopbackProxy;
let harness: Harness | undefined;

beforeAll(async () => {
  fake = await startFakeFal();
  const fakePort = Number(new URL(fake.url).port);
  proxy = await startLoopbackProxy({
    [`${HIDDEN_HOST}:${fakePort}`]: fakePort,
    [`127.0.0.1:${fakePort}`]: fakePort,
  });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  proxy.passed.length = 0;
  proxy.refused.length = 0;
  expect(fake.errors).toEqual([]);
});

const hiddenBaseUrl = () => `http://${HIDDEN_HOST}:${new URL(fake.url).port}`;

interface RunOut {
  status: string;
  files?: { path: string; url: string }[];
}

describe("through HTTP_PROXY / HTTPS_PROXY", () => {
  it("run_model: the submit, the result and the saved file's download all pass the proxy", async () => {
    harness = await startHarness({ baseUrl: hiddenBaseUrl(), env: { HTTP_PROXY: proxy.url } });
    const result = await harness.call("run_model", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "a red fox in snow" },
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    const out = result.structuredContent as RunOut;
    expect(out.status).toBe("COMPLETED");
    const saved = out.files?.[0]?.path ?? "";
    expect((await fs.stat(saved)).size).toBeGreaterThan(0);
    const through = proxy.passed.join("\n");
    // undici tunnels fetch through CONNECT, even to an http target.
    expect(through).toMatch(/^CONNECT fal-fake\.invalid:\d+$/m);
    expect(through).toMatch(/^TUNNEL fal-fake\.invalid:\d+ POST \/queue\.fal\.run\/fal-ai\/flux\/dev$/m);
    // The saved image came from fal's CDN host through the proxy.
    expect(through).toMatch(/^TUNNEL fal-fake\.invalid:\d+ GET \/[a-z0-9.]*fal\.media\//m);
    expect(proxy.refused).toEqual([]);
  });

  it("upload_file: initiate (fetch) and the byte PUT (node:http) both pass the proxy; lowercase http_proxy wins", async () => {
    harness = await startHarness({
      baseUrl: hiddenBaseUrl(),
      env: { http_proxy: proxy.url, HTTP_PROXY: "http://127.0.0.1:9" },
    });
    const file = path.join(harness.config.outputDir, "photo.png");
    await fs.mkdir(harness.config.outputDir, { recursive: true });
    await fs.writeFile(file, Buffer.alloc(4096, 7));
    const result = await harness.call("upload_file", { path: file });
    expect(result.isError, textOf(result)).toBeFalsy();
    const through = proxy.passed.join("\n");
    expect(through).toMatch(/^TUNNEL fal-fake\.invalid:\d+ POST \/rest\.fal\.ai\/storage\/upload\/initiate/m);
    // The PUT uses node:http with http-proxy-agent: the absolute-URI form.
    expect(through).toMatch(/^PUT http:\/\/fal-fake\.invalid:\d+\/v3\.fal\.media\/upload\//m);
    expect(fake.uploads.size).toBe(1);
  });

  it("an input with a local file uploads it through the proxy before the submit", async () => {
    harness = await startHarness({
      baseUrl: hiddenBaseUrl(),
      env: { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url },
    });
    const file = path.join(harness.config.outputDir, "in.png");
    await fs.mkdir(harness.config.outputDir, { recursive: true });
    await fs.writeFile(file, Buffer.alloc(1024, 1));
    const result = await harness.call("run_model", {
      endpoint_id: "fake/instant",
      input: { prompt: "x", image_url: file },
      save: false,
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(proxy.passed.some((line) => line.startsWith("PUT "))).toBe(true);
  });
});

describe("NO_PROXY", () => {
  it("a NO_PROXY host is reached directly: the proxy sees nothing", async () => {
    const port = new URL(fake.url).port;
    for (const noProxy of ["127.0.0.1", `localhost, 127.0.0.1:${port}`, "*"]) {
      harness = await startHarness({ baseUrl: fake.url, env: { HTTP_PROXY: proxy.url, NO_PROXY: noProxy } });
      const file = path.join(harness.config.outputDir, "photo.png");
      await fs.mkdir(harness.config.outputDir, { recursive: true });
      await fs.writeFile(file, Buffer.alloc(2048, 3));
      const uploaded = await harness.call("upload_file", { path: file });
      expect(uploaded.isError, textOf(uploaded)).toBeFalsy();
      const ran = await harness.call("run_model", { endpoint_id: "fal-ai/flux/dev", input: { prompt: "x" } });
      expect(ran.isError, textOf(ran)).toBeFalsy();
      expect((ran.structuredContent as RunOut).files?.length).toBeGreaterThan(0);
      expect(proxy.passed, noProxy).toEqual([]);
      await harness.close();
      harness = undefined;
    }
  });

  it("a NO_PROXY entry for another port does not match: the traffic goes through the proxy", async () => {
    harness = await startHarness({
      baseUrl: fake.url,
      env: { HTTP_PROXY: proxy.url, no_proxy: "127.0.0.1:1" },
    });
    const ran = await harness.call("search_models", { query: "flux" });
    expect(ran.isError, textOf(ran)).toBeFalsy();
    expect(proxy.passed.length).toBeGreaterThan(0);
  });
});

describe("the network guard still applies behind a proxy", () => {
  for (const noProxy of [undefined, "*"]) {
    it(`upload_file of a private or metadata URL is refused before anything is sent (NO_PROXY=${noProxy ?? "unset"})`, async () => {
      harness = await startHarness({
        baseUrl: hiddenBaseUrl(),
        env: { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, ...(noProxy ? { NO_PROXY: noProxy } : {}) },
      });
      for (const url of [
        "http://10.0.0.7/router.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8080/a.png",
      ]) {
        const result = await harness.call("upload_file", { url });
        expect(result.isError, url).toBe(true);
        expect(textOf(result)).toMatch(/does not fetch/);
      }
      expect(proxy.passed).toEqual([]);
      expect(proxy.refused).toEqual([]);
    });
  }
});

describe("the built bin (undici and the proxy agents bundled by tsup, on this Node)", () => {
  it("run_model with a saved result and upload_file go through the proxy", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-proxy-bin-"));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      env: childEnv({
        FAL_KEY: TEST_KEY,
        FAL_MCP_BASE_URL: hiddenBaseUrl(),
        FAL_MCP_OUTPUT_DIR: path.join(root, "output"),
        FAL_MCP_STATE_DIR: path.join(root, "state"),
        HOME: root,
        HTTPS_PROXY: proxy.url,
        HTTP_PROXY: proxy.url,
        FAL_MCP_LOG_LEVEL: "warning",
      }),
      stderr: "pipe",
    });
    const client = new Client({ name: "proxy-test", version: "0" });
    await client.connect(transport);
    try {
      const ran = (await client.callTool({
        name: "run_model",
        arguments: { endpoint_id: "fal-ai/flux/dev", input: { prompt: "a fox" } },
      })) as CallToolResult;
      expect(ran.isError, textOf(ran)).toBeFalsy();
      const saved = (ran.structuredContent as unknown as RunOut).files?.[0]?.path ?? "";
      expect((await fs.stat(saved)).size).toBeGreaterThan(0);
      const file = path.join(root, "output", "up.png");
      await fs.writeFile(file, Buffer.alloc(2048, 9));
      const uploaded = (await client.callTool({
        name: "upload_file",
        arguments: { path: file },
      })) as CallToolResult;
      expect(uploaded.isError, textOf(uploaded)).toBeFalsy();
    } finally {
      await client.close();
      await fs.rm(root, { recursive: true, force: true });
    }
    const through = proxy.passed.join("\n");
    expect(through).toMatch(/^TUNNEL fal-fake\.invalid:\d+ POST \/queue\.fal\.run\/fal-ai\/flux\/dev$/m);
    expect(through).toMatch(/^TUNNEL fal-fake\.invalid:\d+ GET \/[a-z0-9.]*fal\.media\//m);
    expect(through).toMatch(/^PUT http:\/\/fal-fake\.invalid:\d+\/v3\.fal\.media\/upload\//m);
    expect(proxy.refused).toEqual([]);
  });
});
