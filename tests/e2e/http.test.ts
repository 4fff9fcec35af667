import { Client, StreamableHTTPClientTransport, type Progress } from "@modelcontextprotocol/client";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { BIN, childEnv } from "../helpers/bin.js";
import { negotiation, TEST_KEY, textOf, type ClientEra } from "../helpers/harness.js";

// `fal-mcp http` as a process on loopback, driven by the SDK v2 client over Streamable HTTP.

interface HttpServer {
  url: string;
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

async function startHttp(env: Record<string, string | undefined>): Promise<HttpServer> {
  const child = spawn(process.execPath, [BIN, "http", "--port", "0"], {
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL line within 10 s: ${stderr}`)), 10_000);
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /at (http:\/\/\S+\/mcp)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  expect(stdout).toBe("");
  return { url, child, stderr: () => stderr, exited };
}

async function connect(url: string, era: ClientEra, bearer = TEST_KEY): Promise<Client> {
  const client = new Client(
    { name: "http-test", version: "0.0.0" },
    { versionNegotiation: negotiation(era) },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { Authorization: `Bearer ${bearer}` } },
    }),
  );
  return client;
}

const call = async (
  client: Client,
  name: string,
  args: Record<string, unknown>,
  onprogress?: (p: Progress) => void,
) =>
  await client.callTool(
    { name, arguments: args },
    { timeout: 60_000, ...(onprogress ? { onprogress } : {}) },
  );

let fake: FakeFal;
let tempDir: string;
let env: Record<string, string>;
let server: HttpServer;

beforeAll(async () => {
  fake = await startFakeFal();
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-http-"));
  env = {
    FAL_MCP_BASE_URL: fake.url,
    HOME: path.join(tempDir, "home"),
    FAL_MCP_OUTPUT_DIR: path.join(tempDir, "output"),
    FAL_MCP_STATE_DIR: path.join(tempDir, "state"),
  };
  await fs.mkdir(env.HOME!, { recursive: true });
  server = await startHttp(env);
});

afterAll(async () => {
  server?.child.kill("SIGTERM");
  await server?.exited;
  await fake?.close();
  await fs.rm(tempDir, { recursive: true, force: true });
});

describe("fal-mcp http", () => {
  for (const era of ["legacy", "2026-07-28"] as const) {
    it(`serves a v2 client in the ${era} era: lists and calls tools with the caller's key`, async () => {
      const client = await connect(server.url, era);
      try {
        expect(client.getProtocolEra()).toBe(era === "legacy" ? "legacy" : "modern");
        const { tools } = await client.listTools();
        expect(tools.map((tool) => tool.name)).toContain("run_model");
        const found = await call(client, "search_models", { query: "flux", limit: 2 });
        expect(found.isError, textOf(found)).toBeFalsy();
        const price = await call(client, "get_pricing", { endpoint_ids: ["fal-ai/flux/dev"] });
        expect(price.isError, textOf(price)).toBeFalsy();
      } finally {
        await client.close();
      }
    });

    it(`streams progress over SSE in the ${era} era, and saves nothing on the server's disk`, async () => {
      fake.setBehavior("fal-ai/flux/schnell", {
        queueMs: 500,
        runMs: 800,
        queuePosition: 1,
        logs: ["Step 1/2"],
      });
      const client = await connect(server.url, era);
      try {
        const seen: Progress[] = [];
        const result = await call(
          client,
          "run_model",
          { endpoint_id: "fal-ai/flux/schnell", input: { prompt: "a fox" } },
          (progress) => seen.push(progress),
        );
        expect(result.isError, textOf(result)).toBeFalsy();
        expect(seen.length).toBeGreaterThanOrEqual(2);
        const structured = result.structuredContent as {
          status: string;
          request_id: string;
          recorded?: boolean;
        };
        expect(structured.status).toBe("COMPLETED");
        expect(structured.recorded).toBe(false);
        expect(textOf(result)).toContain("This HTTP server saves nothing on its disk by design");
        expect(textOf(result)).not.toContain("save: false");
        // Nothing written: no output folder, no job record.
        await expect(fs.access(env.FAL_MCP_OUTPUT_DIR!)).rejects.toThrow();
        await expect(fs.access(env.FAL_MCP_STATE_DIR!)).rejects.toThrow();
        // The job tools need endpoint_id (there is no record to find it in).
        const without = await call(client, "check_job", { request_id: structured.request_id });
        expect(without.isError).toBe(true);
        expect(textOf(without)).toMatch(/endpoint_id/);
        const withId = await call(client, "check_job", {
          request_id: structured.request_id,
          endpoint_id: "fal-ai/flux/schnell",
        });
        expect(withId.isError, textOf(withId)).toBeFalsy();
      } finally {
        await client.close();
      }
    });
  }

  it("a pending answer says no record is kept here by design and the request id is the handle", async () => {
    const client = await connect(server.url, "legacy");
    try {
      const submitted = await call(client, "submit_job", {
        endpoint_id: "fal-ai/flux/schnell",
        input: { prompt: "a fox" },
      });
      expect(submitted.isError, textOf(submitted)).toBeFalsy();
      const text = textOf(submitted);
      expect(text).toContain("keeps no job record by design");
      expect(text).toMatch(/request_id "[^"]+" and endpoint_id "fal-ai\/flux\/schnell"/);
      expect(text).not.toMatch(/could not be written/);
      expect((submitted.structuredContent as { recorded?: boolean }).recorded).toBe(false);
    } finally {
      await client.close();
    }
  });

  it("reads no file on the server's disk: paths are refused with what to use instead", async () => {
    const secret = path.join(env.HOME!, "photo.png");
    await fs.writeFile(secret, Buffer.alloc(256, 7));
    const client = await connect(server.url, "legacy");
    try {
      const before = fake.requests.length;
      const upload = await call(client, "upload_file", { path: secret });
      expect(upload.isError).toBe(true);
      expect(textOf(upload)).toMatch(/URL|base64/);
      const run = await call(client, "run_model", {
        endpoint_id: "fal-ai/flux/schnell",
        input: { prompt: "x", image_url: secret },
      });
      expect(run.isError).toBe(true);
      expect(textOf(run)).toMatch(/URL|base64/);
      // Refused before anything reached fal.
      expect(fake.requests.length).toBe(before);
    } finally {
      await client.close();
    }
  });

  it("answers 401 with WWW-Authenticate without a bearer, 403 to a foreign Host or Origin", async () => {
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    const headers = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
    const bare = await fetch(server.url, { method: "POST", headers, body });
    expect(bare.status).toBe(401);
    expect(bare.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const port = new URL(server.url).port;
    const host = await rawPost(
      port,
      { ...headers, Host: "evil.example.com", Authorization: `Bearer ${TEST_KEY}` },
      body,
    );
    expect(host).toBeGreaterThanOrEqual(400);
    expect(host).toBeLessThan(500);
    const origin = await fetch(server.url, {
      method: "POST",
      headers: { ...headers, Origin: "https://evil.example.com", Authorization: `Bearer ${TEST_KEY}` },
      body,
    });
    expect(origin.status).toBe(403);
    const ok = await fetch(server.url, {
      method: "POST",
      headers: { ...headers, Authorization: `Bearer ${TEST_KEY}` },
      body,
    });
    expect(ok.status).toBe(200);
  });

  it("with FAL_MCP_HTTP_TOKEN: the bearer must equal it and the server's key is used", async () => {
    const token = "team-token-0123456789abcdef";
    const team = await startHttp({ ...env, FAL_KEY: TEST_KEY, FAL_MCP_HTTP_TOKEN: token });
    try {
      await expect(connect(team.url, "legacy", TEST_KEY)).rejects.toThrow();
      const client = await connect(team.url, "2026-07-28", token);
      const price = await call(client, "get_pricing", { endpoint_ids: ["fal-ai/flux/dev"] });
      expect(price.isError, textOf(price)).toBeFalsy();
      await client.close();
      expect(team.stderr()).not.toContain(token);
      expect(team.stderr()).not.toContain(TEST_KEY);
    } finally {
      team.child.kill("SIGTERM");
      expect(await team.exited).toBe(0);
    }
  });

  it("two replicas behind a round-robin proxy serve one client in both eras", async () => {
    const second = await startHttp(env);
    const targets = [new URL(server.url), new URL(second.url)];
    const hits = [0, 0];
    let next = 0;
    const proxy = http.createServer((req, res) => {
      const index = next++ % 2;
      hits[index]! += 1;
      const target = targets[index]!;
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: target.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/mcp`;
    try {
      for (const era of ["legacy", "2026-07-28"] as const) {
        const client = await connect(proxyUrl, era);
        for (let i = 0; i < 3; i++) {
          const found = await call(client, "search_models", { query: "flux", limit: 1 });
          expect(found.isError, textOf(found)).toBeFalsy();
        }
        await client.close();
      }
      expect(hits[0]).toBeGreaterThan(1);
      expect(hits[1]).toBeGreaterThan(1);
    } finally {
      proxy.close();
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });
});

/** A POST with a hand-set Host header (fetch does not allow one). */
function rawPost(port: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path: "/mcp", method: "POST", headers },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
