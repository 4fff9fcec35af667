import type { CallToolResult } from "@modelcontextprotocol/client";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, textOf, type Harness, type HarnessOptions } from "../helpers/harness.js";

// "Never a surprise bill" (issue 13), through a real SDK client against the fake of fal.
// fake/instant costs $0.01 per image; fal-ai/flux-pro/v1.1-ultra $0.06 per image.

let fake: FakeFal;
const open: Harness[] = [];

beforeAll(async () => {
  fake = await startFakeFal();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});
afterEach(async () => {
  for (const harness of open.splice(0)) await harness.close();
});

async function start(options: Partial<HarnessOptions> = {}): Promise<Harness> {
  const harness = await startHarness({
    baseUrl: fake.url,
    ...options,
    env: { FAL_MCP_LOG_LEVEL: "error", ...options.env },
  });
  open.push(harness);
  return harness;
}

const submits = () => fake.countRequests({ method: "POST", host: "queue.fal.run" });
const uploads = () => fake.countRequests({ host: "rest.fal.ai" });
type Cost = {
  estimate_usd: number | null;
  cost_usd?: number | null;
  cost_source?: string | null;
  notes: string[];
};
const costOf = (result: CallToolResult) => (result.structuredContent as { cost?: Cost }).cost;

describe("caps", () => {
  it("refuses a call over the per-call cap and sends nothing to fal, not even its local files", async () => {
    const harness = await start({ env: { FAL_MCP_MAX_COST_PER_CALL: "0.015" } });
    // In the output folder: the one folder readable by default (the home folder is not).
    await fs.mkdir(harness.config.outputDir, { recursive: true });
    const file = path.join(harness.config.outputDir, "start.png");
    await fs.writeFile(file, Buffer.alloc(512, 1));
    const result = await harness.call("run_model", {
      endpoint_id: "fake/instant",
      input: { prompt: "a fox", num_images: 2, image_url: file },
    });
    expect(result.isError).toBe(true);
    const text = textOf(result);
    expect(text).toContain("Refused before sending anything to fal");
    expect(text).toContain("$0.02");
    expect(text).toContain("$0.015 (FAL_MCP_MAX_COST_PER_CALL)");
    expect(text).toMatch(/Next step: .*FAL_MCP_MAX_COST_PER_CALL/);
    expect(submits()).toBe(0);
    expect(uploads()).toBe(0);
    // Under the cap it runs.
    const ok = await harness.call("run_model", {
      endpoint_id: "fake/instant",
      input: { prompt: "a fox", image_url: file },
    });
    expect(ok.isError, textOf(ok)).toBeFalsy();
    expect(submits()).toBe(1);
    expect(uploads()).toBeGreaterThan(0);
  });

  it("refuses the call that would pass the daily cap, counted from the job record across a restart", async () => {
    const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-money-state-"));
    const env = { FAL_MCP_MAX_COST_PER_DAY: "0.025", FAL_MCP_STATE_DIR: stateDir };
    try {
      const first = await start({ env });
      for (let i = 0; i < 2; i++) {
        const result = await first.call("submit_job", {
          endpoint_id: "fake/instant",
          input: { prompt: `p${i}` },
        });
        expect(result.isError, textOf(result)).toBeFalsy();
        expect(costOf(result)?.estimate_usd).toBe(0.01);
      }
      expect(submits()).toBe(2);
      // A new server on the same state folder (a restart, or a second client) sees today's $0.02.
      const second = await start({ env });
      const refused = await second.call("submit_job", {
        endpoint_id: "fake/instant",
        input: { prompt: "p2" },
      });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/\$0\.02 is already spent or committed over 2 job\(s\)/);
      expect(textOf(refused)).toContain("$0.025 (FAL_MCP_MAX_COST_PER_DAY)");
      expect(submits()).toBe(2);
    } finally {
      await fs.rm(stateDir, { recursive: true, force: true });
    }
  });

  it("two servers on one state folder: a call under way in one counts against the other's daily cap", async () => {
    const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-money-state-"));
    const env = { FAL_MCP_MAX_COST_PER_DAY: "0.015", FAL_MCP_STATE_DIR: stateDir };
    try {
      const first = await start({ env });
      const second = await start({ env });
      // The first submit is held up on its way to fal: no job record exists yet.
      fake.inject({ host: "queue.fal.run", method: "POST", times: 1, fault: { kind: "delay", ms: 1500 } });
      const slow = first.call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "a" } });
      await expect.poll(() => fake.countRequests({ method: "POST", host: "queue.fal.run" })).toBe(1);
      const refused = await second.call("submit_job", {
        endpoint_id: "fake/instant",
        input: { prompt: "b" },
      });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toContain("$0.015 (FAL_MCP_MAX_COST_PER_DAY)");
      const ran = await slow;
      expect(ran.isError, textOf(ran)).toBeFalsy();
      expect(submits()).toBe(1);
      // Once recorded, the hold is gone and the record counts: still refused, counted once.
      const again = await second.call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "c" } });
      expect(textOf(again)).toMatch(/\$0\.01 is already spent or committed over 1 job\(s\)/);
      expect(submits()).toBe(1);
    } finally {
      await fs.rm(stateDir, { recursive: true, force: true });
    }
  });

  /** Runs one submit_job with a file where the state folder should be. */
  async function submitWithStateDirAsFile(env: Record<string, string>): Promise<CallToolResult> {
    const parent = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-money-state-"));
    const stateDir = path.join(parent, "not-a-folder");
    await fs.writeFile(stateDir, "a file where the state folder should be");
    try {
      const harness = await start({ env: { ...env, FAL_MCP_STATE_DIR: stateDir } });
      return await harness.call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "a" } });
    } finally {
      await fs.rm(parent, { recursive: true, force: true });
    }
  }

  it("a daily cap that cannot be checked (the state folder is a file) refuses the call, typed, and sends nothing", async () => {
    const refused = await submitWithStateDirAsFile({ FAL_MCP_MAX_COST_PER_DAY: "5" });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("the daily cap (FAL_MCP_MAX_COST_PER_DAY) could not be checked");
    expect(textOf(refused)).toContain("FAL_MCP_STATE_DIR");
    expect(textOf(refused)).not.toContain("Unexpected error");
    expect(submits()).toBe(0);
  });

  it("without a daily cap, an unusable state folder does not stop a paid call before it is sent", async () => {
    const ran = await submitWithStateDirAsFile({});
    expect(submits()).toBe(1);
    // The job exists on fal: the answer gives its id even though no record could be written.
    expect(textOf(ran)).toMatch(/request_id|Request id|request id/i);
  });

  it("refuses a call whose cost cannot be estimated when told to, and allows it by default saying so", async () => {
    // No price, no estimate: fal's pricing and estimate endpoints fail.
    fake.inject({ host: "api.fal.ai", path: "/v1/models/pricing*", fault: { kind: "status", status: 500 } });
    const strict = await start({ env: { FAL_MCP_UNKNOWN_COST: "refuse" } });
    const refused = await strict.call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "p" } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain('FAL_MCP_UNKNOWN_COST is "refuse"');
    expect(submits()).toBe(0);
    const lenient = await start();
    const allowed = await lenient.call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "p" } });
    expect(allowed.isError, textOf(allowed)).toBeFalsy();
    expect(costOf(allowed)?.estimate_usd).toBeNull();
    expect(textOf(allowed)).toMatch(/Estimated cost: unknown/);
    expect(textOf(allowed)).toMatch(/could not be estimated/);
  });
});

describe("approval", () => {
  it("always: run_model and submit_job carry anthropic/requiresUserInteraction, other tools do not", async () => {
    const harness = await start({ env: { FAL_MCP_CONFIRM: "always" } });
    const { tools } = await harness.client.listTools();
    const marked = tools
      .filter((tool) => tool._meta?.["anthropic/requiresUserInteraction"] === true)
      .map((t) => t.name);
    expect(marked.sort()).toEqual(["run_model", "submit_job"]);
    const never = await start();
    const listed = await never.client.listTools();
    expect(listed.tools.some((tool) => tool._meta?.["anthropic/requiresUserInteraction"] !== undefined)).toBe(
      false,
    );
  });

  it("always: Claude Code (which asks itself) runs the call; a client without a form gets the confirm path", async () => {
    const code = await start({
      env: { FAL_MCP_CONFIRM: "always" },
      clientInfo: { name: "claude-code", version: "2.1.332" },
    });
    const ran = await code.call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "p" } });
    expect(ran.isError, textOf(ran)).toBeFalsy();
    const other = await start({ env: { FAL_MCP_CONFIRM: "always" } });
    const asked = await other.call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "q" } });
    expect(asked.isError).toBe(true);
    expect(textOf(asked)).toMatch(/confirm: true/);
    expect(submits()).toBe(1);
  });

  it("over: asks with a form where the client shows one; yes runs it, no sends nothing", async () => {
    const questions: string[] = [];
    let answer: "yes" | "no" = "yes";
    const harness = await start({
      env: { FAL_MCP_CONFIRM: "over:0.05" },
      clientInfo: { name: "claude-code", version: "2.1.332" },
      clientOptions: { capabilities: { elicitation: { form: {} } } },
      setupClient: (client) =>
        client.setRequestHandler("elicitation/create", async (request) => {
          questions.push((request.params as { message: string }).message);
          return { action: "accept", content: { approve: answer === "yes" } };
        }),
    });
    // Under the threshold: no question.
    const cheap = await harness.call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "p" } });
    expect(cheap.isError, textOf(cheap)).toBeFalsy();
    expect(questions).toHaveLength(0);
    const dear = { endpoint_id: "fal-ai/flux-pro/v1.1-ultra", input: { prompt: "a fox", num_images: 2 } };
    const ran = await harness.call("submit_job", dear);
    expect(ran.isError, textOf(ran)).toBeFalsy();
    expect(questions).toHaveLength(1);
    expect(questions[0]).toContain("$0.12");
    expect(costOf(ran)?.notes.join(" ")).toContain("approved this call in the client's form");
    expect(submits()).toBe(2);
    answer = "no";
    const declined = await harness.call("submit_job", dear);
    expect(declined.isError).toBe(true);
    expect(textOf(declined)).toMatch(/the user declined/);
    expect(submits()).toBe(2);
    // A declined form leaves no confirm: true shortcut behind.
    const sneaky = await harness.call("submit_job", { ...dear, confirm: true });
    expect(questions).toHaveLength(3);
    expect(sneaky.isError).toBe(true);
    expect(submits()).toBe(2);
  });

  it("over, 2026 era: the form comes as an input-required round the SDK client fulfils; the retry runs it once", async () => {
    const questions: string[] = [];
    let answer: "yes" | "no" = "yes";
    const harness = await start({
      era: "2026-07-28",
      env: { FAL_MCP_CONFIRM: "over:0.05" },
      clientInfo: { name: "claude-code", version: "2.1.332" },
      clientOptions: { capabilities: { elicitation: { form: {} } } },
      setupClient: (client) =>
        client.setRequestHandler("elicitation/create", async (request) => {
          questions.push((request.params as { message: string }).message);
          return { action: "accept", content: { approve: answer === "yes" } };
        }),
    });
    expect(harness.client.getProtocolEra()).toBe("modern");
    const dear = { endpoint_id: "fal-ai/flux-pro/v1.1-ultra", input: { prompt: "a fox", num_images: 2 } };
    const ran = await harness.call("submit_job", dear);
    expect(ran.isError, textOf(ran)).toBeFalsy();
    expect(questions).toHaveLength(1);
    expect(questions[0]).toContain("$0.12");
    expect(costOf(ran)?.notes.join(" ")).toContain("approved this call in the client's form");
    expect(submits()).toBe(1);
    answer = "no";
    const declined = await harness.call("submit_job", { ...dear, input: { ...dear.input, num_images: 3 } });
    expect(declined.isError).toBe(true);
    expect(questions).toHaveLength(2);
    expect(questions[1]).toContain("$0.18");
    expect(textOf(declined)).toMatch(/the user declined/);
    expect(submits()).toBe(1);
    // The round really is an input_required result (no server-to-client request): a client that
    // fulfils by hand sees it, bound to the call by requestState, and nothing was sent.
    const manual = await start({
      era: "2026-07-28",
      env: { FAL_MCP_CONFIRM: "over:0.05" },
      clientInfo: { name: "claude-code", version: "2.1.332" },
      clientOptions: { capabilities: { elicitation: { form: {} } }, inputRequired: { autoFulfill: false } },
    });
    const round = (await manual.client.callTool(
      { name: "submit_job", arguments: dear },
      { allowInputRequired: true },
    )) as unknown as { resultType?: string; inputRequests?: Record<string, unknown>; requestState?: string };
    expect(round.resultType).toBe("input_required");
    expect(Object.keys(round.inputRequests ?? {})).toEqual(["approve_paid_call"]);
    expect(round.requestState).toMatch(/^[0-9a-f]{64}$/);
    expect(submits()).toBe(1);
  });

  it("over: Claude Desktop declares elicitation but never shows it: no form, the confirm path, bound to the arguments", async () => {
    let asked = 0;
    const harness = await start({
      env: { FAL_MCP_CONFIRM: "over:0.05" },
      clientInfo: { name: "claude-ai", version: "0.1.0" },
      clientOptions: { capabilities: { elicitation: {} } },
      setupClient: (client) =>
        client.setRequestHandler("elicitation/create", async () => {
          asked++;
          return { action: "cancel" };
        }),
    });
    const call = { endpoint_id: "fal-ai/flux-pro/v1.1-ultra", input: { prompt: "a fox", num_images: 2 } };
    const refused = await harness.call("run_model", call);
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("$0.12");
    expect(textOf(refused)).toMatch(/repeat exactly the same call .* with confirm: true/);
    expect(asked).toBe(0);
    expect(submits()).toBe(0);
    // A changed input needs its own approval, even with confirm: true.
    const changed = await harness.call("run_model", {
      ...call,
      input: { prompt: "a fox", num_images: 3 },
      confirm: true,
    });
    expect(changed.isError).toBe(true);
    expect(textOf(changed)).toContain("$0.18");
    expect(submits()).toBe(0);
    // The call the user was asked about goes through once.
    const approved = await harness.call("run_model", { ...call, confirm: true });
    expect(approved.isError, textOf(approved)).toBeFalsy();
    expect(submits()).toBe(1);
    expect(asked).toBe(0);
  });

  it("FAL_MCP_READ_ONLY=1 lists no paid or mutating tool", async () => {
    const harness = await start({ env: { FAL_MCP_READ_ONLY: "1" } });
    const names = (await harness.client.listTools()).tools.map((tool) => tool.name);
    expect(names).not.toContain("run_model");
    expect(names).not.toContain("submit_job");
    expect(names).not.toContain("upload_file");
    expect(names).toContain("get_pricing");
    expect(names).toContain("search_models");
  });
});

describe("the cost afterwards and the balance", () => {
  it("a completed job reports dollars: billed units × unit price and fal's cost_total, kept in the record", async () => {
    const harness = await start();
    const result = await harness.call("run_model", {
      endpoint_id: "fal-ai/flux-pro/v1.1-ultra",
      input: { prompt: "a fox", num_images: 2 },
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    const cost = costOf(result);
    expect(cost?.estimate_usd).toBe(0.12);
    expect(cost?.cost_usd).toBe(0.12);
    expect(cost?.cost_source).toBe("billing-event");
    expect(textOf(result)).toMatch(
      /Cost: \$0\.12 \(2 image × \$0\.06; fal's billing says \$0\.12\)\. Estimated before: \$0\.12\./,
    );
    const requestId = (result.structuredContent as { request_id: string }).request_id;
    const record = JSON.parse(
      await fs.readFile(path.join(harness.config.stateDir, "jobs", `${requestId}.json`), "utf8"),
    ) as { estimate_usd: number; cost_usd: number };
    expect(record).toMatchObject({ estimate_usd: 0.12, cost_usd: 0.12 });
  });

  it("with a key that may not read billing, the cost comes from billed units and the answer says why", async () => {
    const harness = await start({ env: { FAL_KEY: "test-key-api-preset" } });
    const result = await harness.call("run_model", { endpoint_id: "fake/instant", input: { prompt: "p" } });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(costOf(result)).toMatchObject({ cost_usd: 0.01, cost_source: "billed-units" });
    expect(costOf(result)?.notes.join(" ")).toContain("billing:usage:read");
    // The refusal is remembered for the key: a second job gets the same answer without asking again.
    const billingReads = () => fake.countRequests({ host: "api.fal.ai", path: "/v1/models/billing-events" });
    expect(billingReads()).toBe(1);
    const second = await harness.call("run_model", { endpoint_id: "fake/instant", input: { prompt: "q" } });
    expect(costOf(second)).toMatchObject({ cost_usd: 0.01, cost_source: "billed-units" });
    expect(costOf(second)?.notes.join(" ")).toContain("billing:usage:read");
    expect(billingReads()).toBe(1);
    const pricing = await harness.call("get_pricing", { endpoint_ids: ["fake/instant"] });
    expect(pricing.isError, textOf(pricing)).toBeFalsy();
    expect(textOf(pricing)).toMatch(
      /Credit balance: not shown \(this key lacks the billing:usage:read permission/,
    );
  });

  it("get_pricing reports the credit balance when the key may read it", async () => {
    const harness = await start();
    const pricing = await harness.call("get_pricing", { endpoint_ids: ["fake/instant"] });
    const credits = (pricing.structuredContent as { credits: { balance: number | null } }).credits;
    expect(credits.balance).toBe(fake.settings.creditBalance);
    expect(textOf(pricing)).toContain(`Credit balance: $${fake.settings.creditBalance}`);
  });
});

describe("unconfirmed submits", () => {
  it("a dropped submit that fal did receive is resolved to its request id from the request history", async () => {
    fake.inject({ host: "queue.fal.run", method: "POST", times: 1, fault: { kind: "drop-after" } });
    const harness = await start();
    const result = await harness.call("run_model", {
      endpoint_id: "fake/instant",
      input: { prompt: "lost answer" },
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    const jobs = fake.jobsFor("fake/instant");
    expect(jobs).toHaveLength(1);
    const requestId = (result.structuredContent as { request_id: string; status: string }).request_id;
    expect(requestId).toBe(jobs[0]?.requestId);
    expect((result.structuredContent as { status: string }).status).toBe("COMPLETED");
    expect(submits()).toBe(1);
    const names = await fs.readdir(path.join(harness.config.stateDir, "jobs"));
    expect(names).toContain(`${requestId}.json`);
    expect(names.filter((name) => name.startsWith("unconfirmed-"))).toEqual([]);
  });

  it("a dropped submit fal never received is reported as not found, not guessed", async () => {
    fake.inject({ host: "queue.fal.run", method: "POST", times: 1, fault: { kind: "drop-before" } });
    const harness = await start();
    const result = await harness.call("submit_job", {
      endpoint_id: "fake/instant",
      input: { prompt: "never sent" },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/request history shows no such request/);
    expect(fake.jobsFor("fake/instant")).toHaveLength(0);
    const names = await fs.readdir(path.join(harness.config.stateDir, "jobs"));
    expect(names.filter((name) => name.startsWith("unconfirmed-"))).toHaveLength(1);
  });
});
