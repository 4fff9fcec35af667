import { describe, expect, it } from "vitest";
import type { UnitPrice } from "../../src/fal/pricing.js";
import {
  describeEstimate,
  estimateCall,
  megapixelsOf,
  unitsFromInput,
  withDefaults,
  type EstimateSources,
} from "../../src/jobs/estimate.js";

describe("unitsFromInput", () => {
  it("counts images from num_images (1 when absent)", () => {
    expect(unitsFromInput("image", { num_images: 3 })?.quantity).toBe(3);
    expect(unitsFromInput("images", {})?.quantity).toBe(1);
  });

  it("reads megapixels from an image_size preset, an object, or width/height, times the image count", () => {
    expect(megapixelsOf({ image_size: "landscape_4_3" })?.[0]).toBeCloseTo(0.786432);
    expect(
      unitsFromInput("megapixels", { image_size: { width: 2000, height: 1000 }, num_images: 2 })?.quantity,
    ).toBe(4);
    expect(unitsFromInput("megapixels", { width: 1000, height: 1000 })?.quantity).toBe(1);
    expect(unitsFromInput("megapixels", { prompt: "x" })).toBeUndefined();
  });

  it('reads "WxH" sizes written with x, × or *', () => {
    for (const size of ["2000x1000", "2000 × 1000", "2000*1000", "2000X1000"])
      expect(megapixelsOf({ image_size: size })?.[0]).toBe(2);
    expect(megapixelsOf({ image_size: "2000 - 1000" })).toBeUndefined();
  });

  it('reads seconds from duration (numbers and strings like "5s"), or frames over fps', () => {
    expect(unitsFromInput("seconds", { duration: "5s" })?.quantity).toBe(5);
    expect(unitsFromInput("second", { duration: 10 })?.quantity).toBe(10);
    expect(unitsFromInput("seconds", { num_frames: 96, frames_per_second: 24 })?.quantity).toBe(4);
    expect(unitsFromInput("minutes", { duration: 90 })?.quantity).toBe(1.5);
    expect(unitsFromInput("seconds", { prompt: "x" })).toBeUndefined();
  });

  it("counts characters for text-to-speech, per thousand when the unit says so", () => {
    expect(unitsFromInput("1000 characters", { text: "a".repeat(2500) })?.quantity).toBe(2.5);
    expect(unitsFromInput("characters", { text: "hello" })?.quantity).toBe(5);
  });

  it("gives up on units an input cannot tell (GPU time, tokens, anything unfamiliar)", () => {
    expect(unitsFromInput("gpu seconds", { num_images: 1 })).toBeUndefined();
    expect(unitsFromInput("tokens", { prompt: "x" })).toBeUndefined();
    expect(unitsFromInput("flurbs", { prompt: "x" })).toBeUndefined();
  });

  it("fills the schema's defaults for fields left out", () => {
    expect(withDefaults({ prompt: "x" }, { num_images: 4 })).toEqual({ prompt: "x", num_images: 4 });
    expect(withDefaults({ num_images: 2 }, { num_images: 4 })).toEqual({ num_images: 2 });
  });
});

const price = (unit_price: number, unit: string): UnitPrice => ({
  endpoint_id: "a/b",
  unit_price,
  unit,
  currency: "USD",
});

function sources(parts: Partial<EstimateSources> & { calls?: unknown[] }): EstimateSources {
  return {
    unitPrice: parts.unitPrice ?? (async () => undefined),
    falEstimate:
      parts.falEstimate ??
      (async (request) => {
        parts.calls?.push(request);
        throw new Error("estimate down");
      }),
  };
}

describe("estimateCall", () => {
  it("prefers fal's estimate of the units read from the input", async () => {
    const calls: unknown[] = [];
    const estimate = await estimateCall(
      "a/b",
      { num_images: 2 },
      {
        unitPrice: async () => price(0.04, "image"),
        falEstimate: async (request) => {
          calls.push(request);
          return { totalCost: 0.08, currency: "USD" };
        },
      },
    );
    expect(calls).toEqual([{ kind: "unit_price", unitQuantity: 2 }]);
    expect(estimate).toMatchObject({ known: true, amount: 0.08, source: "fal-estimate" });
  });

  it("multiplies the unit price locally when fal's estimate does not answer", async () => {
    const estimate = await estimateCall(
      "a/b",
      { duration: "5" },
      sources({ unitPrice: async () => price(0.1, "seconds") }),
    );
    expect(estimate).toMatchObject({ known: true, amount: 0.5, source: "unit-price" });
    expect(describeEstimate(estimate)).toContain("$0.5");
  });

  it("asks for fal's historical price per call when the input does not tell the units", async () => {
    const calls: unknown[] = [];
    const estimate = await estimateCall(
      "a/b",
      { prompt: "x" },
      {
        unitPrice: async () => price(0.0005, "gpu seconds"),
        falEstimate: async (request) => {
          calls.push(request);
          return { totalCost: 0.37, currency: "USD" };
        },
      },
    );
    expect(calls).toEqual([{ kind: "historical_api_price", callQuantity: 1 }]);
    expect(estimate).toMatchObject({ known: true, amount: 0.37, source: "fal-historical" });
  });

  it("is explicitly unknown, with the reason, when neither works", async () => {
    const estimate = await estimateCall(
      "a/b",
      { prompt: "x" },
      sources({
        unitPrice: async () => {
          throw new Error("pricing 500");
        },
      }),
    );
    expect(estimate.known).toBe(false);
    expect(describeEstimate(estimate)).toMatch(/^unknown: .*pricing 500.*estimate down/);
  });
});
