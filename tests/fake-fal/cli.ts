// `npm run fake-fal`: runs the fake of fal on FAKE_FAL_PORT (default 8787) for manual use,
// benchmarks and the stdio bin. Stops on SIGINT/SIGTERM.
import { DEFAULT_KEYS, PRESET_KEYS, startFakeFal } from "./server.js";

const port = Number(process.env.FAKE_FAL_PORT ?? 8787);
const fake = await startFakeFal({ port });
const key = DEFAULT_KEYS[0]!;

console.log(`fake fal listening on ${fake.url} (${fake.catalog.length} models)

Point fal-mcp at it:
  FAL_MCP_BASE_URL=${fake.url} FAL_KEY=${key} npx fal-mcp

Accepted keys: ${[...fake.keys].join(", ")}

Control endpoints:
  GET    ${fake.url}/__control/            state summary (jobs per endpoint, uploads, faults)
  GET    ${fake.url}/__control/requests    request log
  GET    ${fake.url}/__control/jobs        jobs
  POST   ${fake.url}/__control/advance     {"ms": 60000}  move the fake clock forward
  POST   ${fake.url}/__control/faults      {"host":"queue.fal.run","method":"POST","path":"/fal-ai/flux/dev","times":1,"fault":{"kind":"status","status":503}}
  DELETE ${fake.url}/__control/faults      clear all faults
  POST   ${fake.url}/__control/behavior    {"endpointId":"fal-ai/flux/dev","runMs":5000}
  POST   ${fake.url}/__control/settings    {"validateAtSubmit":true}
  POST   ${fake.url}/__control/reset       forget requests, jobs, faults
  POST   ${fake.url}/__control/permissions {"key":"test-key","permissions":"api"}  (preset, list or null)
  GET    ${fake.url}/__control/transfers   hostile bodies streamed (gzip-bomb, trickle, huge-body)
  GET    ${fake.url}/__control/applied-faults
  GET    ${fake.url}/__control/canary      loopback canary URL and connections

Preset keys: ${Object.values(PRESET_KEYS).join(", ")}. Details: tests/fake-fal/README.md
`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the fake`);
  fake.close().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
