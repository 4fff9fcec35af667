import {
  Client,
  InMemoryTransport,
  type CallToolResult,
  type ClientOptions,
  type Implementation,
  type Progress,
} from "@modelcontextprotocol/client";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig, type Config, type Env } from "../../src/config.js";
import { createServer } from "../../src/mcp/server.js";
import { createServices, type Services } from "../../src/services.js";
import type { Logger } from "../../src/util/log.js";
import { stderrLogger } from "./logger.js";

/** The key the fake of fal accepts by default. */
export const TEST_KEY = "test-key-id:test-key-secret";

/** Which protocol era the harness client speaks: the 2025 handshake, the v2 client's probe, or 2026-07-28 only. */
export type ClientEra = "legacy" | "auto" | "2026-07-28";

export interface Harness {
  client: Client;
  config: Config;
  services: Services;
  /** A fresh temporary folder holding output/, state/ and home/ for this harness. */
  tempDir: string;
  /** Calls a tool; never throws for isError results. */
  call(name: string, args: Record<string, unknown>, options?: CallOptions): Promise<CallToolResult>;
  close(): Promise<void>;
}

export interface CallOptions {
  onprogress?: (progress: Progress) => void;
  signal?: AbortSignal;
  timeout?: number;
}

export interface HarnessOptions {
  /** Base URL of the fake of fal (FAL_MCP_BASE_URL). */
  baseUrl: string;
  /** Extra or overriding environment; FAL_KEY defaults to TEST_KEY (pass FAL_KEY: undefined for none). */
  env?: Env;
  /** clientInfo the client sends (default fal-mcp-tests), e.g. { name: "claude-ai", version: "0.1.0" }. */
  clientInfo?: { name: string; version: string };
  /** Client options, e.g. { capabilities: { roots: { listChanged: true } } }. */
  clientOptions?: ClientOptions;
  /** Builds the client before connecting, e.g. to set request handlers (roots/list). */
  setupClient?: (client: Client) => void;
  fetch?: typeof fetch;
  /** This server's logger; default: stderr at the configured level. */
  logger?: Logger;
  /** Default "legacy" (what most clients speak today). */
  era?: ClientEra;
  /** "http" runs the tools as `fal-mcp http` would (no local files, nothing saved). Default "stdio". */
  mode?: Config["mode"];
}

export function negotiation(era: ClientEra): ClientOptions["versionNegotiation"] {
  return era === "legacy" ? { mode: "legacy" } : era === "auto" ? { mode: "auto" } : { mode: { pin: era } };
}

const CLIENT_INFO: Implementation = { name: "fal-mcp-tests", version: "0.0.0" };

/**
 * A real SDK Client connected in memory to the server factory, served by the SDK's own era
 * selection (serveStdio over an in-memory transport), with fal pointed at the fake.
 */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-test-"));
  const homeDir = path.join(tempDir, "home");
  await fs.mkdir(homeDir, { recursive: true });
  const env: Env = {
    FAL_KEY: TEST_KEY,
    FAL_MCP_BASE_URL: options.baseUrl,
    FAL_MCP_OUTPUT_DIR: path.join(tempDir, "output"),
    FAL_MCP_STATE_DIR: path.join(tempDir, "state"),
    ...options.env,
  };
  const config = loadConfig({ env, homeDir, mode: options.mode ?? "stdio" });
  const services = createServices({
    config,
    logger: options.logger ?? stderrLogger(config.logLevel),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const stop = new AbortController();
  const client = new Client(options.clientInfo ?? CLIENT_INFO, {
    ...options.clientOptions,
    versionNegotiation: negotiation(options.era ?? "legacy"),
  });
  options.setupClient?.(client);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const serving = serveStdio(({ era }) => createServer({ config, services, era, stop: stop.signal }), {
    transport: serverSide,
  });
  await client.connect(clientSide);
  return {
    client,
    config,
    services,
    tempDir,
    async call(name, args, callOptions = {}) {
      return await client.callTool(
        { name, arguments: args },
        {
          timeout: callOptions.timeout ?? 60_000,
          ...(callOptions.onprogress ? { onprogress: callOptions.onprogress } : {}),
          ...(callOptions.signal ? { signal: callOptions.signal } : {}),
        },
      );
    },
    async close() {
      await client.close();
      stop.abort(new Error("fal-mcp is shutting down"));
      await serving.close();
      await fs.rm(tempDir, { recursive: true, force: true });
    },
  };
}

/** The text of a tool result's first text block. */
export function textOf(result: CallToolResult): string {
  const block = result.content.find((item) => item.type === "text");
  return block && block.type === "text" ? block.text : "";
}
