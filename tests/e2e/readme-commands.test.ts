// Every command in README.md is either run here, in a sandbox, or named in an explicit list of
// commands that .ci/run runs itself or that cannot run on this machine (client-side commands),
// each with the reason. A README command in neither place fails the test: a command nothing runs
// is a defect.
//
// The convention: a fenced ```bash block holds commands, one per line (`\` continues a line,
// `# …` is a comment); every other fence is labelled (```json, ```nginx, ```text) and is not a
// command; a ```json block must parse. Inline `npx vitest run …` spans (the Reliability table's
// proof column) name test files, which must exist, so `npm test` runs them.
//
// The sandbox: a temporary HOME, FAL_MCP_BASE_URL pointing at the fake of fal on loopback, the
// README's placeholder key (`your-fal-key`) replaced by the fake's key, the fake's documented
// address (http://127.0.0.1:8787) replaced by this run's fake, bounded time. `npx -y fal-mcp` is
// the registry package: it runs from the packed tarball, offline, with a registry URL that answers
// 503 to anything (the trick of tests/e2e/npx-tarball.test.ts), so nothing leaves the machine.
import { execFile, spawn } from "node:child_process";
import fs from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { initialize, minimalEnv, startStdioSession } from "../release/stdio-session.js";

const execFileAsync = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const readmePath = path.join(root, "README.md");
const README_KEY = "your-fal-key";
const FAKE_KEY = "test-key";
const README_FAKE_URL = "http://127.0.0.1:8787";

/** Steps .ci/run runs itself, or that a named test runs; the README may chain them with `&&`. */
const RUN_BY_CI: Record<string, string> = {
  "npm ci": ".ci/run: step npm ci",
  "npm test": ".ci/run: npm test (which builds first)",
  "npm run build": ".ci/run: step npm run build",
  "npm run check": ".ci/run runs its three parts: npm run typecheck, npm run lint, npm test",
  "npm run test:reliability": "its files (tests/reliability) run in npm test",
  "npm run bundle":
    "tests/e2e/bundle.test.ts builds, validates, unpacks and starts the bundle (scripts/bundle.ts)",
};

/** Whole commands that do not run here, and why. Client-side syntax is as in clients.md §1–2. */
const NOT_RUN_HERE: Record<string, string> = {
  "claude mcp add --transport stdio fal --env FAL_KEY=your-fal-key -- npx -y fal-mcp":
    "Claude Code's CLI (clients.md §1.2); no Claude Code here. Its server command, npx -y fal-mcp, runs below",
  "claude mcp add -s user fal -e FAL_KEY=your-fal-key -- npx -y fal-mcp":
    "Claude Code's CLI (clients.md §1.2)",
  "claude mcp list": "Claude Code's CLI (clients.md §1.2)",
  'claude mcp add --transport http fal http://127.0.0.1:8080/mcp --header "Authorization: Bearer YOUR_FAL_KEY"':
    "Claude Code's CLI (clients.md §2); the HTTP server it points at is tested in tests/e2e/http.test.ts",
  "codex mcp add fal --env FAL_KEY=your-fal-key -- npx -y fal-mcp": "Codex CLI (clients.md §1.6)",
  "npm run bench":
    "a one-minute benchmark needing curl, not a test; bench/ is type-checked and linted by .ci/run",
  "npm run fuzz:nightly":
    "50,000 cases per tool (hours); the same property tests run with 5,000 cases in npm test (tests/reliability/fuzz.test.ts)",
};

interface Block {
  lang: string;
  body: string;
  line: number;
}

function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^ *```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(indent));
    blocks.push({ lang: open[2]!, body: body.join("\n"), line: i + 1 });
    i = j;
  }
  return blocks;
}

/** The command lines of a bash block: continuations joined, comments and blank lines dropped. */
function commandLines(body: string): string[] {
  return body
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((line) => line.replace(/(^|\s)#\s.*$/, "").trim())
    .filter((line) => line !== "");
}

/** Shell words, with "…", '…' and backslash escapes (enough for the README's commands). */
function words(command: string): string[] {
  const out: string[] = [];
  let current = "";
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (c === "\\") {
      current += command[++i] ?? "";
      started = true;
    } else if (/\s/.test(c)) {
      if (started || current) out.push(current);
      current = "";
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (started || current) out.push(current);
  return out;
}

const readme = await fs.readFile(readmePath, "utf8");
const blocks = fencedBlocks(readme);
const commands = blocks.filter((block) => block.lang === "bash").flatMap((block) => commandLines(block.body));

let fake: FakeFal;
let sandbox: string;
let tarball: string;
let registry: Server;
const registryHits: string[] = [];

beforeAll(async () => {
  fake = await startFakeFal();
  sandbox = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-readme-"));
  await fs.mkdir(path.join(sandbox, "home"));
  await fs.mkdir(path.join(sandbox, "work"));
  registry = createServer((request, response) => {
    registryHits.push(`${request.method} ${request.url}`);
    response.writeHead(503).end();
  });
  await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
  // --ignore-scripts: npm test has built dist/; prepack would rebuild it under other test files.
  const { stdout } = await execFileAsync(
    "npm",
    ["pack", "--json", "--ignore-scripts", "--pack-destination", sandbox],
    { cwd: root, env: { ...process.env, npm_config_loglevel: "error" } },
  );
  tarball = path.join(sandbox, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
}, 90_000);

afterAll(async () => {
  await fake?.close();
  await new Promise((resolve) => registry?.close(resolve));
  await fs.rm(sandbox, { recursive: true, force: true });
});

function sandboxEnv(extra: Record<string, string> = {}): Record<string, string> {
  return minimalEnv({
    HOME: path.join(sandbox, "home"),
    FAL_KEY: FAKE_KEY,
    FAL_MCP_BASE_URL: fake.url,
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    ...extra,
  });
}

/** A README step with the sandbox applied: placeholders replaced, leading VAR=value pairs split off. */
function prepared(step: string): { env: Record<string, string>; argv: string[] } {
  const argv = words(step.replaceAll(README_KEY, FAKE_KEY).replaceAll(README_FAKE_URL, fake.url));
  const env: Record<string, string> = {};
  while (argv[0] && /^[A-Z_][A-Z0-9_]*=/.test(argv[0])) {
    const [name, ...value] = argv.shift()!.split("=");
    env[name!] = value.join("=");
  }
  return { env, argv };
}

/** `npx -y fal-mcp …` → the packed tarball through npx, offline (nothing from a registry). */
function resolved(argv: string[]): { command: string; args: string[]; cwd: string } {
  if (argv[0] === "npx" && argv[1] === "-y" && argv[2] === "fal-mcp") {
    const registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`;
    const cache = path.join(sandbox, "npm-cache");
    return {
      command: "npx",
      args: [
        "--yes",
        "--offline",
        "--cache",
        cache,
        "--registry",
        registryUrl,
        "--package",
        tarball,
        "fal-mcp",
        ...argv.slice(3),
      ],
      cwd: path.join(sandbox, "work"),
    };
  }
  return { command: argv[0]!, args: argv.slice(1), cwd: root };
}

function runToEnd(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  timeout = 90_000,
) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, args, { env, cwd, timeout, maxBuffer: 20 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Starts a long-running command, waits until `ready` says so, then stops it. */
async function startCheckStop(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  ready: (output: string) => Promise<boolean> | boolean,
): Promise<string> {
  // A process group of its own, so stopping it stops what it started too: `npm run fake-fal` runs
  // tsx, which runs node, and a SIGTERM to npm alone had left that node serving after the suite.
  const grouped = process.platform !== "win32";
  const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"], detached: grouped });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    const deadline = Date.now() + 60_000;
    let ok = false;
    while (!ok && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      ok = await ready(output);
    }
    expect(ok, `${command} ${args.join(" ")} never became ready:\n${output}`).toBe(true);
  } finally {
    if (grouped && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // The group is gone already.
      }
    } else child.kill("SIGTERM");
    await exited;
  }
  if (grouped && child.pid !== undefined) {
    // Nothing it started is left running (the group empties once its last member exits).
    const groupAlive = () => {
      try {
        process.kill(-child.pid!, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let waited = 0; groupAlive() && waited < 5_000; waited += 100)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(groupAlive(), `${command} ${args.join(" ")} left a process running`).toBe(false);
  }
  return output;
}

/** How each runnable README step is run; undefined when no handler knows it. */
async function runStep(step: string): Promise<void> {
  const { env, argv } = prepared(step);
  const { command, args, cwd } = resolved(argv);
  const fullEnv = sandboxEnv(env);

  // The stdio server, from the clone or from the tarball: handshake, then a clean exit on stdin close.
  if (
    (command === "node" && args[0] === "bin/fal-mcp.js" && args.length === 1) ||
    (command === "npx" && args.at(-1) === "fal-mcp")
  ) {
    const session = startStdioSession(command, args, { env: fullEnv, cwd });
    try {
      const init = await initialize(session);
      expect((init.serverInfo as { name: string }).name).toBe("fal-mcp");
      const listed = await session.request("tools/list", {}, 30_000);
      expect((listed.tools as unknown[]).length).toBeGreaterThanOrEqual(9);
    } finally {
      const exit = await session.close();
      expect(exit.code, session.stderr()).toBe(0);
    }
    return;
  }
  if (args.includes("doctor")) {
    const run = await runToEnd(command, args, fullEnv, cwd);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Key accepted by fal/);
    expect(run.stdout).toContain("Everything looks good.");
    return;
  }
  const httpAt = args.indexOf("http");
  if (httpAt >= 0 && args[httpAt + 1] === "--port") {
    const port = args[httpAt + 2]!;
    await startCheckStop(command, args, fullEnv, cwd, async (output) => {
      // This server, not another program on the port: it names its address once listening.
      const url = /serving MCP over HTTP at (http:\/\/127\.0\.0\.1:(\d+)\/mcp)/.exec(output);
      if (!url || (port !== "0" && url[2] !== port)) return false;
      const answer = await fetch(url[1]!, { method: "GET" }).catch(() => undefined);
      return answer !== undefined;
    });
    return;
  }
  if (command === "npm" && args.join(" ") === "run fake-fal") {
    // The README says the fake listens on 8787 and accepts test-key: check both, on a free port.
    const cli = await fs.readFile(path.join(root, "tests/fake-fal/cli.ts"), "utf8");
    expect(cli).toContain("FAKE_FAL_PORT ?? 8787");
    const output = await startCheckStop(command, args, { ...fullEnv, FAKE_FAL_PORT: "0" }, cwd, (text) =>
      text.includes("Accepted keys:"),
    );
    expect(output).toMatch(/fake fal listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(/Accepted keys: (.*)/.exec(output)?.[1]?.split(", ")).toContain(FAKE_KEY);
    return;
  }
  if (command === "npx" && args[0] === "@modelcontextprotocol/inspector") {
    // The UI mode as written, switched to the Inspector's CLI mode with one call appended: the
    // call needs the key and the redirect, so it proves the -e flags reach the server.
    // Against "your real key" the sandbox adds the redirect, so nothing goes to the real fal.
    const redirect = args.some((arg) => arg.startsWith("FAL_MCP_BASE_URL="))
      ? []
      : ["-e", `FAL_MCP_BASE_URL=${fake.url}`];
    const run = await runToEnd(
      command,
      [
        args[0],
        "--cli",
        ...redirect,
        ...args.slice(1),
        "--method",
        "tools/call",
        "--tool-name",
        "get_pricing",
        "--tool-args-json",
        '{"endpoint_ids":["fal-ai/flux/dev"]}',
      ],
      // No FAL_* in the Inspector's own environment: only -e may carry them.
      minimalEnv({ HOME: fullEnv.HOME! }),
      cwd,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('"unit_price": 0.025');
    return;
  }
  if (command === "npm" && args.join(" ") === "run readme") {
    const before = await fs.readFile(readmePath, "utf8");
    const run = await runToEnd(command, args, { ...process.env, ...fullEnv } as Record<string, string>, cwd);
    expect(run.code, run.stderr).toBe(0);
    expect(
      await fs.readFile(readmePath, "utf8"),
      "npm run readme changed README.md: commit the regenerated table",
    ).toBe(before);
    return;
  }
  if (command === "rm" && args[0] === "-rf") {
    const home = fullEnv.HOME!;
    expect(home.startsWith(os.tmpdir())).toBe(true);
    for (const target of args.slice(1)) {
      expect(target.startsWith("~/"), target).toBe(true);
      await fs.mkdir(path.join(home, target.slice(2), "jobs"), { recursive: true });
      await fs.writeFile(path.join(home, target.slice(2), "jobs", "x.json"), "{}");
    }
    // bash expands ~ from the sandbox HOME.
    const run = await runToEnd("bash", ["-c", step], { PATH: process.env.PATH ?? "", HOME: home }, cwd);
    expect(run.code, run.stderr).toBe(0);
    for (const target of args.slice(1))
      await expect(fs.access(path.join(home, target.slice(2)))).rejects.toThrow();
    return;
  }
  throw new Error(
    `README command "${step}" is neither run by tests/e2e/readme-commands.test.ts nor listed in it`,
  );
}

describe("README commands", () => {
  it("labels every fence and parses every JSON snippet", () => {
    for (const block of blocks) {
      expect(
        ["bash", "json", "nginx", "text"],
        `README.md:${block.line} fence language "${block.lang}"`,
      ).toContain(block.lang);
      if (block.lang === "json")
        expect(() => JSON.parse(block.body) as unknown, `README.md:${block.line}`).not.toThrow();
    }
    expect(commands.length).toBeGreaterThan(10);
  });

  it("puts the same server command in every client snippet", () => {
    for (const block of blocks.filter((b) => b.lang === "json")) {
      const config = JSON.parse(block.body) as Record<
        string,
        Record<string, { command?: string; args?: string[]; url?: string; serverUrl?: string; type?: string }>
      >;
      const servers = config.mcpServers ?? config.servers;
      const fal = servers?.fal;
      expect(fal, `README.md:${block.line}`).toBeDefined();
      if (fal?.command === "cmd") expect(fal.args?.slice(0, 4)).toEqual(["/c", "npx", "-y", "fal-mcp"]);
      else if (fal?.command) expect([fal.command, ...(fal.args ?? [])]).toEqual(["npx", "-y", "fal-mcp"]);
      else expect(fal?.url ?? fal?.serverUrl).toBe("http://127.0.0.1:8080/mcp");
      // VS Code's key is `servers` with a required `type`; the others use `mcpServers`.
      if (config.servers) expect(fal?.type).toBeDefined();
    }
  });

  it("names only test files that exist in its inline `npx vitest run` commands", async () => {
    const inline = [...readme.matchAll(/`(npx vitest run [^`]+)`/g)].map((match) => match[1]!);
    expect(inline.length).toBeGreaterThan(3);
    for (const command of inline)
      for (const file of command.split(/\s+/).slice(3))
        await expect(fs.access(path.join(root, file)), file).resolves.toBeUndefined();
  });

  // One test per README command line, so a failure names the command.
  for (const line of new Set(commands)) {
    it(`runs or lists: ${line}`, { timeout: 180_000 }, async () => {
      if (NOT_RUN_HERE[line]) return expect(NOT_RUN_HERE[line]).not.toBe("");
      const steps = line.split(/\s*&&\s*/);
      for (const step of steps) {
        if (RUN_BY_CI[step]) continue;
        await runStep(step);
      }
    });
  }

  it("sent nothing to a registry", () => {
    expect(registryHits).toEqual([]);
  });
});
