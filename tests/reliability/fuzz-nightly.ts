// Nightly-size run of the bad-input fuzzer: `npx tsx tests/reliability/fuzz-nightly.ts [runsPerTool] [seed]`
// (default 50,000 cases per tool and a random seed, printed so a failure can be replayed with
// FUZZ_SEED=<seed> FUZZ_RUNS=<runs> npx vitest run tests/reliability/fuzz.test.ts). Exits 1 on failure.
import { stderrLogger } from "../helpers/logger.js";
import { startFakeFal } from "../fake-fal/server.js";
import { fuzzSetup, fuzzTool, TOOL_NAMES } from "./fuzz-core.js";

const runs = Number(process.argv[2] ?? process.env.FUZZ_RUNS ?? 50_000);
const seed = Number(process.argv[3] ?? process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

async function main(): Promise<void> {
  const fake = await startFakeFal();
  const setup = await fuzzSetup(fake, stderrLogger("error"));
  process.stderr.write(`fuzzing ${TOOL_NAMES.length} tools, ${runs} cases each, seed ${seed}\n`);
  let failed = false;
  try {
    for (const tool of TOOL_NAMES) {
      try {
        const stats = await fuzzTool(setup, fake, tool, runs, seed);
        process.stderr.write(
          `${tool.padEnd(16)} ${stats.cases} cases in ${stats.ms} ms, slowest ${stats.slowestMs} ms ${JSON.stringify(stats.byKind)}\n`,
        );
      } catch (error) {
        failed = true;
        process.stderr.write(`${tool}: FAILED\n${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
    if (fake.errors.length > 0) {
      failed = true;
      process.stderr.write(`the fake of fal reported errors:\n${fake.errors.join("\n")}\n`);
    }
  } finally {
    await setup.close();
    await fake.close();
  }
  process.stderr.write(failed ? `FAILED (seed ${seed})\n` : `all tools passed (seed ${seed})\n`);
  process.exitCode = failed ? 1 : 0;
}

void main();
