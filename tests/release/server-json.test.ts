import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(root, file), "utf8")) as Record<string, unknown>;

const CURRENT_SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

/**
 * The MCP Registry's server.json schema, 2025-12-11, as far as a stdio npm package uses it. No npm
 * package ships the registry's schema file and there is no network here, so this is written from
 * the registry's published schema (docs/reference/server-json in modelcontextprotocol/registry):
 * the same required fields, patterns, lengths and enums, with `additionalProperties: false` where
 * our file's objects are closed so a misspelt field fails here rather than at publish time.
 */
const input = {
  description: { type: "string" },
  isRequired: { type: "boolean" },
  format: { enum: ["string", "number", "boolean", "filepath"] },
  value: { type: "string" },
  isSecret: { type: "boolean" },
  default: { type: "string" },
  placeholder: { type: "string" },
  choices: { type: "array", items: { type: "string" } },
};
const keyValueInput = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: { name: { type: "string", minLength: 1 }, ...input, variables: { type: "object" } },
};
const specificVersion = {
  type: "string",
  minLength: 1,
  maxLength: 255,
  // "Version ranges are rejected (e.g., '^1.2.3', '~1.2.3', '>=1.2.3', '1.x', '1.*', 'latest')."
  not: { anyOf: [{ const: "latest" }, { pattern: "^[\\^~<>=*]|(^|\\.)(x|X|\\*)(\\.|$)|\\s-\\s|\\|\\|" }] },
};
const serverJsonSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  required: ["$schema", "name", "description", "version"],
  additionalProperties: false,
  properties: {
    $schema: { const: CURRENT_SCHEMA },
    name: { type: "string", minLength: 3, maxLength: 200, pattern: "^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$" },
    title: { type: "string", minLength: 1, maxLength: 100 },
    description: { type: "string", minLength: 1, maxLength: 100 },
    version: specificVersion,
    websiteUrl: { type: "string", format: "uri" },
    repository: {
      type: "object",
      required: ["url", "source"],
      additionalProperties: false,
      properties: {
        url: { type: "string", format: "uri" },
        source: { type: "string" },
        id: { type: "string" },
        subfolder: { type: "string" },
      },
    },
    packages: {
      type: "array",
      items: {
        type: "object",
        required: ["registryType", "identifier", "version", "transport"],
        additionalProperties: false,
        properties: {
          registryType: { enum: ["npm", "pypi", "nuget"] },
          registryBaseUrl: { type: "string", format: "uri" },
          identifier: { type: "string", minLength: 1 },
          version: specificVersion,
          fileSha256: { type: "string", pattern: "^[a-f0-9]{64}$" },
          runtimeHint: { type: "string" },
          transport: {
            type: "object",
            required: ["type"],
            properties: { type: { enum: ["stdio", "streamable-http", "sse"] }, url: { type: "string" } },
          },
          environmentVariables: { type: "array", items: keyValueInput },
          packageArguments: { type: "array" },
          runtimeArguments: { type: "array" },
        },
      },
    },
    remotes: { type: "array" },
    icons: { type: "array" },
    _meta: { type: "object" },
  },
} as const;

// ajv-formats is CommonJS with a default export; under NodeNext the callable is on .default.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(serverJsonSchema);

describe("server.json for the MCP Registry", () => {
  const server = readJson("server.json");
  const pkg = readJson("package.json");

  it("validates against the registry's 2025-12-11 schema", () => {
    const valid = validate(server);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it("the schema copy rejects what the registry rejects", () => {
    const broken: Record<string, unknown>[] = [
      { ...server, name: "fal-mcp" },
      { ...server, description: "x".repeat(101) },
      { ...server, version: "^0.1.0" },
      { ...server, $schema: "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json" },
      {
        ...server,
        packages: [
          { registryType: "npm", identifier: "fal-mcp", version: "latest", transport: { type: "stdio" } },
        ],
      },
      { ...server, packages: [{ registryType: "npm", identifier: "fal-mcp", transport: { type: "stdio" } }] },
      {
        ...server,
        packages: [
          { registry_type: "npm", identifier: "fal-mcp", version: "0.1.0", transport: { type: "stdio" } },
        ],
      },
    ];
    for (const candidate of broken)
      expect(validate(candidate), JSON.stringify(candidate).slice(0, 160)).toBe(false);
  });

  it("matches package.json: name, versions, npm package and repository", () => {
    expect(server.name).toBe(pkg.mcpName);
    expect(server.version).toBe(pkg.version);
    const [npmPackage, ...others] = server.packages as Record<string, unknown>[];
    expect(others).toEqual([]);
    expect(npmPackage).toMatchObject({ registryType: "npm", identifier: pkg.name, version: pkg.version });
    const repository = pkg.repository as { url: string };
    expect(repository.url).toBe(`git+${(server.repository as { url: string }).url}.git`);
    // The registry proves the io.github.<owner> namespace with a GitHub login of that owner.
    const owner = new URL((server.repository as { url: string }).url).pathname.split("/")[1];
    expect(server.name).toBe(`io.github.${owner}/${pkg.name as string}`);
  });

  it("declares the key as a required secret and every other setting as optional", () => {
    const variables = (server.packages as { environmentVariables: Record<string, unknown>[] }[])[0]!
      .environmentVariables;
    expect(variables.find((variable) => variable.name === "FAL_KEY")).toMatchObject({
      isRequired: true,
      isSecret: true,
    });
    for (const variable of variables.filter((item) => item.name !== "FAL_KEY")) {
      expect(variable.isRequired, String(variable.name)).toBe(false);
      expect(variable.isSecret ?? false, String(variable.name)).toBe(false);
      expect(String(variable.name)).toMatch(/^FAL_MCP_/);
    }
  });
});
