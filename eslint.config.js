import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/**
 * The rooms of src/ (docs/architecture.md), enforced. Imports go downward only:
 * index → mcp → tools → jobs → files → fal → util. Each rule names what it protects.
 */
const SDK = {
  group: ["@modelcontextprotocol/*"],
  message: "Only src/mcp/ imports the MCP SDK: tools, jobs, files and fal stay protocol-free.",
};
const PROCESS_MODULE = {
  group: ["process", "node:process"],
  message:
    "Only src/index.ts touches process (env, argv, stdio, signals): take what you need as an argument.",
};
const room = (rooms, why) => ({ regex: `(^|/)(${rooms.join("|")})/`, message: why });
const NOT_MCP = room(["mcp"], "Only the entry point imports the MCP layer.");
const NOT_TOOLS = room(
  ["tools", "mcp"],
  "jobs/, files/ and fal/ never import tools/ or mcp/ (imports go downward).",
);
const NOT_JOBS = room(["jobs"], "files/ and fal/ never import the job workflow (imports go downward).");
const NOT_FILES = room(
  ["files"],
  "fal/ speaks HTTP to fal and knows nothing of the user's disk: no files/ imports.",
);
const NOT_SRC = { regex: "^\\.\\./", message: "util/ depends on nothing else in src/." };

/** no-restricted-imports for one room: a later config object replaces, never merges, so each lists all. */
const restrict = (files, ...patterns) => ({
  files,
  rules: { "no-restricted-imports": ["error", { patterns }] },
});

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      "coverage/**",
      "bench/results/**",
      ".tmp/**",
      ".bundle/**",
      "test-output/**",
      "src/viewer/generated/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // stdout belongs to the MCP protocol: only the stderr logger may touch the console.
    files: ["src/**/*.ts"],
    ignores: ["src/util/log.ts"],
    rules: { "no-console": "error" },
  },
  {
    // No import cycles in src/: a cycle is two rooms that cannot be told apart.
    files: ["src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      "import-x/resolver-next": [createTypeScriptImportResolver()],
    },
    rules: { "import-x/no-cycle": "error" },
  },
  {
    // The entry point is the only code that touches process.
    files: ["src/**/*.ts"],
    ignores: ["src/index.ts"],
    rules: {
      "no-restricted-globals": ["error", { name: "process", message: PROCESS_MODULE.message }],
    },
  },
  // src/*.ts (config, errors, doctor, secret, version): shared by every room below the MCP layer.
  restrict(["src/*.ts"], SDK, PROCESS_MODULE, NOT_MCP),
  restrict(["src/tools/**/*.ts"], SDK, PROCESS_MODULE, NOT_MCP),
  restrict(["src/jobs/**/*.ts"], SDK, PROCESS_MODULE, NOT_TOOLS),
  restrict(["src/files/**/*.ts"], SDK, PROCESS_MODULE, NOT_TOOLS, NOT_JOBS),
  restrict(["src/fal/**/*.ts"], SDK, PROCESS_MODULE, NOT_TOOLS, NOT_JOBS, NOT_FILES),
  restrict(["src/util/**/*.ts"], SDK, PROCESS_MODULE, NOT_SRC),
  restrict(["src/prompts/**/*.ts", "src/viewer/*.ts"], SDK, PROCESS_MODULE, NOT_MCP, NOT_TOOLS),
  restrict(["src/mcp/**/*.ts"], PROCESS_MODULE),
  // The entry point may touch process, and reaches the SDK only through src/mcp/.
  restrict(["src/index.ts"], SDK),
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The launcher: plain Node ESM that runs before the program (it may touch process).
    files: ["bin/**/*.js"],
    languageOptions: {
      globals: { process: "readonly", URL: "readonly", setTimeout: "readonly" },
    },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { process: "readonly", global: "readonly", require: "readonly", module: "writable" },
    },
  },
);
