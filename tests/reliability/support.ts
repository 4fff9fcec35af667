// Shared pieces of the reliability suites: short time settings, the documented time bound of each
// tool, a fetch that refuses every non-loopback host, and helpers to read the job record folder.
import type { CallToolResult } from "@modelcontextprotocol/client";
import fs from "node:fs/promises";
import path from "node:path";
import { textOf } from "../helpers/harness.js";

export { TOOL_NAMES, type ToolName } from "../helpers/tool-names.js";
import type { ToolName } from "../helpers/tool-names.js";

/** Short settings so every fault resolves in seconds: T (request budget) and S (stall timeout). */
export const SHORT = {
  requestTimeoutMs: 1500,
  stallTimeoutMs: 1000,
  waitSeconds: 2,
} as const;

export const SHORT_ENV = {
  FAL_MCP_REQUEST_TIMEOUT_MS: String(SHORT.requestTimeoutMs),
  FAL_MCP_STALL_TIMEOUT_MS: String(SHORT.stallTimeoutMs),
  FAL_MCP_WAIT_SECONDS: String(SHORT.waitSeconds),
  FAL_MCP_LOG_LEVEL: "error",
} as const;

/** Scheduling, connection set-up and the in-memory round trip, on a loaded 2-core CI runner. */
export const SLACK_MS = 1500;

/**
 * The documented time bound of one call of each tool, in ms, for request budget T, stall timeout
 * S and run_model's wait W (the README's "Reliability" section states the same formulas):
 *
 * - search_models, get_pricing, search_docs, recommend_model: T per fal API call they make, and
 *   they make at most 2 in sequence (catalog page + prices; docs search + llms.txt fallback): 2T.
 * - get_model_schema: schema and price are read in parallel, then one fallback read: 2T.
 * - submit_job: one submit, sent once: T (plus local uploads, see upload_file).
 * - check_job: status T (+ result T, to keep it early): 2T; with the deprecated action "result",
 *   as get_job_result.
 * - get_job_result: status T + result T + saving each file (stall-bounded, S per stall) + preview S: 2T + 2S.
 * - cancel_job: cancel T + status T: 2T.
 * - run_model: submit T + wait W (each status read is cut at the wait's deadline) + result T +
 *   failure details T + saving files S + preview S: W + 3T + 2S.
 * - upload_file: initiate T + PUT stall S per attempt, 3 attempts with backoff: T + 3S + 2 s.
 */
export function timeBoundMs(
  tool: ToolName,
  settings: { requestTimeoutMs: number; stallTimeoutMs: number; waitSeconds: number } = SHORT,
): number {
  const T = settings.requestTimeoutMs;
  const S = settings.stallTimeoutMs;
  const W = settings.waitSeconds * 1000;
  switch (tool) {
    case "search_models":
    case "get_pricing":
    case "search_docs":
    case "recommend_model":
    case "get_model_schema":
      return 2 * T;
    // An unconfirmed submit is looked up in fal's request history: twice, 1 s apart (each within T).
    case "submit_job":
      return 3 * T + 1000;
    case "check_job":
    case "get_job_result":
      return 2 * T + 2 * S;
    case "cancel_job":
      return 2 * T;
    case "run_model":
      return W + 5 * T + 2 * S + 1000;
    case "upload_file":
      return T + 3 * S + 2000;
  }
}

/** Hosts a test may reach: only the loopback fake. Anything else is recorded and refused. */
export function loopbackOnlyFetch(refused: string[]): typeof fetch {
  return (input, init) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") {
      refused.push(`${url.protocol}//${url.host}`);
      return Promise.reject(new TypeError("fetch failed", { cause: { code: "ENOTFOUND" } }));
    }
    return fetch(input, init);
  };
}

export interface RecordFolderState {
  /** Record files (not temporaries, not quarantined). */
  records: string[];
  /** Files that did not parse as JSON objects with a version. */
  unreadable: string[];
  quarantined: string[];
  temporaries: string[];
}

/** Reads every file of `<stateDir>/jobs` the way a new process would. */
export async function inspectRecordFolder(stateDir: string): Promise<RecordFolderState> {
  const directory = path.join(stateDir, "jobs");
  const state: RecordFolderState = { records: [], unreadable: [], quarantined: [], temporaries: [] };
  const names = await fs.readdir(directory).catch(() => [] as string[]);
  for (const name of names) {
    const file = path.join(directory, name);
    if (name === "quarantine") {
      state.quarantined.push(...(await fs.readdir(file)));
      continue;
    }
    if (name.endsWith(".tmp")) {
      state.temporaries.push(name);
      continue;
    }
    if (!name.endsWith(".json")) continue;
    try {
      const value: unknown = JSON.parse(await fs.readFile(file, "utf8"));
      if (typeof value !== "object" || value === null || !("version" in value)) state.unreadable.push(name);
      else state.records.push(name);
    } catch {
      state.unreadable.push(name);
    }
  }
  return state;
}

/** Every file under `dir`, recursively (absolute paths). */
export async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(full)));
    else out.push(full);
  }
  return out;
}

/** A one-line outcome for the fault table: "ok", or "isError: <first line, shortened>". */
export function outcomeOf(result: CallToolResult): string {
  const first = textOf(result).split("\n")[0] ?? "";
  return result.isError ? `isError: ${first.slice(0, 70)}` : "ok";
}

export function pad(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width) : text + " ".repeat(width - text.length);
}
