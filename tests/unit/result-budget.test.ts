import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_RESULT_BYTES,
  DEFAULT_MAX_TEXT_BYTES,
  fitResult,
  resultBytes,
  shortenDataUris,
  shrinkValue,
  textBytes,
} from "../../src/util/result-budget.js";

const budget = { maxBytes: DEFAULT_MAX_RESULT_BYTES, maxTextBytes: DEFAULT_MAX_TEXT_BYTES };
const dataUri = `data:image/png;base64,${"A".repeat(600_000)}`;

describe("fitResult", () => {
  it("leaves a small result alone", () => {
    const parts = {
      text: "done",
      structured: { images: [{ url: "https://v3.fal.media/a.png" }] },
      images: [],
    };
    const fitted = fitResult(parts, budget, "NOTE");
    expect(fitted.shortened).toBe(false);
    expect(fitted.text).toBe("done");
  });

  it("fits a 3 MB output under both limits, keeping its shape and saying where the rest is", () => {
    const big = {
      text: "x".repeat(3_000_000),
      list: Array.from({ length: 5000 }, (_, i) => ({ id: i, caption: "y".repeat(400) })),
    };
    const parts = { text: JSON.stringify(big), structured: { status: "completed", output: big }, images: [] };
    const fitted = fitResult(parts, budget, "The full result is in /out/result.json.");
    expect(fitted.shortened).toBe(true);
    expect(resultBytes(fitted)).toBeLessThanOrEqual(budget.maxBytes);
    expect(textBytes(fitted)).toBeLessThanOrEqual(budget.maxTextBytes);
    // At the end: the first lines still say what was made.
    expect(fitted.text.endsWith("\n\nThe full result is in /out/result.json.")).toBe(true);
    const output = fitted.structured?.output as typeof big;
    expect(fitted.structured?.status).toBe("completed");
    expect(typeof output.text).toBe("string");
    expect(Array.isArray(output.list)).toBe(true);
    expect(output.text).toMatch(/more characters; see the note at the end/);
  });

  it("never repeats a data: URI whole, in text or structuredContent", () => {
    const parts = {
      text: `here: ${dataUri}`,
      structured: { files: [{ url: dataUri }], output: { image: { url: dataUri } } },
      images: [],
    };
    const fitted = fitResult(parts, budget, "NOTE");
    const all = fitted.text + JSON.stringify(fitted.structured);
    expect(all).not.toContain("A".repeat(300));
    expect(all).toContain("data:image/png;base64,… (450000 bytes, not repeated here)");
  });

  it("drops the inline preview first when the whole result is over", () => {
    const image = { data: "B".repeat(950_000), mimeType: "image/png" };
    const fitted = fitResult(
      { text: "made an image", structured: { ok: true }, images: [image] },
      budget,
      "NOTE",
    );
    expect(fitted.images).toHaveLength(0);
    expect(fitted.droppedImages).toBe(1);
    expect(fitted.structured).toEqual({ ok: true });
  });

  it("honours a smaller budget setting", () => {
    const parts = { text: "t".repeat(10_000), structured: { a: "s".repeat(10_000) }, images: [] };
    const fitted = fitResult(parts, { maxBytes: 4096, maxTextBytes: 4096 }, "NOTE");
    expect(resultBytes(fitted)).toBeLessThanOrEqual(4096);
  });
});

describe("shrinkValue and shortenDataUris", () => {
  it("shortens arrays when strings are not enough", () => {
    const value = { items: Array.from({ length: 100_000 }, (_, i) => i) };
    const shrunk = shrinkValue(value, 2000);
    expect(JSON.stringify(shrunk).length).toBeLessThanOrEqual(2000);
    expect((shrunk.items as number[])[0]).toBe(0);
  });
  it("keeps short data: URIs", () =>
    expect(shortenDataUris("data:text/plain,hi")).toBe("data:text/plain,hi"));
});
