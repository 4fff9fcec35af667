// Starts the fake of fal as a child process and talks to its /__control endpoints over HTTP.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "./rpc.js";

export const KEY = "test-key-id:test-key-secret";

export interface UploadRecord {
  size: number;
  sha256: string;
  multipart: boolean;
  parts: number;
}

export interface FakeProcess {
  url: string;
  pid: number;
  models: number;
  /** GET /__control/: the fake's state summary. */
  summary(): Promise<{
    requests: number;
    uploads: Record<string, UploadRecord>;
    jobs: Record<string, { total: number }>;
  }>;
  /** GET /__control/requests: the request log (times are the fake's wall clock, ms). */
  requests(): Promise<{ method: string; host: string; path: string; time: number }[]>;
  /** POST /__control/reset: forget requests and jobs (keeps the log from growing across rows). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startFake(options: { models?: number } = {}): Promise<FakeProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "bench/fake-child.ts"), JSON.stringify(options)],
    {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => resolve(line));
    child.once("exit", (code) => reject(new Error(`the fake of fal exited (code ${code}) before listening`)));
    setTimeout(() => reject(new Error("the fake of fal did not start within 30 s")), 30_000).unref();
  });
  const info = JSON.parse(first) as { url: string; models: number; pid: number };
  const control = async (method: string, route: string): Promise<unknown> => {
    const response = await fetch(`${info.url}/__control${route}`, { method });
    if (!response.ok) throw new Error(`fake control ${method} ${route}: HTTP ${response.status}`);
    return response.json();
  };
  return {
    url: info.url,
    pid: info.pid,
    models: info.models,
    summary: async () => (await control("GET", "/")) as Awaited<ReturnType<FakeProcess["summary"]>>,
    requests: async () => (await control("GET", "/requests")) as Awaited<ReturnType<FakeProcess["requests"]>>,
    reset: async () => void (await control("POST", "/reset")),
    async close() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
