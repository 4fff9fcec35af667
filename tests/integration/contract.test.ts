import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, type Harness } from "../helpers/harness.js";

/**
 * The tool list is a contract: fal's hosted server uses these names (prompts written for it carry
 * over), and clients use the annotations to decide when to ask the user. Change it on purpose only.
 */
const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
const WRITES = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true };
const CONTRACT: [string, typeof READ_ONLY][] = [
  ["search_models", READ_ONLY],
  ["get_model_schema", READ_ONLY],
  ["get_pricing", READ_ONLY],
  ["search_docs", READ_ONLY],
  ["run_model", WRITES],
  ["submit_job", WRITES],
  // Mostly a status read, but it can cancel a paid job: not read-only, and its description says so.
  // Not destructive, so clients do not ask for confirmation on every status check.
  ["check_job", WRITES],
  ["upload_file", WRITES],
  ["recommend_model", READ_ONLY],
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
  it("lists exactly fal's nine tool names, in order, with every annotation set", async () => {
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
    for (const name of ["run_model", "submit_job", "check_job"]) {
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
