import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { loadConfig } from "../../src/config.js";
import { createServices } from "../../src/services.js";
import { stderrLogger } from "./logger.js";
import type { FrontManifest } from "../../src/fast-front.js";
import { createServer } from "../../src/mcp/server.js";

/**
 * What the real server (createServer, in memory) answers to `messages`, serialised as its stdio
 * transport would write them (JSON + "\n"): the reference the fast front's answers must equal.
 * Resolves once every request with an id has its answer.
 */
export async function referenceAnswers(messages: readonly Record<string, unknown>[]): Promise<string[]> {
  const config = loadConfig({
    env: { FAL_MCP_BASE_URL: "http://127.0.0.1:9" },
    homeDir: "/nonexistent-home",
  });
  const falMcp = createServer({
    config,
    services: createServices({ config, logger: stderrLogger(config.logLevel) }),
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const lines: string[] = [];
  const expected = messages.filter((message) => message.id !== undefined).length;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  clientSide.onmessage = (message) => {
    lines.push(JSON.stringify(message) + "\n");
    if (lines.length === expected) done();
  };
  await falMcp.server.connect(serverSide);
  await clientSide.start();
  for (const message of messages) await clientSide.send(message as JSONRPCMessage);
  if (expected > 0) await finished;
  await falMcp.close();
  return lines;
}

export const initializeRequest = (
  id: number | string,
  protocolVersion: string,
  capabilities: Record<string, unknown> = {},
) => ({
  jsonrpc: "2.0",
  id,
  method: "initialize",
  params: { protocolVersion, capabilities, clientInfo: { name: "handshake-test", version: "1.0.0" } },
});

/** A manifest recorded from the in-memory server (as the build records one from the bundle). */
export async function referenceManifest(supported: readonly string[]): Promise<FrontManifest> {
  const [initialize, tools] = await referenceAnswers([
    initializeRequest(1, "1970-01-01"),
    { jsonrpc: "2.0", id: 2, method: "tools/list" },
  ]);
  const initializeResult = (JSON.parse(initialize!) as { result: Record<string, unknown> }).result;
  return {
    bundleBytes: 0,
    protocolVersions: [...supported],
    fallbackProtocolVersion: String(initializeResult.protocolVersion),
    initializeResult,
    toolsListResult: JSON.stringify((JSON.parse(tools!) as { result: unknown }).result),
  };
}
