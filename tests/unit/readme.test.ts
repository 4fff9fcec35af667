import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { tools } from "../../src/tools/index.js";
import { withToolTable } from "../../scripts/tool-table.js";
import { z } from "zod";

const readme = fs.readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("has a tool table that matches the registry (run `npm run readme` when this fails)", () => {
    expect(readme).toBe(withToolTable(readme, tools));
  });

  it("documents every FAL_MCP_* setting the code mentions", () => {
    const sources = fs
      .readdirSync(new URL("../../src/", import.meta.url), { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts"))
      .map((file) => fs.readFileSync(new URL(`../../src/${file}`, import.meta.url), "utf8"));
    const settings = new Set(sources.join("\n").match(/(?<![A-Z_])FAL_MCP_[A-Z_]*[A-Z]/g));
    expect(settings.size).toBeGreaterThan(10);
    for (const setting of settings) expect(readme, setting).toContain(`\`${setting}\``);
  });

  it("names, in every Reliability row, test files that exist and test names found in them", () => {
    const section = readme.slice(readme.indexOf("## Reliability"), readme.indexOf("## Performance"));
    const rows = section.split("\n").filter((line) => line.startsWith("| **"));
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const row of rows) {
      const proof = row.split(" | ").pop() ?? "";
      const files = [...proof.matchAll(/tests\/[\w./-]+\.test\.ts/g)].map((match) => match[0]);
      const guarantee = row.slice(0, 40);
      // A row may say "same" or name a file by its base name after the first mention.
      const named = files.length > 0 || /faults\.test\.ts|same/.test(proof);
      expect(named, guarantee).toBe(true);
      const texts = files.map((file) => {
        const url = new URL(`../../${file}`, import.meta.url);
        expect(fs.existsSync(url), `${guarantee}: ${file}`).toBe(true);
        return fs.readFileSync(url, "utf8");
      });
      // Every quoted test name (its parts around an ellipsis) appears in one of the row's files.
      for (const [, quoted] of proof.matchAll(/"([^"]+)"/g))
        for (const part of (quoted ?? "").split("…").map((piece) => piece.trim()))
          if (part)
            expect(
              texts.some((text) => text.includes(part)),
              `${guarantee}: "${part}"`,
            ).toBe(true);
    }
  });

  it("gives the two set-up commands", () => {
    expect(readme).toContain("npm ci && npm run build && FAL_KEY=your-fal-key node bin/fal-mcp.js");
    expect(readme).toContain("npm ci && npm test");
    expect(readme).toContain("npx -y fal-mcp");
  });
});

describe("tool schemas", () => {
  it("convert to JSON Schema with zod's own converter (no zod-to-json-schema)", () => {
    for (const tool of tools) {
      const input = z.toJSONSchema(tool.inputSchema, { target: "draft-7", io: "input" }) as { type?: string };
      const output = z.toJSONSchema(tool.outputSchema, { target: "draft-7", io: "output" }) as {
        type?: string;
      };
      expect(input.type, tool.name).toBe("object");
      expect(output.type, tool.name).toBe("object");
    }
  });
});
