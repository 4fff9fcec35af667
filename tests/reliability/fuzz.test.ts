// Bad-input suite (CI size): thousands of invalid and adversarial argument objects per tool through
// a real SDK client. Every one must come back quickly as an isError result naming the field, with
// nothing sent to fal, no prototype pollution, and the server still serving afterwards.
// FUZZ_RUNS overrides the number of cases per tool (tests/reliability/fuzz-nightly.ts runs more).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { textOf } from "../helpers/harness.js";
import { fuzzSetup, fuzzTool, type FuzzSetup, type FuzzStats } from "./fuzz-core.js";
import { TOOL_NAMES } from "./support.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

let fake: FakeFal;
let setup: FuzzSetup;
const stats: FuzzStats[] = [];

beforeAll(async () => {
  fake = await startFakeFal();
  setup = await fuzzSetup(fake);
});
afterAll(async () => {
  await setup.close();
  await fake.close();
  if (stats.length > 0) {
    const lines = stats.map(
      (s) =>
        `${s.tool.padEnd(16)} ${String(s.cases).padStart(6)} cases ${String(s.ms).padStart(6)} ms  slowest ${s.slowestMs} ms  ${JSON.stringify(s.byKind)}`,
    );
    process.stderr.write(
      `\nFuzz (${RUNS} cases per tool${SEED !== undefined ? `, seed ${SEED}` : ""}):\n${lines.join("\n")}\n`,
    );
  }
});

describe("bad-input fuzzer", () => {
  for (const tool of TOOL_NAMES) {
    it(`${tool}: ${RUNS} invalid argument objects are refused by name, nothing reaches fal`, async () => {
      const result = await fuzzTool(setup, fake, tool, RUNS, SEED);
      stats.push(result);
      expect(result.cases).toBe(RUNS);
      // Still serving: a valid call right after works.
      const ping = await setup.harness.call("search_models", { query: "flux", limit: 1 });
      expect(ping.isError, textOf(ping)).toBeFalsy();
      expect(fake.errors).toEqual([]);
    }, 120_000);
  }

  it("a bare __proto__ key is dropped by the SDK's request parser without polluting anything", async () => {
    const args = JSON.parse('{"query":"flux","limit":1,"__proto__":{"polluted":true}}') as Record<
      string,
      unknown
    >;
    const result = await setup.harness.call("search_models", args);
    // The SDK parses tools/call arguments as a record, which strips __proto__ before validation.
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("arguments over the 10,000-element cap are refused before validation, and the server keeps serving", async () => {
    const before = fake.requests.length;
    const wide = await setup.harness.call("run_model", {
      endpoint_id: "fake/instant",
      input: { prompt: "x", list: Array.from({ length: 20_000 }, (_, i) => i) },
    });
    expect(wide.isError).toBe(true);
    expect(textOf(wide)).toMatch(/more than the maximum of 10000 elements/);
    expect(fake.requests.length).toBe(before);
    const ping = await setup.harness.call("search_docs", { query: "queue" });
    expect(ping.isError, textOf(ping)).toBeFalsy();
  });

  it("non-object arguments are a JSON-RPC invalid-params error, not a crash", async () => {
    for (const bad of [[1, 2], "flux", 42, null]) {
      await expect(
        setup.harness.client.request({
          method: "tools/call",
          params: { name: "search_models", arguments: bad as never },
        }),
      ).rejects.toThrow(/-32602|Invalid/);
    }
    const ping = await setup.harness.call("search_models", { query: "flux", limit: 1 });
    expect(ping.isError, textOf(ping)).toBeFalsy();
  });
});
