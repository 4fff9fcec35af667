import { describe, expect, it } from "vitest";
import { buildPriceReport, formatPrice, parsePrices, pricesResponseSchema } from "../../src/fal/pricing.js";

describe("parsePrices", () => {
  it("reads fal's answer leniently", () => {
    const parsed = parsePrices({
      prices: [
        { endpoint_id: "fal-ai/flux/dev", unit_price: 0.025, unit: "image", currency: "USD", extra: true },
        { endpoint_id: "fal-ai/veo3", unit_price: "0.4", unit: "second" },
        { endpoint_id: "broken", unit_price: null },
        { unit_price: 1 },
      ],
      next_cursor: null,
      has_more: false,
    });
    expect(parsed.prices).toEqual([
      { endpoint_id: "fal-ai/flux/dev", unit_price: 0.025, unit: "image", currency: "USD" },
      { endpoint_id: "fal-ai/veo3", unit_price: 0.4, unit: "second", currency: "USD" },
    ]);
    // An answer without a prices list is a wrong shape (an error upstream), never "no price".
    expect(pricesResponseSchema.safeParse({ unexpected: true }).success).toBe(false);
    expect(pricesResponseSchema.safeParse("nonsense").success).toBe(false);
  });
});

describe("buildPriceReport", () => {
  const prices = [
    { endpoint_id: "fal-ai/flux/dev", unit_price: 0.025, unit: "image", currency: "USD" },
    { endpoint_id: "fal-ai/veo3", unit_price: 0.4, unit: "second", currency: "USD" },
  ];

  it("keeps the order asked, names the ids without a price, and estimates", () => {
    const report = buildPriceReport(["fal-ai/veo3", "nope/x", "fal-ai/flux/dev"], prices, 3);
    expect(report.prices.map((line) => [line.endpoint_id, line.estimated_cost])).toEqual([
      ["fal-ai/veo3", 1.2],
      ["fal-ai/flux/dev", 0.075],
    ]);
    expect(report.not_found).toEqual(["nope/x"]);
    expect(report.total_estimated_cost).toBe(1.275);
    expect(report.currency).toBe("USD");
    expect(report.note).toMatch(/approximate/);
  });

  it("gives no estimate without a quantity and no total across currencies", () => {
    expect(buildPriceReport(["fal-ai/flux/dev"], prices).prices[0]).not.toHaveProperty("estimated_cost");
    const mixed = buildPriceReport(
      ["a", "b"],
      [
        { endpoint_id: "a", unit_price: 1, unit: "image", currency: "USD" },
        { endpoint_id: "b", unit_price: 1, unit: "image", currency: "EUR" },
      ],
      2,
    );
    expect(mixed.total_estimated_cost).toBeUndefined();
    expect(mixed.currency).toBeUndefined();
  });

  it("formats a price readably", () => {
    expect(formatPrice(prices[0]!)).toBe("$0.025 per image");
    expect(
      formatPrice({ endpoint_id: "x", unit_price: 0.00111, unit: "compute seconds", currency: "EUR" }),
    ).toBe("0.00111 EUR per compute seconds");
  });
});
