import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import type { Readable, Writable } from "node:stream";
import type { Config } from "../config.js";
import type { Services } from "../services.js";
import { createServer } from "./server.js";
import { guardStdin } from "./stdin-guard.js";

export interface StdioOptions {
  config: Config;
  services: Services;
  input: Readable;
  output: Writable;
  /** Aborts open tool calls (stop waiting; fal jobs keep running) when the process shuts down. */
  stop: AbortSignal;
}

/**
 * Serves MCP on stdio for both eras: the SDK reads the opening exchange (`initialize`, or a
 * 2026-07-28 request carrying the `_meta` envelope, or `server/discover`) and pins one server.
 */
export function serveOnStdio({ config, services, input, output, stop }: StdioOptions): {
  close(): Promise<void>;
} {
  // Oversized lines are dropped before the SDK reader, which would close the connection over one.
  const transport = new StdioServerTransport(guardStdin(input, services.logger), output);
  return serveStdio(({ era }) => createServer({ config, services, era, stop }), { transport });
}
