import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { BIN } from "../helpers/bin.js";
import { TOOL_NAMES } from "../helpers/tool-names.js";

/**
 * Drives the built bin with the MCP Inspector CLI (2.12.0, pinned), the way CI jobs and users
 * script MCP servers. The Inspector runs on this Node (see the README's Development section).
 */
const INSPECTOR = path.resolve(
  path.dirname(BIN),
  "../node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
);
const KEY = "test-key-id:test-key-secret";
interface InspectorRun {
  code: number;
  stdout: string;
  stderr: string;
}

let fake: FakeFal;
let tempDir: string;
let serverEnv: string[];

function inspector(args: string[], extraEnv: string[] = []): Promise<InspectorRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        INSPECTOR,
        "--cli",
        process.execPath,
        BIN,
        ...serverEnv.concat(extraEnv).flatMap((e) => ["-e", e]),
        ...args,
      ],
      { env: { PATH: process.env.PATH ?? "", HOME: tempDir }, timeout: 90_000, maxBuffer: 20 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function callTool(name: string, args: Record<string, unknown>, extraEnv: string[] = []) {
  const run = await inspector(
    [
      "--method",
      "tools/call",
      "--tool-name",
      name,
      "--tool-args-json",
      JSON.stringify(args),
      "--format",
      "json",
    ],
    extraEnv,
  );
  const parsed = run.stdout.trim()
    ? (JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as { result?: Record<string, unknown> })
    : {};
  return { ...run, result: parsed.result };
}

let outputSchemas: Map<string, Record<string, unknown>>;
const validator = new AjvJsonSchemaValidator();
/** Tools whose real answer was checked against their advertised outputSchema. */
const validated = new Set<string>();

function expectMatchesOutputSchema(tool: string, structured: unknown) {
  validated.add(tool);
  const schema = outputSchemas.get(tool);
  expect(schema, `${tool} has an outputSchema`).toBeDefined();
  const check = validator.getValidator(schema as never)(structured);
  expect(check.valid, `${tool}: ${check.errorMessage ?? ""}`).toBe(true);
}

beforeAll(async () => {
  fake = await startFakeFal();
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-inspector-"));
  serverEnv = [
    `FAL_KEY=${KEY}`,
    `FAL_MCP_BASE_URL=${fake.url}`,
    `FAL_MCP_OUTPUT_DIR=${path.join(tempDir, "out")}`,
    `FAL_MCP_STATE_DIR=${path.join(tempDir, "state")}`,
    `FAL_MCP_ALLOWED_DIRS=${tempDir}`,
  ];
  const list = await inspector(["--method", "tools/list", "--format", "json"]);
  expect(list.code, list.stderr).toBe(0);
  const tools = (
    JSON.parse(list.stdout) as {
      result: { tools: { name: string; outputSchema: Record<string, unknown> }[] };
    }
  ).result.tools;
  outputSchemas = new Map(tools.map((tool) => [tool.name, tool.outputSchema]));
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await fs.rm(tempDir, { recursive: true, force: true });
});

describe("MCP Inspector CLI against the built bin", () => {
  it("lists exactly fal's eleven tools, in order", () => {
    expect([...outputSchemas.keys()]).toEqual(TOOL_NAMES);
  });

  it("finds no schema problems with --strict: no errors and no warnings", async () => {
    const run = await inspector(["--method", "tools/list", "--strict", "-q"]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    // Without -q the lint report goes to stderr: it must name no warning at all (type arrays from
    // .nullable(), keyword-less schemas from z.unknown() were the 41 of 0.1.0).
    const loud = await inspector(["--method", "tools/list", "--strict"]);
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stderr).not.toMatch(/Warning:|warnings? across/);
  });

  it.each([
    ["search_models", { query: "flux", limit: 3 }],
    ["get_model_schema", { endpoint_id: "fal-ai/flux/dev" }],
    ["get_model_schema", { endpoint_id: "fal-ai/flux/dev", detail: "full" }],
    [
      "get_pricing",
      { endpoint_ids: ["fal-ai/flux/dev", "fal-ai/kling-video/v2.1/master/image-to-video"], quantity: 4 },
    ],
    ["get_pricing", { endpoint_id: "fal-ai/flux/dev,fal-ai/kling-video/v2.1/master/image-to-video" }],
    ["search_docs", { query: "queue webhooks" }],
    ["recommend_model", { task: "animate this photo of my dog" }],
  ])("calls %s and gets structuredContent matching its outputSchema", async (name, args) => {
    const run = await callTool(name, args);
    expect(run.code, run.stderr).toBe(0);
    expect(run.result?.isError).toBeFalsy();
    expectMatchesOutputSchema(name, run.result?.structuredContent);
    expect(run.stdout + run.stderr).not.toContain(KEY);
  });

  it.each([
    ["search_models", { limit: 500 }, /limit/],
    ["get_model_schema", {}, /endpoint_id/],
    [
      "get_model_schema",
      { endpoint_id: "fal-ai/flux/dev", detail: "huge" },
      /detail[\s\S]*(summary|full)|(summary|full)[\s\S]*detail/,
    ],
    ["get_pricing", { endpoint_ids: [] }, /endpoint_ids/],
    ["check_job", { request_id: "x", action: "explode" }, /action/],
    ["check_job", { request_id: "x", endpoint_id: "fake/instant", action: "cancel" }, /cancel_job/],
    ["cancel_job", {}, /request_id/],
    ["upload_file", { prepare_upload: true, file_name: "a.png" }, /file_size/],
  ])("exits 5 with a message naming the field for bad arguments to %s", async (name, args, pattern) => {
    const run = await callTool(name, args);
    expect(run.code).toBe(5);
    expect(JSON.stringify(run.result ?? "") + run.stderr + run.stdout).toMatch(pattern);
  });

  it("runs a model, then submits and checks a job across separate server processes", async () => {
    const ran = await callTool("run_model", { endpoint_id: "fake/instant", input: { prompt: "a red fox" } });
    expect(ran.code, ran.stderr).toBe(0);
    expectMatchesOutputSchema("run_model", ran.result?.structuredContent);
    const structured = ran.result?.structuredContent as { status: string; files: { path?: string }[] };
    expect(structured.status).toBe("COMPLETED");
    const saved = structured.files[0]?.path;
    expect(saved && (await fs.stat(saved)).size).toBeGreaterThan(0);

    const submitted = await callTool("submit_job", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "a lighthouse" },
    });
    expect(submitted.code, submitted.stderr).toBe(0);
    expectMatchesOutputSchema("submit_job", submitted.result?.structuredContent);
    const requestId = (submitted.result?.structuredContent as { request_id: string }).request_id;
    expect(fake.jobsFor("fal-ai/flux/dev").some((job) => job.requestId === requestId)).toBe(true);

    // A new process: the endpoint comes from the durable job record.
    fake.advanceTime(60_000);
    const status = await callTool("check_job", { request_id: requestId });
    expect(status.code, status.stderr).toBe(0);
    expectMatchesOutputSchema("check_job", status.result?.structuredContent);
    const result = await callTool("get_job_result", { request_id: requestId });
    expect(result.code, result.stderr).toBe(0);
    expectMatchesOutputSchema("get_job_result", result.result?.structuredContent);
    expect((result.result?.structuredContent as { status: string }).status).toBe("COMPLETED");

    const video = await callTool("submit_job", {
      endpoint_id: "fake/slow-video",
      input: { prompt: "waves" },
    });
    const videoId = (video.result?.structuredContent as { request_id: string }).request_id;
    const cancelled = await callTool("cancel_job", { request_id: videoId });
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expectMatchesOutputSchema("cancel_job", cancelled.result?.structuredContent);
    expect(
      fake.requests.some((r) => r.method === "PUT" && r.path.endsWith(`/requests/${videoId}/cancel`)),
    ).toBe(true);
  });

  it("uploads a local file", async () => {
    const file = path.join(tempDir, "photo.png");
    await fs.writeFile(file, Buffer.alloc(1024, 7));
    const run = await callTool("upload_file", { path: file });
    expect(run.code, run.stderr).toBe(0);
    expectMatchesOutputSchema("upload_file", run.result?.structuredContent);
    const uploaded = run.result?.structuredContent as { url: string; size: number; content_type: string };
    expect(uploaded.size).toBe(1024);
    expect(uploaded.content_type).toBe("image/png");
    expect(fake.uploads.get(uploaded.url)?.size).toBe(1024);

    const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
    const data = await callTool("upload_file", { data: png.toString("base64") });
    expect(data.code, data.stderr).toBe(0);
    expectMatchesOutputSchema("upload_file", data.result?.structuredContent);
    expect((data.result?.structuredContent as { content_type: string }).content_type).toBe("image/png");

    const prepared = await callTool("upload_file", {
      prepare_upload: true,
      file_size: 10,
      file_name: "a.mp4",
    });
    expect(prepared.code, prepared.stderr).toBe(0);
    expectMatchesOutputSchema("upload_file", prepared.result?.structuredContent);
  });

  it("checked a real answer of every one of the eleven tools against its outputSchema", () => {
    expect([...validated].sort()).toEqual([...TOOL_NAMES].sort());
  });

  it("reports a failed job as a tool error (exit 5) with fal's reason", async () => {
    const run = await callTool("run_model", { endpoint_id: "fake/fails", input: { prompt: "x" } });
    expect(run.code).toBe(5);
    expect(run.stderr + run.stdout).toMatch(/tool_is_error|isError/);
  });
});
