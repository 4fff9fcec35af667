import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

/**
 * A raw newline-delimited JSON-RPC session with any command that serves MCP on stdio (the packed
 * tarball through npx, the Desktop bundle's entry). Deliberately not an SDK client, so these tests
 * do not depend on which SDK line the server or the other tests use.
 */
export interface StdioSession {
  child: ChildProcessWithoutNullStreams;
  /** Sends a request and resolves with its `result`; rejects on an `error` answer or a timeout. */
  request(
    method: string,
    params?: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  notify(method: string, params?: Record<string, unknown>): void;
  stderr(): string;
  /** Every stdout line so far (each must be JSON-RPC). */
  stdoutLines: string[];
  /** Closes stdin and resolves when the process has exited and its pipes are drained. */
  close(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startStdioSession(
  command: string,
  args: string[],
  options: { env: Record<string, string>; cwd: string },
): StdioSession {
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
  const stdoutLines: string[] = [];
  const waiting = new Map<number, (message: Record<string, unknown>) => void>();
  let stderr = "";
  let pending = "";
  let nextId = 1;
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      stdoutLines.push(line);
      const message = JSON.parse(line) as Record<string, unknown>;
      if (typeof message.id === "number") waiting.get(message.id)?.(message);
    }
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => (stderr += chunk));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  const send = (message: Record<string, unknown>) => child.stdin.write(JSON.stringify(message) + "\n");
  return {
    child,
    stdoutLines,
    stderr: () => stderr,
    request(method, params, timeoutMs = 30_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`no answer to ${method} within ${timeoutMs} ms; stderr:\n${stderr}`));
        }, timeoutMs);
        waiting.set(id, (message) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (message.error) reject(new Error(`${method} failed: ${JSON.stringify(message.error)}`));
          else resolve(message.result as Record<string, unknown>);
        });
        send({ jsonrpc: "2.0", id, method, ...(params ? { params } : {}) });
      });
    },
    notify: (method, params) => send({ jsonrpc: "2.0", method, ...(params ? { params } : {}) }),
    async close() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const result = await closed;
      clearTimeout(timer);
      return result;
    },
  };
}

/** The 2025 opening every client speaks: initialize, then notifications/initialized. */
export async function initialize(
  session: StdioSession,
  capabilities: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const result = await session.request("initialize", {
    protocolVersion: "2025-06-18",
    capabilities,
    clientInfo: { name: "fal-mcp-release-test", version: "0" },
  });
  session.notify("notifications/initialized");
  return result;
}

/** PATH and nothing else from this process: clients start servers with a reduced environment. */
export function minimalEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "", ...extra };
}
