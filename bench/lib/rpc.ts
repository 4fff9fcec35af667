// A raw newline-delimited JSON-RPC client over a child's stdio. Raw rather than the SDK's
// StdioClientTransport: it does no schema validation on the client side, so the figures measure
// the server, not the client library.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The built entry point `npx fal-mcp` runs (needs `npm run build`). */
// BENCH_BIN points the rows at another launcher (an A/B of two builds in one sitting).
export const BIN = process.env.BENCH_BIN
  ? path.resolve(process.env.BENCH_BIN)
  : path.join(ROOT, "bin/fal-mcp.js");
export const PROTOCOL_VERSION = "2025-06-18";

export interface RpcMessage {
  jsonrpc: "2.0";
  id?: number | string;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

export interface ToolResult {
  isError?: boolean;
  content?: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

export class RpcError extends Error {}

/** A child process that speaks JSON-RPC on stdin/stdout. */
export class RpcChild {
  readonly child: ChildProcessWithoutNullStreams;
  readonly spawnedAt: number;
  readonly exited: Promise<number | null>;
  private pending = "";
  private nextId = 1;
  private stderrText = "";
  private readonly waiters = new Map<
    string,
    { resolve(message: RpcMessage): void; reject(error: Error): void }
  >();

  constructor(command: string, args: string[], env: Record<string, string>, cwd?: string) {
    this.spawnedAt = performance.now();
    this.child = spawn(command, args, { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => this.onData(chunk));
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => {
      // Keep only the tail: a long run would otherwise grow this without bound.
      this.stderrText = (this.stderrText + chunk).slice(-8192);
    });
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code) => {
        for (const waiter of this.waiters.values())
          waiter.reject(
            new RpcError(`the process exited (code ${code}) before answering; stderr: ${this.stderrText}`),
          );
        this.waiters.clear();
        resolve(code);
      }),
    );
    this.child.on("error", (error) => {
      for (const waiter of this.waiters.values()) waiter.reject(error);
      this.waiters.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  stderr(): string {
    return this.stderrText;
  }

  private onData(chunk: string): void {
    this.pending += chunk;
    let newline: number;
    while ((newline = this.pending.indexOf("\n")) >= 0) {
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      if (!line.trim()) continue;
      let message: RpcMessage;
      try {
        message = JSON.parse(line) as RpcMessage;
      } catch {
        continue;
      }
      if (message.id === undefined || message.method !== undefined) continue; // notifications, server requests
      const waiter = this.waiters.get(String(message.id));
      if (waiter) {
        this.waiters.delete(String(message.id));
        waiter.resolve(message);
      }
    }
  }

  notify(method: string, params?: Record<string, unknown>): void {
    this.child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method, ...(params ? { params } : {}) }) + "\n");
  }

  /** Sends a request; resolves with its result, rejects on a JSON-RPC error or a timeout. */
  request(
    method: string,
    params?: Record<string, unknown>,
    timeoutMs = 120_000,
  ): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(String(id));
        reject(new RpcError(`no answer to ${method} within ${timeoutMs} ms; stderr: ${this.stderrText}`));
      }, timeoutMs);
      this.waiters.set(String(id), {
        resolve: (message) => {
          clearTimeout(timer);
          if (message.error) reject(new RpcError(`${method}: ${message.error.message}`));
          else resolve(message.result ?? {});
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.stdin.write(
        JSON.stringify({ jsonrpc: "2.0", id, method, ...(params ? { params } : {}) }) + "\n",
      );
    });
  }

  initialize(): Promise<Record<string, unknown>> {
    return this.request("initialize", {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: "fal-mcp-bench", version: "0" },
    });
  }

  async toolNames(): Promise<string[]> {
    const result = await this.request("tools/list");
    const tools = Array.isArray(result.tools) ? (result.tools as { name?: unknown }[]) : [];
    return tools.flatMap((tool) => (typeof tool.name === "string" ? [tool.name] : []));
  }

  /** Calls a tool; a tool-level error (isError) is thrown with its text, so a row never reports a failure as a figure. */
  async callTool(name: string, args: Record<string, unknown>, timeoutMs?: number): Promise<ToolResult> {
    const result = (await this.request("tools/call", { name, arguments: args }, timeoutMs)) as ToolResult;
    if (result.isError)
      throw new RpcError(`${name} failed: ${result.content?.map((c) => c.text ?? "").join(" ") ?? ""}`);
    return result;
  }

  /** Closes stdin (the server exits by itself) and waits; kills it if it lingers. */
  async close(graceMs = 3_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A minimal environment, as MCP clients pass: nothing inherited but PATH and HOME. */
export function serverEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "SYSTEMROOT"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // BENCH_ENV_*: extra settings for the server under test (an A/B of one setting in one sitting).
  for (const [name, value] of Object.entries(process.env))
    if (name.startsWith("BENCH_ENV_") && value !== undefined) env[name.slice("BENCH_ENV_".length)] = value;
  return { ...env, FAL_MCP_LOG_LEVEL: "warning", ...extra };
}

/** Spawns the built server and completes the MCP handshake. */
export async function startServer(
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<{ server: RpcChild; tools: string[] }> {
  const server = new RpcChild(process.execPath, [...nodeArgs, BIN], env);
  await server.initialize();
  server.notify("notifications/initialized");
  const tools = await server.toolNames();
  return { server, tools };
}

/** Why a row cannot run: the tools it needs that the registry does not have yet. */
export function missingTools(available: readonly string[], needed: readonly string[]): string | undefined {
  const missing = needed.filter((name) => !available.includes(name));
  return missing.length
    ? `${missing.join(", ")} not in the tool registry yet (src/tools/index.ts)`
    : undefined;
}
