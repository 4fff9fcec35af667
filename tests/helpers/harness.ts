import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { CallToolResultSchema, type CallToolResult, type Progress } from "@modelcontextprotocol/sdk/types.js";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig, type Config, type Env } from "../../src/config.js";
import { createServices, type Services } from "../../src/services.js";
import { createServer, type FalMcpServer } from "../../src/mcp/server.js";
import type { Logger } from "../../src/util/log.js";
import { stderrLogger } from "./logger.js";

/** The key the fake of fal accepts by default. */
export const TEST_KEY = "test-key-id:test-key-secret";

export interface Harness {
  client: Client;
  config: Config;
  services: Services;
  server: FalMcpServer;
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
  /** Client capabilities, e.g. { roots: { listChanged: true } }. */
  clientCapabilities?: ConstructorParameters<typeof Client>[1];
  /** Builds the client before connecting, e.g. to set request handlers (roots/list). */
  setupClient?: (client: Client) => void;
  fetch?: typeof fetch;
  /** This server's logger; default: stderr at the configured level. */
  logger?: Logger;
}

/** A real SDK Client connected in memory to createServer, with fal pointed at the fake. */
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
  const config = loadConfig({ env, homeDir });
  const services = createServices({
    config,
    logger: options.logger ?? stderrLogger(config.logLevel),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const server = createServer({ config, services });
  const client = new Client(
    options.clientInfo ?? { name: "fal-mcp-tests", version: "0.0.0" },
    options.clientCapabilities,
  );
  options.setupClient?.(client);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([client.connect(clientSide), server.server.connect(serverSide)]);
  return {
    client,
    config,
    services,
    server,
    tempDir,
    async call(name, args, callOptions = {}) {
      const result = await client.callTool({ name, arguments: args }, CallToolResultSchema, {
        timeout: callOptions.timeout ?? 60_000,
        ...(callOptions.onprogress ? { onprogress: callOptions.onprogress } : {}),
        ...(callOptions.signal ? { signal: callOptions.signal } : {}),
      });
      return result as CallToolResult;
    },
    async close() {
      await client.close();
      await server.close();
      await fs.rm(tempDir, { recursive: true, force: true });
    },
  };
}

/** The text of a tool result's first text block. */
export function textOf(result: CallToolResult): string {
  const block = result.content.find((item) => item.type === "text");
  return block && block.type === "text" ? block.text : "";
}
