import { guardStdout, Logger } from "./util/log.js";

// This process's logger: every line to stderr. First thing: nothing but MCP messages may ever reach stdout.
const log = new Logger({ sink: (line) => process.stderr.write(line + "\n") });
guardStdout(log);

import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ConfigError, loadConfig } from "./config.js";
import { formatDoctor, runDoctor } from "./doctor.js";
import { createServices } from "./services.js";
import { takeHandover, type FrontHandover } from "./handover.js";
import { createServer } from "./mcp/server.js";
import { guardStdin } from "./mcp/stdin-guard.js";
import { VERSION } from "./version.js";

const HELP = `fal-mcp ${VERSION}: the fal.ai generative-media platform as a local MCP server (stdio).

Usage:
  npx fal-mcp            start the MCP server on stdin/stdout (what MCP clients run)
  npx fal-mcp doctor     check Node, the API key, fal's hosts and the output/state folders
  npx fal-mcp --version  print the version
  npx fal-mcp --help     print this help

Settings come from environment variables (put them in the "env" block of your client config):
  FAL_KEY                       your fal API key (or FAL_KEY_ID + FAL_KEY_SECRET)
  FAL_MCP_OUTPUT_DIR            where results are saved (default ~/fal-mcp)
  FAL_MCP_STATE_DIR             where the job record is kept (default: the platform's state folder)
  FAL_MCP_WAIT_SECONDS          how long run_model waits before returning a request id (default 45)
  FAL_MCP_ALLOWED_DIRS          folders local files may be uploaded from (default: home)
  FAL_MCP_BASE_URL              send fal traffic to a proxy or a fake of fal
  ...and more: see https://www.npmjs.com/package/fal-mcp#configuration
`;

/**
 * Runs the command in `argv`; resolves true when it serves MCP on stdio. `front` is the fast
 * front's connection (src/fast-front.ts) when dist/index.js answered the handshake before loading
 * this program; without it the server reads process.stdin itself.
 */
async function main(argv: string[], front: FrontHandover | undefined): Promise<boolean> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(HELP);
    return false;
  }
  if (argv.includes("--version") || argv.includes("-v")) {
    process.stdout.write(`${VERSION}\n`);
    return false;
  }
  const command = argv.find((arg) => !arg.startsWith("-"));
  if (command !== undefined && command !== "doctor") {
    process.stderr.write(`fal-mcp: unknown command "${command}"\n\n${HELP}`);
    process.exitCode = 2;
    return false;
  }

  let config;
  try {
    config = loadConfig({ env: process.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`fal-mcp: invalid configuration: ${error.message}\n`);
    process.exitCode = 2;
    return false;
  }
  log.redactSecret(config.falKey?.reveal());
  log.redactSecret(process.env.FAL_KEY_SECRET);
  log.setLevel(config.logLevel);
  const services = createServices({ config, logger: log });

  if (command === "doctor") {
    const checks = await runDoctor(config, services, process.version);
    process.stdout.write(formatDoctor(checks) + "\n");
    process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
    return false;
  }

  if (!config.falKey) {
    log.warn(
      'FAL_KEY is not set: search_models and search_docs still work; running models, pricing and uploads need a key. Add FAL_KEY to the "env" block of this server in your MCP client config.',
    );
  }
  const falMcp = createServer({ config, services });
  // Oversized lines are dropped before the SDK reader, which would close the connection over one.
  const input = front?.input ?? process.stdin;
  const transport = new StdioServerTransport(guardStdin(input, log), front?.output ?? process.stdout);

  // The SDK's stdio transport does not end the process when the client goes away; we do,
  // within 2 s, so no orphaned servers pile up. fal jobs keep running on fal's side and are
  // already in the durable job record.
  let stopping = false;
  const shutdown = (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info(`shutting down: ${reason}`);
    setTimeout(() => process.exit(code), 1500).unref();
    falMcp
      .close()
      .catch((error: unknown) => log.debug("close failed", error))
      .finally(() => process.exit(code));
  };
  input.on("end", () => shutdown("stdin closed"));
  input.on("close", () => shutdown("stdin closed"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGHUP", () => shutdown("SIGHUP"));
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") shutdown("stdout closed (EPIPE)");
  });
  process.on("uncaughtException", (error) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EPIPE") return shutdown("stdout closed (EPIPE)");
    // Stay up for the other calls; the failing one has already been answered or will time out.
    log.error("unexpected error (the server keeps running)", error);
  });
  process.on("unhandledRejection", (reason) =>
    log.error("unhandled rejection (the server keeps running)", reason),
  );

  await falMcp.server.connect(transport);
  // Node loads fetch (undici, ~25 ms) on its first use. Do that while the client is idle after
  // the handshake, so the first tool call does not pay it; a data: URL touches no network.
  setTimeout(() => {
    fetch("data:,")
      .then((response) => response.arrayBuffer())
      .catch(() => undefined);
  }, 250).unref();
  log.info(
    `fal-mcp ${VERSION} ready on stdio${config.baseUrl ? ` (fal traffic redirected to ${config.baseUrl})` : ""}`,
  );
  return true;
}

const front = takeHandover();
main(process.argv.slice(2), front).then(
  (serving) => {
    // Not serving (a bad setting): the front lets go of stdin, so the process exits as it would without it.
    if (!serving) front?.release();
  },
  (error: unknown) => {
    log.error("fatal", error);
    process.exit(1);
  },
);
