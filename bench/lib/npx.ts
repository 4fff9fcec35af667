// `npx` as users launch fal-mcp: the packed tarball (npm pack) run through npx from an empty
// folder, with its own cache, --offline, and a loopback registry that refuses everything (any
// attempt to reach a registry fails instead of downloading). The floor is npx of a trivial package
// whose bin is the bare-node floor script, started the same way.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./rpc.js";

const run = promisify(execFile);

export interface NpxLauncher {
  /** Command and arguments that start the packed fal-mcp through npx. */
  falMcp: { command: string; args: string[] };
  /** Command and arguments that start the trivial floor package through npx. */
  floor: { command: string; args: string[] };
  /** Environment for both (npx needs HOME and a quiet npm). */
  env(extra: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

async function pack(dir: string, destination: string): Promise<string> {
  // --ignore-scripts: dist/ is already built (npm run bench builds it first).
  const { stdout } = await run(
    "npm",
    ["pack", "--json", "--ignore-scripts", "--pack-destination", destination],
    {
      cwd: dir,
      env: { ...process.env, npm_config_loglevel: "error" },
    },
  );
  const [info] = JSON.parse(stdout) as { filename: string }[];
  return path.join(destination, info!.filename);
}

export async function prepareNpx(scratch: string, floorScript: string): Promise<NpxLauncher> {
  const base = path.join(scratch, "npx");
  const workDir = path.join(base, "empty-folder");
  const home = path.join(base, "home");
  const floorDir = path.join(base, "floor-package");
  await Promise.all([workDir, home, floorDir].map((dir) => mkdir(dir, { recursive: true })));
  await writeFile(
    path.join(floorDir, "package.json"),
    JSON.stringify({ name: "bench-floor", version: "0.0.0", bin: { "bench-floor": "floor.js" } }),
  );
  await writeFile(path.join(floorDir, "floor.js"), `#!/usr/bin/env node\n${floorScript}\n`, { mode: 0o755 });
  const [falTarball, floorTarball] = await Promise.all([pack(ROOT, base), pack(floorDir, base)]);

  const registry = createServer((_request, response) => void response.writeHead(503).end());
  await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
  const registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`;
  // A new cache: the first start extracts the tarball (as after an install); later starts reuse it.
  const cache = path.join(base, "cache");
  const sibling = path.join(path.dirname(process.execPath), "npx");
  const npx = existsSync(sibling) ? sibling : "npx";
  const args = (tarball: string, bin: string) => () => [
    "--yes",
    "--offline",
    "--cache",
    cache,
    "--registry",
    registryUrl,
    "--package",
    tarball,
    bin,
  ];
  const falArgs = args(falTarball, "fal-mcp");
  const floorArgs = args(floorTarball, "bench-floor");
  return {
    get falMcp() {
      return { command: npx, args: falArgs() };
    },
    get floor() {
      return { command: npx, args: floorArgs() };
    },
    env: (extra) => ({
      PATH: process.env.PATH ?? "",
      HOME: home,
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
      npm_config_audit: "false",
      npm_config_loglevel: "error",
      ...extra,
    }),
    close: () => new Promise<void>((resolve) => registry.close(() => resolve())),
  };
}

/** The folder npx is started in: empty, with no node_modules above it in the scratch tree. */
export const npxWorkDir = (scratch: string): string => path.join(scratch, "npx", "empty-folder");
