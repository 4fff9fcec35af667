import { describe, expect, it } from "vitest";
import { parseConfirmPolicy, parseUsd } from "../../src/config.js";
import type { CostEstimate } from "../../src/jobs/estimate.js";
import {
  PendingApprovals,
  SpendRefusedError,
  approvalRequired,
  callFingerprint,
  canonicalJson,
  checkSpend,
  elicitationReallyShown,
  honoursRequiresUserInteraction,
  type SpendSettings,
} from "../../src/jobs/spend-gate.js";

const known = (amount: number): CostEstimate => ({
  known: true,
  amount,
  currency: "USD",
  basis: "test",
  source: "unit-price",
});
const unknown: CostEstimate = { known: false, reason: "no price" };
const settings = (over: Partial<SpendSettings> = {}): SpendSettings => ({
  maxCostPerCall: undefined,
  maxCostPerDay: undefined,
  unknownCost: "allow",
  confirm: { mode: "never" },
  ...over,
});
const today = (spent: number) => ({ day: "2026-12-01", spent, jobs: 2, unknown: 0 });

describe("settings", () => {
  it("parses FAL_MCP_CONFIRM", () => {
    expect(parseConfirmPolicy(undefined)).toEqual({ mode: "never" });
    expect(parseConfirmPolicy("always")).toEqual({ mode: "always" });
    expect(parseConfirmPolicy("over:0.50")).toEqual({ mode: "over", amount: 0.5 });
    expect(parseConfirmPolicy("over:$2")).toEqual({ mode: "over", amount: 2 });
    expect(parseConfirmPolicy("sometimes")).toContain("FAL_MCP_CONFIRM must be");
  });

  it("parses dollar amounts", () => {
    expect(parseUsd("X", undefined)).toBeUndefined();
    expect(parseUsd("X", "2.5")).toBe(2.5);
    expect(parseUsd("X", "$1")).toBe(1);
    expect(parseUsd("X", "-1")).toContain("X must be");
    expect(parseUsd("X", "lots")).toContain("X must be");
  });
});

describe("checkSpend", () => {
  const base = { endpointId: "a/b", today: undefined, clientAsksEveryCall: false };

  it("refuses a call over the per-call cap, naming the estimate, the cap and the setting", () => {
    const decision = checkSpend({ ...base, estimate: known(1.2), settings: settings({ maxCostPerCall: 1 }) });
    expect(decision.kind).toBe("refuse");
    if (decision.kind !== "refuse") return;
    expect(decision.error).toBeInstanceOf(SpendRefusedError);
    expect(decision.error.message).toContain("$1.2");
    expect(decision.error.message).toContain("$1 (FAL_MCP_MAX_COST_PER_CALL)");
    expect(decision.error.nextStep).toContain("FAL_MCP_MAX_COST_PER_CALL");
    expect(checkSpend({ ...base, estimate: known(1), settings: settings({ maxCostPerCall: 1 }) }).kind).toBe(
      "allow",
    );
  });

  it("refuses a call that would pass the daily cap, and applies no daily cap without a ledger", () => {
    const over = checkSpend({
      ...base,
      estimate: known(2),
      today: today(4),
      settings: settings({ maxCostPerDay: 5 }),
    });
    expect(over.kind).toBe("refuse");
    if (over.kind === "refuse")
      expect(over.error.message).toMatch(/\$4 .*\$6.*\$5 \(FAL_MCP_MAX_COST_PER_DAY\)/);
    const fits = checkSpend({
      ...base,
      estimate: known(1),
      today: today(4),
      settings: settings({ maxCostPerDay: 5 }),
    });
    expect(fits.kind).toBe("allow");
    if (fits.kind === "allow") expect(fits.notes.join(" ")).toContain("Spent today: $4 of the $5 daily cap");
    expect(checkSpend({ ...base, estimate: known(2), settings: settings({ maxCostPerDay: 5 }) }).kind).toBe(
      "allow",
    );
  });

  it("allows an unknown cost by default and says so; refuses it when told to", () => {
    const allowed = checkSpend({ ...base, estimate: unknown, settings: settings({ maxCostPerCall: 1 }) });
    expect(allowed.kind).toBe("allow");
    if (allowed.kind === "allow") expect(allowed.notes[0]).toContain("could not be estimated");
    const refused = checkSpend({ ...base, estimate: unknown, settings: settings({ unknownCost: "refuse" }) });
    expect(refused.kind).toBe("refuse");
    if (refused.kind === "refuse") expect(refused.error.nextStep).toContain("FAL_MCP_UNKNOWN_COST=allow");
  });

  it("asks for approval over the threshold, for unknown costs under over:, and always with always", () => {
    const over = settings({ confirm: { mode: "over", amount: 0.5 } });
    expect(checkSpend({ ...base, estimate: known(0.4), settings: over }).kind).toBe("allow");
    expect(checkSpend({ ...base, estimate: known(0.6), settings: over }).kind).toBe("approve");
    expect(checkSpend({ ...base, estimate: unknown, settings: over }).kind).toBe("approve");
    const always = settings({ confirm: { mode: "always" } });
    expect(checkSpend({ ...base, estimate: known(0.01), settings: always }).kind).toBe("approve");
    // Claude Code asks before every call of a marked tool itself.
    expect(
      checkSpend({ ...base, clientAsksEveryCall: true, estimate: known(0.01), settings: always }).kind,
    ).toBe("allow");
  });

  it("checks caps before approval: a capped call is refused, not offered", () => {
    const decision = checkSpend({
      ...base,
      estimate: known(3),
      settings: settings({ maxCostPerCall: 1, confirm: { mode: "always" } }),
    });
    expect(decision.kind).toBe("refuse");
  });
});

describe("approvals bound to the arguments", () => {
  it("fingerprints arguments independent of key order, and differently for any change", () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    const one = callFingerprint({ endpointId: "a/b", input: { prompt: "x", n: 1 } });
    expect(callFingerprint({ endpointId: "a/b", input: { n: 1, prompt: "x" } })).toBe(one);
    expect(callFingerprint({ endpointId: "a/b", input: { prompt: "y", n: 1 } })).not.toBe(one);
    expect(callFingerprint({ endpointId: "a/c", input: { prompt: "x", n: 1 } })).not.toBe(one);
    expect(
      callFingerprint({ endpointId: "a/b", input: { prompt: "x", n: 1 }, options: { wait: 1 } }),
    ).not.toBe(one);
  });

  it("honours an offered approval once, and not after it expired", () => {
    let now = 0;
    const approvals = new PendingApprovals({ ttlMs: 1000, now: () => now });
    expect(approvals.take("f")).toBe(false);
    approvals.offer("f");
    expect(approvals.take("g")).toBe(false);
    expect(approvals.take("f")).toBe(true);
    expect(approvals.take("f")).toBe(false);
    approvals.offer("f");
    now = 1001;
    expect(approvals.take("f")).toBe(false);
  });

  it("keeps a bounded number of offers", () => {
    const approvals = new PendingApprovals({ max: 2 });
    approvals.offer("a");
    approvals.offer("b");
    approvals.offer("c");
    expect(approvals.take("a")).toBe(false);
    expect(approvals.take("c")).toBe(true);
  });

  it("tells the model to ask the user and repeat the same call with confirm: true", () => {
    const error = approvalRequired("a/b", known(0.8), "the estimate is over $0.5");
    expect(error.message).toContain("$0.8");
    expect(error.nextStep).toContain("confirm: true");
  });
});

describe("client facts", () => {
  it("does not trust Claude Desktop's declared elicitation", () => {
    expect(elicitationReallyShown("claude-code", true)).toBe(true);
    expect(elicitationReallyShown("claude-ai", true)).toBe(false);
    expect(elicitationReallyShown("local-agent-mode-fal", true)).toBe(false);
    expect(elicitationReallyShown("anything", false)).toBe(false);
    expect(honoursRequiresUserInteraction("claude-code")).toBe(true);
    expect(honoursRequiresUserInteraction("cursor")).toBe(false);
  });
});
