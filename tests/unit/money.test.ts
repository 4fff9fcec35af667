import { describe, expect, it } from "vitest";
import type { UnitPrice } from "../../src/fal/pricing.js";
import { DailyLedger } from "../../src/jobs/ledger.js";
import { costFromUnits } from "../../src/jobs/cost-report.js";
import { Money, type MoneySources } from "../../src/jobs/money.js";
import { ApprovalRequiredError, SpendRefusedError, type SpendSettings } from "../../src/jobs/spend-gate.js";
import { InputRejectedError } from "../../src/jobs/validate-input.js";
import { CATALOG } from "../fake-fal/catalog.js";
import { buildOpenApi } from "../fake-fal/openapi.js";

const flux = CATALOG.find((spec) => spec.endpoint_id === "fal-ai/flux-pro/v1.1-ultra")!;
const price: UnitPrice = { endpoint_id: flux.endpoint_id, unit_price: 0.06, unit: "image", currency: "USD" };
const sources = (over: Partial<MoneySources> = {}): MoneySources => ({
  schema: async () => buildOpenApi(flux),
  unitPrice: async () => price,
  falEstimate: async () => {
    throw new Error("no estimate");
  },
  ...over,
});
const settings = (over: Partial<SpendSettings> = {}): SpendSettings => ({
  maxCostPerCall: undefined,
  maxCostPerDay: undefined,
  unknownCost: "allow",
  confirm: { mode: "never" },
  ...over,
});
const channel = { confirm: false, canElicit: false, clientAsksEveryCall: false };
const call = { endpointId: flux.endpoint_id, input: { prompt: "a fox", num_images: 2 } };

describe("Money.clear", () => {
  it("clears a valid call under the caps with its estimate, and holds it against today until released", async () => {
    const ledger = new DailyLedger({ records: async () => [] });
    const money = new Money({ settings: settings({ maxCostPerDay: 1 }), sources: sources(), ledger });
    const cleared = await money.clear(call, channel);
    expect(cleared.kind).toBe("cleared");
    if (cleared.kind !== "cleared") return;
    expect(cleared.estimateUsd).toBe(0.12);
    expect((await ledger.today()).spent).toBe(0.12);
    await cleared.release();
    await cleared.release();
    expect((await ledger.today()).spent).toBe(0);
  });

  it("refuses a schema-invalid input before estimating, naming the field", async () => {
    let priced = false;
    const money = new Money({
      settings: settings(),
      sources: sources({ unitPrice: async () => ((priced = true), price) }),
      ledger: undefined,
    });
    const error = await money
      .clear({ ...call, input: { prompt: "x", aspect_ratio: "5:1" } }, channel)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputRejectedError);
    expect((error as Error).message).toContain("aspect_ratio");
    expect((error as Error).message).toContain('"16:9"');
    expect(priced).toBe(false);
  });

  it("goes on, and says so, when the schema cannot be read", async () => {
    const money = new Money({
      settings: settings(),
      sources: sources({
        schema: async () => {
          throw new Error("catalog down");
        },
      }),
      ledger: undefined,
    });
    const cleared = await money.clear(call, channel);
    expect(cleared.kind === "cleared" && cleared.notes.join(" ")).toContain(
      "not checked against the live schema",
    );
  });

  it("refuses over the daily cap from what the record holds", async () => {
    const ledger = new DailyLedger({
      records: async () => [{ submitted_at: new Date().toISOString(), cost_usd: 0.95 }],
    });
    const money = new Money({ settings: settings({ maxCostPerDay: 1 }), sources: sources(), ledger });
    await expect(money.clear(call, channel)).rejects.toBeInstanceOf(SpendRefusedError);
  });

  it("over: refuses with the confirm path, honours confirm only for the same arguments", async () => {
    const money = new Money({
      settings: settings({ confirm: { mode: "over", amount: 0.1 } }),
      sources: sources(),
      ledger: undefined,
    });
    await expect(money.clear(call, channel)).rejects.toBeInstanceOf(ApprovalRequiredError);
    // A changed input needs its own approval…
    const changed = { ...call, input: { ...call.input, num_images: 3 } };
    await expect(money.clear(changed, { ...channel, confirm: true })).rejects.toBeInstanceOf(
      ApprovalRequiredError,
    );
    // …while the one that was asked about goes through once.
    expect((await money.clear(call, { ...channel, confirm: true })).kind).toBe("cleared");
    await expect(money.clear(call, { ...channel, confirm: true })).rejects.toBeInstanceOf(
      ApprovalRequiredError,
    );
  });

  it("over: asks with a form where the client shows one, and accepts only an answer for the same arguments", async () => {
    const money = new Money({
      settings: settings({ confirm: { mode: "over", amount: 0.1 } }),
      sources: sources(),
      ledger: undefined,
    });
    const asked = await money.clear(call, { ...channel, canElicit: true });
    expect(asked.kind).toBe("elicit");
    if (asked.kind !== "elicit") return;
    expect(asked.question).toContain("$0.12");
    const accepted = await money.clear(call, {
      ...channel,
      canElicit: true,
      elicited: { action: "accept", fingerprint: asked.fingerprint },
    });
    expect(accepted.kind).toBe("cleared");
    const other = await money.clear(
      { ...call, input: { ...call.input, num_images: 4 } },
      { ...channel, canElicit: true, elicited: { action: "accept", fingerprint: asked.fingerprint } },
    );
    expect(other.kind).toBe("elicit");
    await expect(
      money.clear(call, {
        ...channel,
        canElicit: true,
        elicited: { action: "decline", fingerprint: asked.fingerprint },
      }),
    ).rejects.toThrow(/declined/);
  });
});

describe("costFromUnits", () => {
  it("multiplies billed units by the unit price", () => {
    expect(costFromUnits(2, price)).toBe(0.12);
    expect(costFromUnits(undefined, price)).toBeUndefined();
    expect(costFromUnits(2, undefined)).toBeUndefined();
  });
});
