import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, type Harness } from "../helpers/harness.js";

/**
 * The tool list is a contract: fal's hosted server uses these names (prompts written for it carry
 * over), and clients use the annotations to decide when to ask the user. Change it on purpose only.
 */
const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
const WRITES = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true };
// Stops a paid job: the one destructive tool, so clients can ask before it alone.
const CANCELS = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true };
// fal's eleven tools, in the order of fal's hosted server (mcp-notes §2.8 for the hints).
const CONTRACT: [string, typeof READ_ONLY][] = [
  ["search_models", READ_ONLY],
  ["get_model_schema", READ_ONLY],
  ["get_pricing", READ_ONLY],
  ["search_docs", READ_ONLY],
  ["recommend_model", READ_ONLY],
  ["run_model", WRITES],
  ["submit_job", WRITES],
  ["check_job", READ_ONLY],
  ["get_job_result", READ_ONLY],
  ["cancel_job", CANCELS],
  ["upload_file", WRITES],
];

let fake: FakeFal;
let harness: Harness;

beforeAll(async () => {
  fake = await startFakeFal();
  harness = await startHarness({ baseUrl: fake.url });
});

afterAll(async () => {
  await harness?.close();
  await fake?.close();
});

describe("the tool contract", () => {
  it("lists exactly fal's eleven tool names, in order, with every annotation set", async () => {
    const { tools } = await harness.client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(CONTRACT.map(([name]) => name));
    for (const [name, annotations] of CONTRACT) {
      const tool = tools.find((candidate) => candidate.name === name);
      expect(tool?.annotations, name).toMatchObject(annotations);
      expect(tool?.annotations?.title, name).toBe(tool?.title);
      expect(tool?.title, name).toBeTruthy();
      expect(tool?.description?.length ?? 0, name).toBeGreaterThan(80);
      expect(tool?.outputSchema, name).toBeDefined();
      expect(tool?.inputSchema.additionalProperties, `${name} rejects unknown arguments`).toBe(false);
    }
    // The same list on every call: clients cache it and compare.
    expect((await harness.client.listTools()).tools).toEqual(tools);
  });

  it("takes fal's argument names", async () => {
    const { tools } = await harness.client.listTools();
    const args = (name: string) =>
      Object.keys(tools.find((tool) => tool.name === name)?.inputSchema.properties ?? {});
    const required = (name: string) => tools.find((tool) => tool.name === name)?.inputSchema.required ?? [];
    const FAL_ARGUMENTS: Record<string, string[]> = {
      search_models: ["query", "category", "limit", "cursor"],
      get_model_schema: ["endpoint_id"],
      get_pricing: ["endpoint_id"],
      search_docs: ["query"],
      recommend_model: ["task"],
      run_model: ["endpoint_id", "input", "expiration_seconds", "store_payload"],
      submit_job: ["endpoint_id", "input", "expiration_seconds", "store_payload"],
      check_job: ["endpoint_id", "request_id", "status_url"],
      get_job_result: ["endpoint_id", "request_id", "response_url"],
      cancel_job: ["endpoint_id", "request_id", "cancel_url"],
      upload_file: ["url", "data", "prepare_upload", "file_size", "file_name"],
    };
    for (const [name, names] of Object.entries(FAL_ARGUMENTS))
      expect(args(name), name).toEqual(expect.arrayContaining(names));
    // What fal requires is required here too, except endpoint_id for jobs in this server's record.
    expect(required("run_model")).toEqual(expect.arrayContaining(["endpoint_id", "input"]));
    for (const name of ["check_job", "get_job_result", "cancel_job"])
      expect(required(name), name).toEqual(["request_id"]);
    // Only cancel_job cancels: the old check_job action is described as removed.
    expect(tools.find((tool) => tool.name === "check_job")?.description).toMatch(/cancel_job/);
  });

  it("describes every input field for the model", async () => {
    const { tools } = await harness.client.listTools();
    for (const tool of tools) {
      for (const [field, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        expect((schema as { description?: string }).description, `${tool.name}.${field}`).toBeTruthy();
      }
    }
  });

  it("mentions cost on every tool that can spend money", async () => {
    const { tools } = await harness.client.listTools();
    for (const name of ["run_model", "submit_job", "cancel_job"]) {
      expect(tools.find((tool) => tool.name === name)?.description, name).toMatch(
        /cost|pa(y|id)|bill|money|credit/i,
      );
    }
  });

  it("rejects an unknown tool (JSON-RPC -32602, as SDK v2 answers) and unknown arguments (an isError result that names them)", async () => {
    await expect(harness.call("generate_image", {})).rejects.toThrow(/-32602|generate_image/);
    const extraKey = await harness.call("search_models", { query: "flux", prompt: "a cat" });
    expect(extraKey.isError).toBe(true);
    expect(JSON.stringify(extraKey.content)).toMatch(/prompt/);
  });
});
