// `npm run bundle`: builds fal-mcp.mcpb, the Claude Desktop extension (MCPB, manifest 0.3). It stages
// the built server (dist/, without source maps), the bundle's entry (bundle/entry.ts → server/index.js),
// manifest.json and the icon in a clean folder, validates the manifest and packs the folder with the
// official `mcpb` CLI. The package has no runtime dependencies (tsup inlines them), so the bundle
// needs no node_modules. Options: --out <file.mcpb> (default ./fal-mcp.mcpb).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
const { values } = parseArgs({ options: { out: { type: "string" } }, strict: true });
const output = path.resolve(values.out ?? path.join(root, "fal-mcp.mcpb"));
const staging = path.join(root, ".bundle", "fal-mcp");
const mcpb = path.join(root, "node_modules", ".bin", process.platform === "win32" ? "mcpb.cmd" : "mcpb");

const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
  name: string;
  version: string;
};
const manifest = JSON.parse(readFileSync(path.join(root, "bundle", "manifest.json"), "utf8")) as {
  version: string;
};
if (manifest.version !== pkg.version)
  throw new Error(`bundle/manifest.json has version ${manifest.version}, package.json ${pkg.version}`);
if (!existsSync(path.join(root, "dist", "index.cjs")))
  throw new Error("dist/ is missing: run `npm run build`");

rmSync(staging, { recursive: true, force: true });
mkdirSync(path.join(staging, "dist"), { recursive: true });
for (const file of readdirSync(path.join(root, "dist")).filter((name) => !name.endsWith(".map")))
  cpSync(path.join(root, "dist", file), path.join(staging, "dist", file), { recursive: true });
cpSync(path.join(root, "bundle", "manifest.json"), path.join(staging, "manifest.json"));
cpSync(path.join(root, "bundle", "icon.png"), path.join(staging, "icon.png"));
cpSync(path.join(root, "LICENSE"), path.join(staging, "LICENSE"));
// server/index.js is an ES module: the bundle's own package.json says so, as the npm package's does.
writeFileSync(
  path.join(staging, "package.json"),
  JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: "module" }, null, 2) + "\n",
);
await build({
  entryPoints: [path.join(root, "bundle", "entry.ts")],
  outfile: path.join(staging, "server", "index.js"),
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  logLevel: "warning",
});

execFileSync(mcpb, ["validate", path.join(staging, "manifest.json")], { stdio: "inherit" });
rmSync(output, { force: true });
execFileSync(mcpb, ["pack", staging, output], { stdio: "inherit" });
process.stderr.write(`bundle: ${path.relative(process.cwd(), output)}\n`);
