import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { writeResultFile } from "../../src/files/result-file.js";
import { guardResult } from "../../src/mcp/result-guard.js";
import { createRedactor } from "../../src/util/redact-deep.js";
import {
  DEFAULT_MAX_RESULT_BYTES,
  DEFAULT_MAX_TEXT_BYTES,
  resultBytes,
} from "../../src/util/result-budget.js";

const key = "11111111-2222-3333-4444-555555555555:abcdefabcdefabcdefabcdefabcdef12";
const options = {
  redactor: createRedactor([key]),
  budget: { maxBytes: DEFAULT_MAX_RESULT_BYTES, maxTextBytes: DEFAULT_MAX_TEXT_BYTES },
};

describe("guardResult", () => {
  it("removes the key from text and structuredContent (strings, keys, encoded URLs)", async () => {
    const out = await guardResult(
      {
        text: `done with Key ${key}`,
        structuredContent: {
          output: { debug: { authorization: `Key ${key}` }, [key]: 1 },
          files: [{ url: `https://v3.fal.media/x.png?token=${encodeURIComponent(key)}` }],
        },
        images: [],
      },
      options,
    );
    const all = out.text + JSON.stringify(out.structuredContent);
    expect(all).not.toContain("abcdefabcdefabcdef");
    expect(all).toContain("<redacted>");
  });

  it("bounds the depth of structuredContent", async () => {
    let deep: unknown = "x";
    for (let i = 0; i < 5000; i++) deep = [deep];
    const out = await guardResult({ text: "t", structuredContent: { output: deep }, images: [] }, options);
    expect(JSON.stringify(out.structuredContent)).toContain("[nested too deep]");
  });

  it("spills a result over the budget to a file and names it; the file holds it all, redacted", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-spill-"));
    try {
      const big = { text: "z".repeat(3 * 1024 * 1024), echo: key };
      const out = await guardResult(
        { text: "result", structuredContent: { output: big }, images: [] },
        { ...options, spill: (json) => writeResultFile(dir, "run_model", json) },
      );
      expect(
        resultBytes({ text: out.text, structured: out.structuredContent, images: out.images }),
      ).toBeLessThan(DEFAULT_MAX_RESULT_BYTES);
      const file = /saved in (\S+\.json)/.exec(out.text)?.[1];
      expect(file).toBeDefined();
      const saved = await fs.readFile(file!, "utf8");
      expect(saved.length).toBeGreaterThan(3 * 1024 * 1024);
      expect(saved).not.toContain("abcdefabcdefabcdef");
      expect(path.dirname(file!)).toBe(dir);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("in HTTP mode (no spill) says nothing was written", async () => {
    const out = await guardResult({ text: "x".repeat(200_000), images: [] }, options);
    expect(out.text).toMatch(/In HTTP mode nothing is written/);
    expect(Buffer.byteLength(out.text)).toBeLessThanOrEqual(DEFAULT_MAX_TEXT_BYTES);
  });
});
