import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { ESLint } from "eslint";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The rooms of src/ are enforced by lint (eslint.config.js). Each rule is shown to fire on a
 * planted file, so that a config change that silently drops one fails here. The planted files
 * are real files under src/ (type-aware lint only sees files on disk), removed afterwards.
 */
const tag = `planted-${randomBytes(4).toString("hex")}`;
const planted: Record<string, string> = {
  [`src/tools/${tag}-sdk.ts`]: `import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";\nexport const server = McpServer;\n`,
  [`src/files/${tag}-process.ts`]: `export const home = process.env.HOME;\n`,
  [`src/jobs/${tag}-upward.ts`]: `export { tools } from "../tools/index.js";\n`,
  [`src/fal/${tag}-disk.ts`]: `export { checkReadableFile } from "../files/access.js";\n`,
  [`src/util/${tag}-src.ts`]: `export type { Config } from "../config.js";\n`,
  [`src/util/${tag}-cycle-a.ts`]: `import { b } from "./${tag}-cycle-b.js";\nexport const a = (): number => b() + 1;\n`,
  [`src/util/${tag}-cycle-b.ts`]: `import { a } from "./${tag}-cycle-a.js";\nexport const b = (): number => (a.length > 0 ? 1 : 0);\n`,
};

let results: Map<string, ESLint.LintResult>;

beforeAll(async () => {
  for (const [file, text] of Object.entries(planted)) await fs.writeFile(file, text);
  const eslint = new ESLint({ cwd: process.cwd() });
  const linted = await eslint.lintFiles(Object.keys(planted));
  results = new Map(linted.map((result) => [path.relative(process.cwd(), result.filePath), result]));
  // Shown in the test log: the planted-violation output the issue asks for.
  const formatter = await eslint.loadFormatter("stylish");
  process.stderr.write(await formatter.format(linted));
}, 180_000);

afterAll(async () => {
  for (const file of Object.keys(planted)) await fs.rm(file, { force: true });
});

/** The errors lint reported for `file`, one `rule: message` line each. */
function errors(file: string): string {
  return (results.get(file)?.messages ?? [])
    .filter((message) => message.severity === 2)
    .map((message) => `${message.ruleId}: ${message.message}`)
    .join("\n");
}

describe("lint keeps the rooms", () => {
  it("refuses an MCP SDK import outside src/mcp/", () => {
    expect(errors(`src/tools/${tag}-sdk.ts`)).toMatch(/no-restricted-imports: .*Only src\/mcp\//);
  });

  it("refuses the process global outside the entry point", () => {
    expect(errors(`src/files/${tag}-process.ts`)).toMatch(/no-restricted-globals: .*process/);
  });

  it("refuses an import from jobs/ up into tools/", () => {
    expect(errors(`src/jobs/${tag}-upward.ts`)).toMatch(/no-restricted-imports: .*never import tools/);
  });

  it("refuses fal/ reaching into files/", () => {
    expect(errors(`src/fal/${tag}-disk.ts`)).toMatch(/no-restricted-imports: .*no files\/ imports/);
  });

  it("refuses util/ importing the rest of src/", () => {
    expect(errors(`src/util/${tag}-src.ts`)).toMatch(/no-restricted-imports: .*util\/ depends on nothing/);
  });

  it("refuses an import cycle", () => {
    expect(errors(`src/util/${tag}-cycle-a.ts`)).toMatch(/import-x\/no-cycle: Dependency cycle/);
  });
});
