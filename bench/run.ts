// `npm run bench`: measures fal-mcp against the physical limits on this machine, in one run, and
// prints a table (results JSON in bench/results/). Benchmarks report; they never fail on a time.
//
//   npm run bench                  every row (about 3–5 minutes)
//   npm run bench -- --quick       fewer runs, smaller files (a smoke run)
//   npm run bench -- --only=cold-start,upload
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startFake, KEY, type FakeProcess } from "./lib/fake.js";
import { describeMachine } from "./lib/proc.js";
import { ROOT } from "./lib/rpc.js";
import type { RowContext, RowResult } from "./lib/row.js";
import { coldStart } from "./rows/cold-start.js";
import { discovery } from "./rows/discovery.js";
import { memory } from "./rows/memory.js";
import { perCallOverhead } from "./rows/overhead.js";
import { upload } from "./rows/upload.js";

interface Row {
  id: string;
  title: string;
  run(context: RowContext, fake: FakeProcess): Promise<RowResult>;
}

const ROWS: Row[] = [
  { id: "cold-start", title: "Cold start", run: (c) => coldStart(c) },
  { id: "overhead", title: "Per-call overhead (run_model)", run: (c) => perCallOverhead(c) },
  { id: "upload", title: "Upload (upload_file vs curl -T)", run: (c, f) => upload(c, f) },
  { id: "discovery", title: "Discovery (2,000-model catalog)", run: (c) => discovery(c) },
  { id: "memory", title: "Memory (VmRSS, no forced GC)", run: (c) => memory(c) },
];

const log = (message: string): void => void process.stderr.write(message + "\n");

function parseArgs(argv: string[]): { quick: boolean; only: string[] | undefined } {
  const quick = argv.includes("--quick");
  const onlyArg = argv.find((a) => a.startsWith("--only="));
  const only = onlyArg ? onlyArg.slice("--only=".length).split(",").filter(Boolean) : undefined;
  const unknown = only?.filter((id) => !ROWS.some((row) => row.id === id));
  if (unknown?.length)
    throw new Error(`unknown row ${unknown.join(", ")}; rows: ${ROWS.map((r) => r.id).join(", ")}`);
  return { quick, only };
}

const cell = (text: string): string => text.replace(/\|/g, "\\|");

export function renderTable(results: readonly RowResult[]): string {
  const out = [
    "| Row | Measure | fal-mcp | Compared with | Difference | Target |",
    "|---|---|---|---|---|---|",
  ];
  for (const result of results) {
    if (result.status !== "ok") {
      out.push(`| ${cell(result.title)} | ${result.status}: ${cell(result.reason ?? "")} | | | | |`);
      continue;
    }
    result.lines.forEach((line, i) =>
      out.push(
        `| ${i === 0 ? cell(result.title) : ""} | ${cell(line.measure)} | ${cell(line.falMcp)} | ${cell(line.baseline)} | ${cell(line.comparison)} | ${cell(line.target)} |`,
      ),
    );
  }
  return out.join("\n");
}

async function main(): Promise<void> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  if (!existsSync(path.join(ROOT, "dist/index.cjs")))
    throw new Error("dist/ is missing: run `npm run build` (npm run bench does it)");
  const machine = describeMachine();
  const started = Date.now();
  log(
    `fal-mcp bench${quick ? " (quick)" : ""}: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverage.join(" ")}`,
  );
  if (machine.loadAverage[0]! > machine.cpus * 0.5)
    log("  note: the machine is busy (load average above half the cores); figures will be noisy");

  const scratch = await mkdtemp(path.join(os.tmpdir(), "fal-mcp-bench-"));
  // One fake for every row: 2,000 models (the fixture models first, so fake/* and flux exist).
  const fake = await startFake({ models: 2000 });
  const context: RowContext = {
    fakeUrl: fake.url,
    scratch,
    quick,
    env: {
      FAL_KEY: KEY,
      FAL_MCP_BASE_URL: fake.url,
      FAL_MCP_OUTPUT_DIR: path.join(scratch, "out"),
      FAL_MCP_STATE_DIR: path.join(scratch, "state"),
      FAL_MCP_ALLOWED_DIRS: path.join(scratch, "files"),
    },
    log,
  };
  const results: RowResult[] = [];
  try {
    for (const row of ROWS) {
      if (only && !only.includes(row.id)) continue;
      log(`▶ ${row.title}`);
      const rowStart = performance.now();
      let result: RowResult;
      try {
        await fake.reset();
        result = await row.run(context, fake);
      } catch (error) {
        result = {
          id: row.id,
          title: row.title,
          status: "failed",
          reason: error instanceof Error ? error.message.split("\n")[0]! : String(error),
          lines: [],
          figures: {},
          notes: [],
        };
      }
      result.durationMs = Math.round(performance.now() - rowStart);
      log(
        `  ${result.status}${result.reason ? `: ${result.reason}` : ""} (${(result.durationMs / 1000).toFixed(1)} s)`,
      );
      results.push(result);
    }
  } finally {
    await fake.close();
    await rm(scratch, { recursive: true, force: true });
  }

  const table = renderTable(results);
  const notes = results.flatMap((r) => r.notes.map((n) => `- ${r.title}: ${n}`));
  process.stdout.write(
    `\nfal-mcp benchmark — ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB RAM, Node ${machine.node}, ${machine.platform}; medians; ${((Date.now() - started) / 1000).toFixed(0)} s\n\n${table}\n\n${notes.join("\n")}\n`,
  );
  const resultsDir = path.join(ROOT, "bench/results");
  await mkdir(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const json = JSON.stringify(
    { date: new Date().toISOString(), quick, machine, loadAverageAtEnd: os.loadavg(), results },
    null,
    2,
  );
  await writeFile(path.join(resultsDir, `${stamp}.json`), json);
  await writeFile(path.join(resultsDir, "latest.json"), json);
  log(`results: bench/results/${stamp}.json`);
  if (results.some((r) => r.status === "failed")) process.exitCode = 1;
}

main().catch((error: unknown) => {
  log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
