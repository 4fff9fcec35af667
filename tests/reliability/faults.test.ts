// Fault-injection suite: every tool against every fault the fake of fal can produce, with short
// time settings. For each cell: the call returns within the tool's documented time bound, the
// result is an isError with a next step or a correct recovery, the server keeps serving, a submit
// is never sent twice, and the job record stays readable. Prints the table fault × tool → outcome.
import type { CallToolResult } from "@modelcontextprotocol/client";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal, type Fault, type FaultRule } from "../fake-fal/server.js";
import { startHarness, textOf, TEST_KEY, type Harness } from "../helpers/harness.js";
import {
  inspectRecordFolder,
  loopbackOnlyFetch,
  outcomeOf,
  pad,
  SHORT,
  SHORT_ENV,
  SLACK_MS,
  timeBoundMs,
  type ToolName,
} from "./support.js";

interface CellContext {
  harness: Harness;
  fake: FakeFal;
  requestId?: string;
  localFile?: string;
}

interface Column {
  /** Column title in the table. */
  label: string;
  tool: ToolName;
  /** Where a generic fault is injected for this column. */
  target: Pick<FaultRule, "host" | "method" | "path">;
  /** Runs before the fault is injected (e.g. a job to check). */
  prepare?: (context: CellContext) => Promise<void>;
  call: (context: CellContext) => Promise<CallToolResult>;
  /** The tool sends a queue submit: it must go out exactly once. */
  submits?: boolean;
}

interface Row {
  label: string;
  /** The fault for a column, or undefined when the row does not apply to it. */
  rule: (column: Column) => FaultRule | undefined;
  /** Read tools must recover (fault applies once, retries succeed). */
  transient?: boolean;
}

async function submitInstant(context: CellContext): Promise<void> {
  const result = await context.harness.call("submit_job", {
    endpoint_id: "fake/instant",
    input: { prompt: "a fox" },
  });
  expect(result.isError, textOf(result)).toBeFalsy();
  context.requestId = (result.structuredContent as { request_id: string }).request_id;
}

/** One run_model call, faulted once at its submit and once at its status/result reads. */
const runFox = ({ harness }: { harness: Harness }) =>
  harness.call("run_model", {
    endpoint_id: "fake/instant",
    input: { prompt: "a fox" },
    wait_seconds: SHORT.waitSeconds,
  });

const COLUMNS: Column[] = [
  {
    label: "search_models",
    tool: "search_models",
    target: { host: "api.fal.ai" },
    call: ({ harness }) => harness.call("search_models", { query: "flux", limit: 3 }),
  },
  {
    label: "get_model_schema",
    tool: "get_model_schema",
    target: { host: "api.fal.ai" },
    call: ({ harness }) => harness.call("get_model_schema", { endpoint_id: "fal-ai/flux/dev" }),
  },
  {
    label: "get_pricing",
    tool: "get_pricing",
    target: { host: "api.fal.ai" },
    call: ({ harness }) => harness.call("get_pricing", { endpoint_ids: ["fal-ai/flux/dev"], quantity: 2 }),
  },
  {
    label: "search_docs",
    tool: "search_docs",
    target: { host: "docs.fal.ai" },
    call: ({ harness }) => harness.call("search_docs", { query: "queue webhooks" }),
  },
  {
    label: "run_model (submit)",
    tool: "run_model",
    target: { host: "queue.fal.run", method: "POST" },
    submits: true,
    call: runFox,
  },
  {
    label: "run_model (status/result)",
    tool: "run_model",
    target: { host: "queue.fal.run", method: "GET" },
    submits: true,
    call: runFox,
  },
  {
    label: "submit_job",
    tool: "submit_job",
    target: { host: "queue.fal.run", method: "POST" },
    submits: true,
    call: ({ harness }) =>
      harness.call("submit_job", { endpoint_id: "fake/instant", input: { prompt: "a fox" } }),
  },
  {
    label: "check_job status",
    tool: "check_job",
    target: { host: "queue.fal.run", method: "GET" },
    prepare: submitInstant,
    call: ({ harness, requestId }) =>
      harness.call("check_job", { request_id: requestId ?? "", action: "status" }),
  },
  {
    label: "get_job_result",
    tool: "get_job_result",
    target: { host: "queue.fal.run", method: "GET" },
    prepare: submitInstant,
    call: ({ harness, requestId }) => harness.call("get_job_result", { request_id: requestId ?? "" }),
  },
  {
    label: "cancel_job",
    tool: "cancel_job",
    target: { host: "queue.fal.run" },
    prepare: submitInstant,
    call: ({ harness, requestId }) => harness.call("cancel_job", { request_id: requestId ?? "" }),
  },
  {
    label: "upload_file",
    tool: "upload_file",
    target: { host: "rest.fal.ai" },
    call: ({ harness, localFile }) => harness.call("upload_file", { path: localFile ?? "" }),
  },
  {
    label: "recommend_model",
    tool: "recommend_model",
    target: { host: "api.fal.ai" },
    call: ({ harness }) => harness.call("recommend_model", { task: "a short video of a cat", limit: 3 }),
  },
];

const generic =
  (fault: Fault, times?: number) =>
  (column: Column): FaultRule => ({ ...column.target, fault, ...(times !== undefined ? { times } : {}) });

const ROWS: Row[] = [
  {
    label: "429 rate limited",
    rule: generic({
      kind: "status",
      status: 429,
      body: { error: { type: "rate_limited", message: "Too many concurrent requests: 2 jobs are running" } },
      headers: { "X-Fal-needs-retry": "1", "Retry-After": "0" },
    }),
  },
  {
    label: "500",
    rule: generic({
      kind: "status",
      status: 500,
      body: { detail: "Internal Server Error", error_type: "internal_error" },
    }),
  },
  {
    label: "502",
    rule: generic({
      kind: "status",
      status: 502,
      body: { detail: "Bad Gateway", error_type: "runner_incomplete_response" },
    }),
  },
  {
    label: "503",
    rule: generic({
      kind: "status",
      status: 503,
      body: { detail: "Service Unavailable", error_type: "runner_scheduling_failure" },
    }),
  },
  {
    label: "504",
    rule: generic({
      kind: "status",
      status: 504,
      body: { detail: "Request timed out", error_type: "request_timeout" },
    }),
  },
  { label: "slow first byte (> T)", rule: generic({ kind: "delay", ms: 8_000 }) },
  { label: "reset mid-body", rule: generic({ kind: "reset-mid-body" }) },
  { label: "truncated JSON", rule: generic({ kind: "truncated-json" }) },
  {
    label: "wrong-shape JSON",
    rule: generic({ kind: "wrong-shape", body: { unexpected: true, items: "nope", status: 7 } }),
  },
  { label: "HTML error page", rule: generic({ kind: "html", status: 502 }) },
  { label: "connection dropped", rule: generic({ kind: "drop-before" }) },
  {
    label: "transient 503 (once)",
    rule: generic({ kind: "status", status: 503, body: { detail: "Service Unavailable" } }, 1),
    transient: true,
  },
  {
    label: "upload PUT fails",
    rule: (column) =>
      column.tool === "upload_file"
        ? {
            host: "*.fal.media",
            method: "PUT",
            fault: { kind: "status", status: 500, body: "upstream error" },
          }
        : undefined,
  },
  {
    label: "CDN download stalls",
    rule: (column) =>
      column.label === "run_model (status/result)" || column.label === "get_job_result"
        ? { host: "*.fal.media", method: "GET", fault: { kind: "stall-body", afterBytes: 64 } }
        : undefined,
  },
];

interface CellResult {
  outcome: string;
  ms: number;
}

const table = new Map<string, Map<string, CellResult>>();
let slowest: { row: string; column: string; ms: number; boundMs: number } | undefined;

/** A short description of a successful result, for the table. */
function okOutcome(result: CallToolResult): string {
  const structured = (result.structuredContent ?? {}) as {
    status?: string;
    files?: { error: string | null }[];
    source?: string;
  };
  if (structured.status && structured.status !== "COMPLETED")
    return `ok: ${structured.status}, request id kept`;
  if (structured.files?.some((file) => file.error)) return "ok: COMPLETED, file not saved (stalled)";
  if (structured.source === "llms.txt") return "ok: recovered (llms.txt fallback)";
  return "ok";
}

async function runCell(row: Row, column: Column): Promise<CellResult | undefined> {
  const rule = row.rule(column);
  if (!rule) return undefined;
  const fake = await startFakeFal();
  const refused: string[] = [];
  const env: Record<string, string> = { ...SHORT_ENV };
  let allowed: string | undefined;
  if (column.tool === "upload_file") {
    allowed = await fs.mkdtemp(path.join((await import("node:os")).tmpdir(), "fal-mcp-faults-"));
    env.FAL_MCP_ALLOWED_DIRS = allowed;
  }
  const harness = await startHarness({ baseUrl: fake.url, env, fetch: loopbackOnlyFetch(refused) });
  const context: CellContext = { harness, fake };
  try {
    if (allowed) {
      context.localFile = path.join(allowed, "photo.png");
      await fs.writeFile(context.localFile, Buffer.alloc(64 * 1024, 7));
    }
    await column.prepare?.(context);
    const postsBefore = fake.countRequests({ host: "queue.fal.run", method: "POST" });
    fake.inject(rule);

    const started = Date.now();
    const result = await column.call(context);
    const ms = Date.now() - started;
    const where = `${row.label} × ${column.label}`;
    const text = textOf(result);

    // Time bound, documented per tool (support.ts), with slack for a loaded CI runner.
    const bound = timeBoundMs(column.tool);
    expect(ms, `${where} took ${ms} ms, bound ${bound} ms`).toBeLessThanOrEqual(bound + SLACK_MS);
    if (!slowest || ms > slowest.ms) slowest = { row: row.label, column: column.label, ms, boundMs: bound };

    // A useful error: what went wrong and a next step; never a stack trace or the key.
    if (result.isError) {
      expect(text, where).toMatch(/Next step:/);
      expect(text, where).not.toMatch(/\bat [\w$.<>]+ \(|node:internal|Unexpected error in fal-mcp/);
    }
    expect(text, where).not.toContain(TEST_KEY);
    expect(text, where).not.toContain("test-key-secret");

    // Reads recover from a fault that happens once.
    if (row.transient && !column.submits) expect(result.isError, `${where}: ${text}`).toBeFalsy();

    // A submit is sent exactly once, whatever happened to it.
    if (column.submits) {
      const posts = fake.countRequests({ host: "queue.fal.run", method: "POST" }) - postsBefore;
      expect(posts, `${where}: queue submits`).toBe(1);
      expect(fake.jobs.size, `${where}: jobs on fal`).toBeLessThanOrEqual(1);
      // A job fal created is never lost: either its request id is in the record, or the attempt is (SUBMIT_UNCONFIRMED).
      if (fake.jobs.size === 1) {
        const records = await harness.services.jobs.list();
        const [job] = [...fake.jobs.keys()];
        const known =
          records.some((record) => record.request_id === job) ||
          records.some((record) => record.status === "SUBMIT_UNCONFIRMED");
        expect(
          known,
          `${where}: fal has job ${job} but the record has neither it nor an unconfirmed attempt (${text})`,
        ).toBe(true);
      }
    }

    // The job record stays intact and readable.
    const folder = await inspectRecordFolder(harness.config.stateDir);
    expect(folder.unreadable, where).toEqual([]);
    expect(folder.quarantined, where).toEqual([]);
    expect(harness.services.jobs.problems(), where).toEqual([]);
    if (context.requestId) {
      const lookup = await harness.services.jobs.get(context.requestId);
      expect(lookup.kind, `${where}: record of ${context.requestId}`).toBe("found");
    }

    // The server keeps serving, fal never saw the key where it should not, nothing left loopback.
    fake.clearFaults();
    await harness.client.ping();
    const after = await harness.call("search_models", { query: "flux", limit: 1 });
    expect(after.isError, `${where}: server after the fault: ${textOf(after)}`).toBeFalsy();
    expect(fake.authLeaks, where).toBe(0);
    expect(fake.errors, where).toEqual([]);
    expect(refused, where).toEqual([]);

    return { outcome: result.isError ? outcomeOf(result) : okOutcome(result), ms };
  } finally {
    await harness.close();
    await fake.close();
    if (allowed) await fs.rm(allowed, { recursive: true, force: true });
  }
}

afterAll(() => {
  if (table.size === 0) return;
  const width = 28;
  const lines: string[] = [];
  lines.push(
    `Fault table (T=${SHORT.requestTimeoutMs} ms request budget, S=${SHORT.stallTimeoutMs} ms stall timeout, W=${SHORT.waitSeconds} s wait)`,
  );
  for (const [row, cells] of table) {
    lines.push(`\n${row}`);
    for (const column of COLUMNS) {
      const cell = cells.get(column.label);
      lines.push(
        `  ${pad(column.label, width)} ${cell ? `${pad(String(cell.ms) + " ms", 9)} ${cell.outcome}` : "n/a"}`,
      );
    }
  }
  if (slowest)
    lines.push(
      `\nSlowest call: ${slowest.column} under "${slowest.row}": ${slowest.ms} ms (bound ${slowest.boundMs} ms + ${SLACK_MS} ms slack)`,
    );
  process.stderr.write(lines.join("\n") + "\n");
});

describe("fault injection: fault × tool", () => {
  for (const row of ROWS) {
    it(`${row.label}: every tool answers within its bound, clearly, without losing or duplicating a job`, async () => {
      const cells = new Map<string, CellResult>();
      table.set(row.label, cells);
      // One fake and one server per cell, all tools of a row at once: rows take as long as their slowest cell.
      const results = await Promise.all(
        COLUMNS.map(async (column) => [column.label, await runCell(row, column)] as const),
      );
      for (const [label, cell] of results) if (cell) cells.set(label, cell);
      expect(cells.size).toBeGreaterThan(0);
    }, 60_000);
  }
});
