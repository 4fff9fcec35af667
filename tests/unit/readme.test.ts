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
