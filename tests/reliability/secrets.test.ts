// Secrets: every tool, its error paths and `doctor`, run with a recognisable fake key (FAL_KEY, and
// FAL_KEY_ID + FAL_KEY_SECRET). The key must appear in no stdout line (results, progress, MCP log
// notifications), no stderr line, no in-process log line, no file under the output and state
// folders, and reach fal only in the Authorization header (never on CDN requests).
import type { CallToolResult } from "@modelcontextprotocol/client";
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../helpers/logger.js";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { BIN, childEnv, INITIALIZE, INITIALIZED, spawnRaw, type RawServer } from "../helpers/bin.js";
import { startHarness, textOf } from "../helpers/harness.js";
import { allFiles, loopbackOnlyFetch, SHORT_ENV } from "./support.js";

const PLAIN_KEY = "fmk-RECOGNISABLE-7c41e9d2a8b3f605-KEYVALUE";
const KEY_ID = "fmk-id-RECOG-31337";
const KEY_SECRET = "fmk-secret-RECOG-9a8b7c6d5e4f3a2b1c0d";
const JOINED = `${KEY_ID}:${KEY_SECRET}`;

interface KeyForm {
  name: string;
  env: Record<string, string>;
  /** Strings that must never show up anywhere. */
  needles: string[];
}

const FORMS: KeyForm[] = [
  { name: "FAL_KEY", env: { FAL_KEY: PLAIN_KEY }, needles: [PLAIN_KEY, "RECOGNISABLE-7c41e9d2a8b3f605"] },
  {
    name: "FAL_KEY_ID + FAL_KEY_SECRET",
    env: { FAL_KEY_ID: KEY_ID, FAL_KEY_SECRET: KEY_SECRET },
    needles: [JOINED, KEY_SECRET, "9a8b7c6d5e4f3a2b1c0d"],
  },
];

let fake: FakeFal;
beforeAll(async () => {
  fake = await startFakeFal({ keys: [PLAIN_KEY, JOINED] });
});
afterAll(async () => {
  await fake.close();
});

function leaks(haystack: string, needles: string[]): string[] {
  return needles.filter((needle) => haystack.includes(needle));
}

/** The fake saw the key only as the Authorization header: not in paths, queries, other headers, job inputs, or on the CDN. */
function checkFakeSawKeyOnlyInAuth(needles: string[]): void {
  for (const request of fake.requests) {
    const visible = `${request.path}${request.search} ${JSON.stringify(request.headers)}`;
    expect(leaks(visible, needles), `${request.method} ${request.host}${request.path}`).toEqual([]);
    if (request.host.endsWith("fal.media"))
      expect(request.hadAuth, `${request.method} ${request.host}${request.path} carried Authorization`).toBe(
        false,
      );
  }
  for (const job of fake.jobs.values()) expect(leaks(JSON.stringify(job.input), needles)).toEqual([]);
  expect(fake.authLeaks).toBe(0);
}

async function setupFolders(): Promise<{ root: string; env: Record<string, string>; image: string }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-secrets-"));
  const allowed = path.join(root, "allowed");
  await fs.mkdir(allowed, { recursive: true });
  await fs.mkdir(path.join(root, "home"), { recursive: true });
  const image = path.join(allowed, "photo.png");
  await fs.writeFile(image, Buffer.alloc(4096, 3));
  return {
    root,
    image,
    env: {
      ...SHORT_ENV,
      FAL_MCP_WAIT_SECONDS: "5",
      FAL_MCP_LOG_LEVEL: "debug",
      FAL_MCP_BASE_URL: fake.url,
      FAL_MCP_OUTPUT_DIR: path.join(root, "output"),
      FAL_MCP_STATE_DIR: path.join(root, "state"),
      FAL_MCP_ALLOWED_DIRS: allowed,
      HOME: path.join(root, "home"),
    },
  };
}

/** Every tool, successful and failing, as (name, args, optional fault to inject first). */
function scenario(image: string, needles: string[]) {
  return [
    { tool: "search_models", args: { query: "flux", limit: 3 } },
    { tool: "get_model_schema", args: { endpoint_id: "fal-ai/flux/dev" } },
    { tool: "get_pricing", args: { endpoint_ids: ["fal-ai/flux/dev", "fake/instant"], quantity: 3 } },
    { tool: "search_docs", args: { query: "queue" } },
    { tool: "recommend_model", args: { task: "animate a photo into a short video" } },
    { tool: "upload_file", args: { path: image } },
    {
      tool: "run_model",
      args: { endpoint_id: "fake/instant", input: { prompt: "a fox", image_url: image } },
    },
    {
      tool: "submit_job",
      args: { endpoint_id: "fake/slow-video", input: { prompt: "a fox running" } },
      keep: true,
    },
    { tool: "check_job", args: { logs: true }, useKept: true },
    { tool: "get_job_result", args: {}, useKept: true },
    { tool: "cancel_job", args: {}, useKept: true },
    // check_job refuses to cancel; the refusal carries no key either.
    { tool: "check_job", args: { action: "cancel" }, useKept: true },
    { tool: "upload_file", args: { data: Buffer.from("a fox").toString("base64") } },
    { tool: "upload_file", args: { prepare_upload: true, file_size: 5, file_name: "fox.txt" } },
    { tool: "run_model", args: { endpoint_id: "fake/fails", input: { prompt: "x" } } },
    { tool: "check_job", args: { request_id: "no-such-job" } },
    { tool: "check_job", args: { request_id: "no-such-job", endpoint_id: "fake/instant" } },
    { tool: "get_model_schema", args: { endpoint_id: 42 } },
    { tool: "upload_file", args: { path: "/etc/passwd" } },
    // fal echoing the key back in an error body must not carry it into a result.
    {
      tool: "get_pricing",
      args: { endpoint_ids: ["fal-ai/flux/schnell"] },
      fault: {
        host: "api.fal.ai",
        fault: { kind: "status" as const, status: 401, body: { detail: `Invalid key: ${needles[0]}` } },
      },
      echoes: true,
    },
    {
      tool: "submit_job",
      args: { endpoint_id: "fake/instant", input: { prompt: "x" } },
      fault: { host: "queue.fal.run", method: "POST", fault: { kind: "status" as const, status: 503 } },
    },
    {
      tool: "upload_file",
      args: { path: image },
      fault: { host: "rest.fal.ai", fault: { kind: "drop-before" as const } },
    },
    {
      tool: "run_model",
      args: { endpoint_id: "fake/instant", input: { prompt: "y" } },
      fault: { host: "*.fal.media", method: "GET", fault: { kind: "stall-body" as const, afterBytes: 10 } },
    },
  ];
}

async function scanFiles(root: string, needles: string[]): Promise<number> {
  const files = [
    ...(await allFiles(path.join(root, "output"))),
    ...(await allFiles(path.join(root, "state"))),
  ];
  for (const file of files) {
    const content = await fs.readFile(file, "latin1");
    expect(leaks(content, needles), file).toEqual([]);
  }
  return files.length;
}

describe("the key never leaks", () => {
  for (const form of FORMS) {
    it(`over stdio with ${form.name}: stdout, stderr, MCP logs, results, files, doctor`, async () => {
      fake.reset();
      const { root, env, image } = await setupFolders();
      const server: RawServer = spawnRaw({ ...env, ...form.env });
      try {
        let id = 10;
        const request = async (
          method: string,
          params: Record<string, unknown>,
        ): Promise<Record<string, unknown>> => {
          const current = ++id;
          server.send({ jsonrpc: "2.0", id: current, method, params });
          return server.response(current, 30_000);
        };
        server.send(INITIALIZE);
        await server.response(0);
        server.send(INITIALIZED);
        await request("logging/setLevel", { level: "debug" });
        let kept = "";
        let results = 0;
        for (const step of scenario(image, form.needles)) {
          const remove = step.fault ? fake.inject(step.fault) : undefined;
          const args = step.useKept ? { ...step.args, request_id: kept } : step.args;
          const response = await request("tools/call", {
            name: step.tool,
            arguments: args,
            _meta: { progressToken: `p${id}` },
          });
          remove?.();
          const result = response.result as CallToolResult | undefined;
          expect(result, JSON.stringify(response).slice(0, 300)).toBeDefined();
          results++;
          if (step.keep) kept = (result?.structuredContent as { request_id: string }).request_id;
          if (step.echoes) expect(textOf(result!)).toContain("<redacted>");
        }
        expect(results).toBe(23);
        expect(kept).not.toBe("");
        // MCP log notifications and progress went out on stdout too.
        expect(server.stdoutLines.some((line) => line.includes('"notifications/message"'))).toBe(true);
        expect(server.stdoutLines.some((line) => line.includes('"notifications/progress"'))).toBe(true);
        server.child.stdin.end();
        await server.exited;

        const stdout = server.stdoutLines.join("\n");
        expect(leaks(stdout, form.needles), "stdout").toEqual([]);
        expect(leaks(server.stderr(), form.needles), "stderr").toEqual([]);
        expect(server.stderr()).toMatch(/warning: \w+ failed/);
        expect(await scanFiles(root, form.needles)).toBeGreaterThan(3);

        // doctor, with the same environment (and the key rejected once, echoed back by fal).
        const remove = fake.inject({
          host: "api.fal.ai",
          path: "/v1/models/pricing",
          times: 1,
          fault: { kind: "status", status: 401, body: { detail: `bad key ${form.needles[0]}` } },
        });
        for (let run = 0; run < 2; run++) {
          const doctor = spawn(process.execPath, [BIN, "doctor"], { env: childEnv({ ...env, ...form.env }) });
          let out = "";
          doctor.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
          doctor.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
          await new Promise((resolve) => doctor.on("close", resolve));
          expect(out).toMatch(/API key/);
          expect(leaks(out, form.needles), `doctor run ${run}: ${out}`).toEqual([]);
        }
        remove();
        checkFakeSawKeyOnlyInAuth(form.needles);
      } finally {
        if (server.child.exitCode === null) server.child.kill("SIGKILL");
        await fs.rm(root, { recursive: true, force: true });
      }
    }, 90_000);
  }

  it("in memory with FAL_KEY_ID + FAL_KEY_SECRET: no log line, log notification or result carries it (without relying on redaction)", async () => {
    fake.reset();
    const form = FORMS[1]!;
    const { root, env, image } = await setupFolders();
    const lines: string[] = [];
    const notifications: string[] = [];
    const refused: string[] = [];
    const harness = await startHarness({
      baseUrl: fake.url,
      env: { ...env, FAL_KEY: undefined, ...form.env },
      fetch: loopbackOnlyFetch(refused),
      logger: captureLogger(lines, "debug"),
      setupClient: (client) =>
        client.setNotificationHandler(
          "notifications/message",
          (n) => void notifications.push(JSON.stringify(n.params)),
        ),
    });
    try {
      await harness.client.setLoggingLevel("debug");
      let kept = "";
      const results: string[] = [];
      for (const step of scenario(image, form.needles)) {
        if (step.echoes) continue; // redaction of echoed keys is the stdio entry's job (tested above)
        const remove = step.fault ? fake.inject(step.fault) : undefined;
        const result = await harness.call(
          step.tool,
          step.useKept ? { ...step.args, request_id: kept } : step.args,
          { onprogress: () => undefined },
        );
        remove?.();
        if (step.keep) kept = (result.structuredContent as { request_id: string }).request_id;
        results.push(JSON.stringify(result));
      }
      expect(results).toHaveLength(22);
      expect(lines.length).toBeGreaterThan(5);
      expect(notifications.length).toBeGreaterThan(3);
      expect(leaks(results.join("\n"), form.needles), "tool results").toEqual([]);
      expect(leaks(lines.join("\n"), form.needles), "log lines").toEqual([]);
      expect(leaks(notifications.join("\n"), form.needles), "MCP log notifications").toEqual([]);
      expect(await scanFiles(root, form.needles)).toBeGreaterThan(3);
      expect(refused).toEqual([]);
      checkFakeSawKeyOnlyInAuth(form.needles);
      // Only the joined key in the Authorization header authenticated these calls.
      expect(fake.requests.filter((request) => request.hadAuth).every((request) => request.keyOk)).toBe(true);
    } finally {
      await harness.close();
      await fs.rm(root, { recursive: true, force: true });
    }
  }, 60_000);
});
