import { getMcpConfigForManifest, type McpbManifestAny } from "@anthropic-ai/mcpb";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { initialize, minimalEnv, startStdioSession, type StdioSession } from "../release/stdio-session.js";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const mcpb = path.join(root, "node_modules", ".bin", "mcpb");
const KEY = "test-key-id:test-key-secret";

let fake: FakeFal;
let tempDir: string;
let unpacked: string;
let manifest: McpbManifestAny;

beforeAll(async () => {
  fake = await startFakeFal();
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-bundle-"));
  const bundle = path.join(tempDir, "fal-mcp.mcpb");
  await run(
    process.execPath,
    [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/bundle.ts", "--out", bundle],
    {
      cwd: root,
    },
  );
  unpacked = path.join(tempDir, "installed");
  await run(mcpb, ["unpack", bundle, unpacked]);
  manifest = JSON.parse(await fs.readFile(path.join(unpacked, "manifest.json"), "utf8")) as McpbManifestAny;
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await fs.rm(tempDir, { recursive: true, force: true });
});

/** The server command Claude Desktop would run for `userConfig`, by mcpb's own substitution code. */
async function desktopConfig(userConfig: Record<string, string | number | string[]>, home: string) {
  return getMcpConfigForManifest({
    manifest,
    extensionPath: unpacked,
    systemDirs: {
      HOME: home,
      DESKTOP: path.join(home, "Desktop"),
      DOCUMENTS: path.join(home, "Documents"),
      DOWNLOADS: path.join(home, "Downloads"),
    },
    userConfig,
    pathSeparator: path.sep,
  });
}

async function startBundle(userConfig: Record<string, string | number | string[]>, home: string) {
  await fs.mkdir(home, { recursive: true });
  const config = await desktopConfig(userConfig, home);
  if (!config) throw new Error("Desktop would not start the bundle with this configuration");
  const session = startStdioSession(config.command, config.args ?? [], {
    cwd: home,
    env: minimalEnv({
      ...config.env,
      HOME: home,
      FAL_MCP_BASE_URL: fake.url,
      FAL_MCP_STATE_DIR: path.join(home, "state"),
    }),
  });
  await initialize(session);
  return { config, session };
}

async function toolNames(session: StdioSession): Promise<string[]> {
  const list = await session.request("tools/list");
  return (list.tools as { name: string }[]).map((tool) => tool.name);
}

describe("the Claude Desktop bundle", () => {
  it("has a manifest that mcpb validate accepts", async () => {
    const { stdout } = await run(mcpb, ["validate", path.join(root, "bundle", "manifest.json")]);
    expect(stdout).toContain("Manifest schema validation passes");
  });

  it("declares the key as a masked required field, folder pickers and optional cost caps, mapped into the env", async () => {
    const source = JSON.parse(
      await fs.readFile(path.join(root, "bundle", "manifest.json"), "utf8"),
    ) as McpbManifestAny;
    const pkg = JSON.parse(await fs.readFile(path.join(root, "package.json"), "utf8")) as { version: string };
    expect(source.manifest_version).toBe("0.3");
    expect(source.version).toBe(pkg.version);
    expect(source.user_config).toMatchObject({
      fal_key: { type: "string", sensitive: true, required: true },
      output_dir: { type: "directory", required: false },
      allowed_dirs: { type: "directory", multiple: true, required: false },
      max_cost_per_call: { type: "number", required: false, min: 0 },
      max_cost_per_day: { type: "number", required: false, min: 0 },
    });
    expect(source.server.mcp_config.env).toEqual({
      FAL_KEY: "${user_config.fal_key}",
      FAL_MCP_OUTPUT_DIR: "${user_config.output_dir}",
      FAL_MCP_MAX_COST_PER_CALL: "${user_config.max_cost_per_call}",
      FAL_MCP_MAX_COST_PER_DAY: "${user_config.max_cost_per_day}",
    });
    // A list reaches a server only as separate arguments, never inside an env value.
    expect(source.server.mcp_config.args).toEqual([
      "${__dirname}/server/index.js",
      "${user_config.allowed_dirs}",
    ]);
    expect(source.server.entry_point).toBe("server/index.js");
  });

  it("unpacks to the built server with its entry, and no node_modules or source maps", async () => {
    const files = await fs.readdir(unpacked, { recursive: true });
    expect(files).toEqual(
      expect.arrayContaining([
        "manifest.json",
        "icon.png",
        "package.json",
        "server/index.js",
        "dist/index.cjs",
      ]),
    );
    expect(files.filter((file) => file.includes("node_modules") || file.endsWith(".map"))).toEqual([]);
    expect(await desktopConfig({}, tempDir)).toBeUndefined(); // no key: Desktop does not start it
  });

  it("runs with a full user configuration: lists the tools, and the chosen folders are the allowed ones", async () => {
    const home = path.join(tempDir, "home-full");
    const allowed = [path.join(tempDir, "pictures"), path.join(tempDir, "projects")];
    for (const dir of allowed) await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(allowed[1]!, "inside.txt"), "hello");
    await fs.writeFile(path.join(tempDir, "outside.txt"), "secret");
    const { config, session } = await startBundle(
      {
        fal_key: KEY,
        output_dir: path.join(tempDir, "results"),
        allowed_dirs: allowed,
        max_cost_per_call: 1.5,
        max_cost_per_day: 10,
      },
      home,
    );
    try {
      expect(config.args).toEqual([path.join(unpacked, "server", "index.js"), ...allowed]);
      expect(config.env).toMatchObject({
        FAL_KEY: KEY,
        FAL_MCP_MAX_COST_PER_CALL: "1.5",
        FAL_MCP_MAX_COST_PER_DAY: "10",
      });
      expect(await toolNames(session)).toEqual(
        expect.arrayContaining(["search_models", "get_model_schema", "run_model", "upload_file"]),
      );
      const inside = await session.request("tools/call", {
        name: "upload_file",
        arguments: { path: path.join(allowed[1]!, "inside.txt") },
      });
      expect(inside.isError ?? false, JSON.stringify(inside)).toBe(false);
      const outside = await session.request("tools/call", {
        name: "upload_file",
        arguments: { path: path.join(tempDir, "outside.txt") },
      });
      expect(outside.isError).toBe(true);
      expect(session.stderr()).not.toContain("Ignoring");
    } finally {
      expect((await session.close()).code, session.stderr()).toBe(0);
    }
  });

  it("with only the key set, ignores the unfilled ${user_config.…} templates with a warning and uses the defaults", async () => {
    const home = path.join(tempDir, "home-minimal");
    const { config, session } = await startBundle({ fal_key: KEY }, home);
    try {
      // What Desktop's substitution really produces for optional fields left empty: the templates.
      expect(config.env).toMatchObject({
        FAL_MCP_OUTPUT_DIR: "${user_config.output_dir}",
        FAL_MCP_MAX_COST_PER_CALL: "${user_config.max_cost_per_call}",
      });
      expect(config.args?.[1]).toBe("${user_config.allowed_dirs}");
      expect(await toolNames(session)).toContain("run_model");
      for (const name of ["FAL_MCP_OUTPUT_DIR", "FAL_MCP_MAX_COST_PER_CALL", "FAL_MCP_MAX_COST_PER_DAY"])
        expect(session.stderr()).toContain(`Ignoring ${name}`);
      expect(session.stderr()).toContain("Ignoring the folder argument ${user_config.allowed_dirs}");

      const result = await session.request(
        "tools/call",
        { name: "run_model", arguments: { endpoint_id: "fake/instant", input: { prompt: "a red fox" } } },
        60_000,
      );
      expect(result.isError ?? false, JSON.stringify(result)).toBe(false);
      const files = (result.structuredContent as { files: { path: string | null }[] }).files;
      // Saved under the default folder (~/fal-mcp), not in a folder named after the template.
      expect(files[0]?.path?.startsWith(path.join(home, "fal-mcp") + path.sep)).toBe(true);
      expect(JSON.stringify(result)).not.toContain("${");
      expect(existsSync(path.join(home, "${user_config.output_dir}"))).toBe(false);
    } finally {
      expect((await session.close()).code, session.stderr()).toBe(0);
    }
  });
});
