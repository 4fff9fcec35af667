import { describe, expect, it } from "vitest";
import { PermissionError } from "../../src/fal/billing.js";
import { FalApiError } from "../../src/errors.js";
import { describeCost, settleCost } from "../../src/jobs/cost-report.js";

const price = { endpoint_id: "a/b", unit_price: 0.025, unit: "image", currency: "USD" };

describe("settleCost", () => {
  it("prefers fal's billing-event cost_total and keeps units × price beside it", async () => {
    const report = await settleCost(
      { estimateUsd: 0.05, billableUnits: 2 },
      {
        unitPrice: async () => price,
        billingEvent: async () => ({
          requestId: "r",
          endpointId: "a/b",
          timestamp: undefined,
          units: 2,
          costTotal: 0.045,
        }),
      },
    );
    expect(report).toMatchObject({
      cost_usd: 0.045,
      cost_source: "billing-event",
      units_cost_usd: 0.05,
      estimate_usd: 0.05,
    });
    expect(describeCost(report)).toBe(
      "Cost: $0.045 (2 image × $0.025; fal's billing says $0.045). Estimated before: $0.05.",
    );
  });

  it("falls back to billed units × unit price and says why the billing record is missing", async () => {
    const report = await settleCost(
      { estimateUsd: null, billableUnits: 3 },
      {
        unitPrice: async () => price,
        billingEvent: async () => {
          throw new PermissionError(
            "billing:usage:read",
            "billing events",
            new FalApiError({ status: 403, message: "Forbidden" }),
          );
        },
      },
    );
    expect(report).toMatchObject({ cost_usd: 0.075, cost_source: "billed-units" });
    expect(report.notes.join(" ")).toContain("lacks the billing:usage:read permission");
    expect(describeCost(report)).toContain("Estimated before: unknown.");
  });

  it("says the cost is not known when neither figure is there", async () => {
    const report = await settleCost(
      { estimateUsd: 0.1, billableUnits: undefined },
      { unitPrice: async () => price, billingEvent: async () => undefined },
    );
    expect(report.cost_usd).toBeNull();
    expect(describeCost(report)).toMatch(
      /^Cost: not known yet\. Estimated before: \$0\.1\. fal sent no billed units/,
    );
  });
});
