import { guardStdout, Logger } from "./util/log.js";

// This process's logger: every line to stderr. First thing: nothing but MCP messages may ever reach stdout.
const log = new Logger({ sink: (line) => process.stderr.write(line + "\n") });
guardStdout(log);

import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { PendingApprovals } from "./jobs/spend-gate.js";
import { createServices } from "./services.js";
import { removeLiveTempsSync, setTempOwner, sweepTemps } from "./util/temp-files.js";
import { ignoredSettingWarning } from "./util/unsubstituted.js";
import { VERSION } from "./version.js";

const HELP = `fal-mcp ${VERSION}: the fal.ai generative-media platform as an MCP server.

Usage:
  npx fal-mcp                      serve MCP on stdin/stdout (what MCP clients run; local files, saved results)
  npx fal-mcp http [--host H] [--port P]
                                   serve MCP over Streamable HTTP at http://H:P/mcp (default 127.0.0.1:8080);
                                   callers send "Authorization: Bearer <their fal key>"
  npx fal-mcp doctor               check Node, the API key, fal's hosts and the output/state folders
  npx fal-mcp --version            print the version
  npx fal-mcp --help               print this help

Settings (environment variables; put them in the "env" block of your client config):
  FAL_KEY                          your fal API key (or FAL_KEY_ID + FAL_KEY_SECRET)
  FAL_MCP_OUTPUT_DIR               where results are saved (default ~/fal-mcp)
  FAL_MCP_STATE_DIR                where the job record is kept (default: the platform's state folder)
  FAL_MCP_WAIT_SECONDS             how long run_model waits before returning a request id (default 45)
  FAL_MCP_INLINE_PREVIEW_BYTES     largest result that gets an inline image preview (default 921600)
  FAL_MCP_ALLOWED_DIRS             folders local files may be uploaded from (default: MCP roots, else home)
  FAL_MCP_ALLOW_HIDDEN=1           allow files in hidden folders
  FAL_MCP_ALLOW_PRIVATE_URLS=1     let upload_file fetch private-network URLs
  FAL_MCP_MAX_UPLOAD_BYTES         largest upload (default 2 GiB)
  FAL_MCP_MAX_DOWNLOAD_BYTES       largest saved result file (default 2 GiB)
  FAL_MCP_REQUEST_TIMEOUT_MS       time limit of one API request to fal (default 30000)
  FAL_MCP_STALL_TIMEOUT_MS         a transfer that moves no byte this long is aborted (default 30000)
  FAL_MCP_CATALOG_TTL_SECONDS      how long catalog answers are cached (default 600)
  FAL_MCP_LOG_LEVEL                debug | info | warning | error (default info)
  FAL_MCP_COMPILE_CACHE=0          do not keep compiled code between starts (in ~/.cache/fal-mcp)
  FAL_MCP_BASE_URL                 send fal traffic to a proxy or a fake of fal
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY   outbound proxy for every request (lowercase forms win)
 fal-mcp http only:
  FAL_MCP_HTTP_HOST, FAL_MCP_HTTP_PORT   where to listen (default 127.0.0.1, 8080)
  FAL_MCP_HTTP_TOKEN               require this bearer instead of a fal key; the server's FAL_KEY is used
  FAL_MCP_HTTP_ALLOWED_HOSTS       extra Host names accepted (comma list; localhost forms always are)
  FAL_MCP_HTTP_ALLOWED_ORIGINS     extra browser Origins accepted (comma list of host names)
  FAL_MCP_HTTP_MAX_BODY_BYTES      largest request body (default 4194304)

Every setting is described in the "Configuration" section of README.md, shipped in this package.
`;

/** The process-level exit codes: 2 = the command line or a setting is wrong. */
const USAGE_ERROR = 2;

type Command = { name: "stdio" | "http" | "doctor" | "help" | "version"; host?: string; port?: string };

function parseCommand(argv: string[]): Command {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
      host: { type: "string" },
      port: { type: "string" },
    },
  });
  if (values.help) return { name: "help" };
  if (values.version) return { name: "version" };
  const [name, ...rest] = positionals;
  if (rest.length > 0) throw new TypeError(`unexpected argument "${rest[0]}"`);
  if (name !== undefined && name !== "http" && name !== "doctor")
    throw new TypeError(`unknown command "${name}"`);
  if (name !== "http" && (values.host !== undefined || values.port !== undefined))
    throw new TypeError("--host and --port belong to the http command: fal-mcp http --port 8080");
  return { name: name ?? "stdio", host: values.host, port: values.port };
}

function fail(message: string): void {
  process.stderr.write(`fal-mcp: ${message}\n`);
  process.exitCode = USAGE_ERROR;
}

/**
 * How long shutdown waits for submits in flight before writing their records and exiting, whatever
 * is still open (clients kill at ~2 s); fal jobs keep running on fal's side.
 */
const SHUTDOWN_GRACE_MS = 1500;

async function main(argv: string[]): Promise<void> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    return fail(`${error instanceof Error ? error.message : String(error)}\nRun "fal-mcp --help" for usage.`);
  }
  if (command.name === "help") {
    process.stdout.write(HELP);
    return;
  }
  if (command.name === "version") {
    process.stdout.write(`${VERSION}\n`);
    return;
  }

  // Every setting is checked before anything is answered: a bad one never gets a handshake reply.
  let config: Config;
  try {
    config = loadConfig({
      env: process.env,
      mode: command.name === "http" ? "http" : "stdio",
      flags: { host: command.host, port: command.port },
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return fail(`invalid configuration: ${error.message}`);
  }
  log.redactSecret(config.falKey?.reveal());
  log.redactSecret(process.env.FAL_KEY_SECRET);
  log.redactSecret(config.http.token?.reveal());
  // Temp files carry our pid, so a sweep at start removes only those of writers that are gone.
  setTempOwner({
    pid: process.pid,
    isAlive: (pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
      }
    },
  });
  log.setLevel(config.logLevel);
  for (const setting of config.ignoredSettings) log.warn(ignoredSettingWarning(setting));
  for (const { name, closest } of config.unknownSettings)
    log.warn(
      `${name} is not a fal-mcp setting and is ignored${closest ? ` (did you mean ${closest}?)` : ""}; the settings are listed by \`npx fal-mcp --help\`.`,
    );
  for (const { name, given, resolved } of config.relativePaths)
    log.warn(
      `${name} has the relative path "${given}", read as ${resolved} (relative paths are taken from your home folder, not from where the client starts fal-mcp); give an absolute path or ~/… to say exactly which folder.`,
    );

  if (command.name === "doctor") {
    const { formatDoctor, runDoctor } = await import("./doctor.js");
    const checks = await runDoctor(config, createServices({ config, logger: log }), process.version);
    process.stdout.write(formatDoctor(checks) + "\n");
    process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
    return;
  }

  const stopAll = new AbortController();
  process.on("uncaughtException", (error) => {
    if ((error as NodeJS.ErrnoException).code === "EPIPE") return;
    // Stay up for the other calls; the failing one has already been answered or will time out.
    log.error("unexpected error (the server keeps running)", error);
  });
  process.on("unhandledRejection", (reason) =>
    log.error("unhandled rejection (the server keeps running)", reason),
  );

  if (command.name === "http") {
    const { serveOnHttp } = await import("./mcp/http.js");
    // Services are built per caller; approvals offered on one request must hold for the next.
    const approvals = new PendingApprovals();
    const serving = await serveOnHttp({
      config,
      createServices: (callerConfig, logger) => createServices({ config: callerConfig, logger, approvals }),
      logger: log,
      stop: stopAll.signal,
    });
    let stopping = false;
    const shutdown = (reason: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`shutting down: ${reason}; finishing open requests (up to 10 s)`);
      setTimeout(() => process.exit(0), 12_000).unref();
      void serving.close(10_000).finally(() => {
        stopAll.abort(new Error("fal-mcp is shutting down"));
        process.exit(0);
      });
    };
    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => shutdown(signal));
    // Written whatever the log level: it is how an operator (and a test) learns the URL.
    process.stderr.write(
      `fal-mcp ${VERSION} serving MCP over HTTP at ${serving.url} (${config.http.token ? "bearer: FAL_MCP_HTTP_TOKEN" : "bearer: each caller's fal key"})${config.baseUrl ? `, fal traffic redirected to ${config.baseUrl}` : ""}\n`,
    );
    return;
  }

  if (!config.falKey) {
    log.warn(
      'FAL_KEY is not set: search_models and search_docs still work; running models, pricing and uploads need a key. Add FAL_KEY to the "env" block of this server in your MCP client config.',
    );
  }
  const { serveOnStdio } = await import("./mcp/stdio.js");
  const services = createServices({ config, logger: log });
  const serving = serveOnStdio({
    config,
    services,
    input: process.stdin,
    output: process.stdout,
    stop: stopAll.signal,
  });
  // A crash or a signal mid-download leaves `.part` files: those whose writer is gone go now.
  void sweepTemps(config.outputDir).catch(() => undefined);

  // End the process within 2 s when the client goes away, so no orphaned servers pile up. Before
  // that, wait (bounded) for every submit-and-record section in flight; any still open when time
  // runs out gets its record written synchronously, so no paid job is left without one.
  let stopping = false;
  const shutdown = (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info(`shutting down: ${reason}`);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      for (const facts of services.inFlight.pendingSent()) {
        const file = services.jobs.recordUnconfirmedSync({
          ...facts,
          reason: `fal-mcp shut down (${reason}) while this submit was in flight${facts.requestId ? "" : ": fal's answer had not arrived"}`,
        });
        if (file) log.warn(`a submit to ${facts.endpointId} was in flight at shutdown; recorded in ${file}`);
        else log.error(`a submit to ${facts.endpointId} was in flight at shutdown and could NOT be recorded`);
      }
      removeLiveTempsSync();
      process.exit(code);
    };
    setTimeout(finish, SHUTDOWN_GRACE_MS).unref();
    stopAll.abort(new Error("fal-mcp is shutting down"));
    void services.inFlight
      .drain(SHUTDOWN_GRACE_MS - 300)
      .then(() => serving.close())
      .catch((error: unknown) => log.debug("close failed", error))
      .finally(finish);
  };
  process.stdin.on("end", () => shutdown("stdin closed"));
  process.stdin.on("close", () => shutdown("stdin closed"));
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => shutdown(signal));
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") shutdown("stdout closed (EPIPE)");
  });
  process.on("uncaughtException", (error) => {
    if ((error as NodeJS.ErrnoException).code === "EPIPE") shutdown("stdout closed (EPIPE)");
  });
  log.info(
    `fal-mcp ${VERSION} ready on stdio${config.baseUrl ? ` (fal traffic redirected to ${config.baseUrl})` : ""}`,
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  log.error("fatal", error);
  process.exit(1);
});
