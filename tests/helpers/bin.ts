import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The built entry point that `npx fal-mcp` runs. Tests require `npm run build` first (npm test does it). */
export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/fal-mcp.js");

/** A minimal environment: like an MCP client, pass only what the server needs (no inherited env). */
export function childEnv(extra: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "SYSTEMROOT"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}

export interface RawServer {
  child: ChildProcessWithoutNullStreams;
  /** Every complete stdout line so far. */
  stdoutLines: string[];
  stderr(): string;
  send(message: unknown): void;
  sendRaw(line: string): void;
  /** Resolves with the response carrying `id`. */
  response(id: number | string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Spawns the bin and speaks raw newline-delimited JSON-RPC, so tests can see every stdout byte. */
export function spawnRaw(env: Record<string, string | undefined>, args: string[] = []): RawServer {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: childEnv(env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  // A child that exits early (a bad setting) closes its stdin; writes after that must not crash the test.
  child.stdin.on("error", () => undefined);
  const stdoutLines: string[] = [];
  let stderr = "";
  let pending = "";
  const waiters = new Map<string, (message: Record<string, unknown>) => void>();
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      stdoutLines.push(line);
      try {
        const message = JSON.parse(line) as Record<string, unknown>;
        const waiter = waiters.get(String(message.id));
        if (waiter) waiter(message);
      } catch {
        // Kept in stdoutLines; the tests assert every line parses.
      }
    }
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    // "close", not "exit": it comes after stdout and stderr have delivered everything.
    child.on("close", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return {
    child,
    stdoutLines,
    stderr: () => stderr,
    send: (message) => child.stdin.write(JSON.stringify(message) + "\n"),
    sendRaw: (line) => child.stdin.write(line + "\n"),
    response: (id, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no response to ${id} within ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        waiters.set(String(id), (message) => {
          clearTimeout(timer);
          resolve(message);
        });
      }),
    exited,
  };
}

export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw-test", version: "0" } },
};
export const INITIALIZED = { jsonrpc: "2.0", method: "notifications/initialized" };
