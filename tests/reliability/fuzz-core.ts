// The bad-input fuzzer shared by the CI suite (tests/reliability/fuzz.test.ts) and the nightly
// script (tests/reliability/fuzz-nightly.ts): fast-check generates invalid and adversarial argument
// objects for every tool, sends them through a real SDK client, and checks that each one comes
// back as an isError result that names the offending field, quickly, with nothing sent to fal.
import fc from "fast-check";
import type { CallToolResult } from "@modelcontextprotocol/client";
import fs from "node:fs/promises";
import path from "node:path";
import type { FakeFal } from "../fake-fal/server.js";
import type { Logger } from "../../src/util/log.js";
import { startHarness, textOf, type Harness } from "../helpers/harness.js";
import { loopbackOnlyFetch, SHORT_ENV, TOOL_NAMES, type ToolName } from "./support.js";

/** One invalid call and what the error must mention (any of `names`). */
export interface BadCall {
  tool: ToolName;
  kind: string;
  args: Record<string, unknown>;
  names: string[];
}

type Kind = "string" | "int" | "number" | "bool" | "array" | "record" | "enum";

interface Field {
  name: string;
  required: boolean;
  kind: Kind;
  valid: unknown;
  /** Values of the right JSON type that the schema still refuses. */
  outOfRange: fc.Arbitrary<unknown>;
}

const long = (min: number) => fc.integer({ min, max: min + 5000 }).map((n) => "x".repeat(n));
const hugeString = fc.integer({ min: 100_000, max: 400_000 }).map((n) => "🦊".repeat(Math.floor(n / 2)));
/** Endpoint-id-shaped tricks that must never reach fal as a URL path. */
const badEndpointIds = fc.constantFrom(
  "",
  "flux",
  "/fal-ai/flux/dev",
  "fal-ai/flux/dev/",
  "fal-ai//flux",
  "fal-ai/../../etc/passwd",
  "fal-ai/flux/../../other/model",
  "fal-ai/./flux",
  "./x/y",
  "../x/y",
  "fal-ai/flux%2f..%2fdev",
  "fal-ai/flux dev",
  "fal-ai/flux\u0000/dev",
  "fal-ai/flux?x=1",
  "fal-ai/flux#frag",
  "https://evil.example/x",
  "fal-ai\\flux\\dev",
  "fal-ai/\u202eved/xulf",
  "ｆａｌ-ai/flux",
  "fal-ai/flux\n/dev",
);

const FIELDS: Record<ToolName, Field[]> = {
  search_models: [
    { name: "query", required: false, kind: "string", valid: "flux", outOfRange: long(501) },
    { name: "category", required: false, kind: "string", valid: "text-to-image", outOfRange: long(101) },
    {
      name: "status",
      required: false,
      kind: "enum",
      valid: "active",
      outOfRange: fc.constantFrom("ACTIVE", "", "deleted", "active ", "all\u0000"),
    },
    {
      name: "limit",
      required: false,
      kind: "int",
      valid: 5,
      outOfRange: fc.oneof(
        fc.integer({ max: 0 }),
        fc.integer({ min: 101 }),
        fc.constantFrom(1.5, Number.NaN, Infinity, -Infinity),
      ),
    },
    { name: "cursor", required: false, kind: "string", valid: "abc", outOfRange: long(1001) },
  ],
  get_model_schema: [
    {
      name: "endpoint_id",
      required: true,
      kind: "string",
      valid: "fal-ai/flux/dev",
      outOfRange: fc.oneof(
        badEndpointIds.filter((id) => !/^[\w.-]+(\/[\w.-]+)+$/.test(id)),
        long(301),
      ),
    },
    {
      name: "detail",
      required: false,
      kind: "enum",
      valid: "summary",
      outOfRange: fc.constantFrom("SUMMARY", "", "everything", "full\n"),
    },
  ],
  get_pricing: [
    {
      name: "endpoint_ids",
      required: true,
      kind: "array",
      valid: ["fal-ai/flux/dev"],
      outOfRange: fc.oneof(
        fc.constant([]),
        fc.array(fc.constant("fal-ai/flux/dev"), { minLength: 51, maxLength: 80 }),
        fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.constant("ab"), fc.constant({})), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.tuple(fc.constant("fal-ai/flux/dev"), long(301)),
      ),
    },
    {
      name: "quantity",
      required: false,
      kind: "number",
      valid: 2,
      outOfRange: fc.oneof(
        fc.double({ max: 0, noNaN: true }),
        fc.double({ min: 1e9 + 1, noNaN: true }),
        fc.constant(Number.NaN),
      ),
    },
  ],
  search_docs: [
    {
      name: "query",
      required: true,
      kind: "string",
      valid: "queue",
      outOfRange: fc.oneof(fc.constantFrom("", " ", "\t\n  "), long(501)),
    },
    {
      name: "limit",
      required: false,
      kind: "int",
      valid: 3,
      outOfRange: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 21 }), fc.constant(2.5)),
    },
  ],
  run_model: [
    {
      name: "endpoint_id",
      required: true,
      kind: "string",
      valid: "fake/instant",
      outOfRange: badEndpointIds,
    },
    { name: "input", required: true, kind: "record", valid: { prompt: "x" }, outOfRange: fc.constant([]) },
    {
      name: "wait_seconds",
      required: false,
      kind: "int",
      valid: 1,
      outOfRange: fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 601 }), fc.constant(0.5)),
    },
    {
      name: "save",
      required: false,
      kind: "bool",
      valid: false,
      outOfRange: fc.constantFrom("true", "false", 0, 1),
    },
    {
      name: "expiration_seconds",
      required: false,
      kind: "int",
      valid: 3600,
      outOfRange: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 315_360_001 }), fc.constant(1.5)),
    },
    {
      name: "store_payload",
      required: false,
      kind: "bool",
      valid: true,
      outOfRange: fc.constantFrom("false", 0, 1, "no"),
    },
  ],
  submit_job: [
    {
      name: "endpoint_id",
      required: true,
      kind: "string",
      valid: "fake/instant",
      outOfRange: badEndpointIds,
    },
    {
      name: "input",
      required: true,
      kind: "record",
      valid: { prompt: "x" },
      outOfRange: fc.constant([1, 2]),
    },
    {
      name: "expiration_seconds",
      required: false,
      kind: "int",
      valid: 3600,
      outOfRange: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 315_360_001 }), fc.constant(1.5)),
    },
    {
      name: "store_payload",
      required: false,
      kind: "bool",
      valid: true,
      outOfRange: fc.constantFrom("false", 0, 1, "no"),
    },
  ],
  check_job: [
    {
      name: "request_id",
      required: true,
      kind: "string",
      valid: "3f1a",
      outOfRange: fc.oneof(fc.constant(""), long(201)),
    },
    {
      name: "endpoint_id",
      required: false,
      kind: "string",
      valid: "fake/instant",
      outOfRange: badEndpointIds,
    },
    {
      name: "action",
      required: false,
      kind: "enum",
      valid: "status",
      outOfRange: fc.constantFrom("STATUS", "delete", "", "cancel;rm -rf /", "result\u0000"),
    },
    { name: "logs", required: false, kind: "bool", valid: false, outOfRange: fc.constantFrom("yes", 1, 0) },
    { name: "save", required: false, kind: "bool", valid: true, outOfRange: fc.constantFrom("no", -1) },
    { name: "status_url", required: false, kind: "string", valid: undefined, outOfRange: long(1001) },
  ],
  get_job_result: [
    {
      name: "request_id",
      required: true,
      kind: "string",
      valid: "3f1a",
      outOfRange: fc.oneof(fc.constant(""), long(201)),
    },
    {
      name: "endpoint_id",
      required: false,
      kind: "string",
      valid: "fake/instant",
      outOfRange: badEndpointIds,
    },
    { name: "response_url", required: false, kind: "string", valid: undefined, outOfRange: long(1001) },
    { name: "save", required: false, kind: "bool", valid: true, outOfRange: fc.constantFrom("no", -1) },
  ],
  cancel_job: [
    {
      name: "request_id",
      required: true,
      kind: "string",
      valid: "3f1a",
      outOfRange: fc.oneof(fc.constant(""), long(201)),
    },
    {
      name: "endpoint_id",
      required: false,
      kind: "string",
      valid: "fake/instant",
      outOfRange: badEndpointIds,
    },
    { name: "cancel_url", required: false, kind: "string", valid: undefined, outOfRange: long(1001) },
  ],
  upload_file: [
    {
      name: "path",
      required: false,
      kind: "string",
      valid: "/nonexistent/a.png",
      outOfRange: fc.constant(""),
    },
    { name: "url", required: false, kind: "string", valid: undefined, outOfRange: fc.constant("") },
    {
      name: "data",
      required: false,
      kind: "string",
      valid: undefined,
      outOfRange: fc.oneof(fc.constant(""), long(1_500_000)),
    },
    {
      name: "prepare_upload",
      required: false,
      kind: "bool",
      valid: undefined,
      outOfRange: fc.constantFrom("true", 1, "yes"),
    },
    {
      name: "file_size",
      required: false,
      kind: "int",
      valid: undefined,
      outOfRange: fc.oneof(
        fc.integer({ max: 0 }),
        fc.integer({ min: 90 * 1024 * 1024 + 1 }),
        fc.constant(2.5),
      ),
    },
    {
      name: "file_name",
      required: false,
      kind: "string",
      valid: "a.png",
      outOfRange: fc.oneof(fc.constant(""), long(201)),
    },
    {
      name: "content_type",
      required: false,
      kind: "string",
      valid: "image/png",
      outOfRange: fc.constantFrom(
        "png",
        "image/",
        "image/png; charset=x",
        "../../etc",
        "",
        "text/html\r\nX: y",
      ),
    },
  ],
  recommend_model: [
    {
      name: "task",
      required: true,
      kind: "string",
      valid: "make a short video of a cat",
      outOfRange: fc.oneof(fc.constantFrom("", "   ", "\n"), long(1001)),
    },
    {
      name: "category",
      required: false,
      kind: "enum",
      valid: "text-to-video",
      outOfRange: fc.constantFrom("video", "TEXT-TO-VIDEO", "", "text-to-image "),
    },
    {
      name: "limit",
      required: false,
      kind: "int",
      valid: 3,
      outOfRange: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 21 })),
    },
  ],
};

function baseArgs(tool: ToolName): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const field of FIELDS[tool]) if (field.valid !== undefined) args[field.name] = field.valid;
  return args;
}

/** Deeply nested arrays or objects, kept under the server's 10,000-element cap. */
const deepValue = fc.tuple(fc.integer({ min: 50, max: 4000 }), fc.boolean()).map(([depth, objects]) => {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = objects ? { a: value } : [value];
  return value;
});

const scalarJunk = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    "🦊",
    "\u0000",
    "\uD800",
    "\u202e",
    "%00",
    "${FAL_KEY}",
    "$(id)",
    "`id`",
    "<script>",
    "' OR 1=1 --",
  ),
);
const anyJunk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: scalarJunk },
  { weight: 2, arbitrary: fc.array(scalarJunk, { maxLength: 5 }) },
  { weight: 2, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), scalarJunk, { maxKeys: 4 }) },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: hugeString },
);

function typeOf(value: unknown): Kind | "null" | "other" {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "number";
  if (typeof value === "object") return "record";
  return "other";
}

/** A value whose JSON type the field never accepts. */
function wrongType(field: Field): fc.Arbitrary<unknown> {
  return anyJunk.filter((value) => {
    const kind = typeOf(value);
    if (field.kind === "enum") return kind !== "string";
    if (field.kind === "number") return kind !== "int" && kind !== "number";
    if (field.kind === "int") return kind !== "int";
    return kind !== field.kind;
  });
}

const EXTRA_KEYS = fc.oneof(
  fc.constantFrom(
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
    "valueOf",
    "__defineGetter__",
    "",
    " ",
    "endpointId",
    "FAL_KEY",
    "../x",
    "🦊",
    "\u0000",
    "k".repeat(5000),
  ),
  fc.string({ minLength: 1, maxLength: 20 }),
);

/** What an error about a refused path may quote: the path as given, normalised, or its file name. */
function pathNames(p: string): string[] {
  return [p, path.normalize(p), path.basename(p), "path"];
}

/** Tool arguments that only the handler can refuse, and must refuse without calling fal. */
function handlerInvalid(tool: ToolName, allowedDir: string): fc.Arbitrary<BadCall> | undefined {
  const outside = fc.constantFrom(
    "/etc/passwd",
    "/etc/shadow",
    "~/.ssh/id_rsa",
    "file:///etc/passwd",
    `${allowedDir}/../../../etc/hosts`,
    `${allowedDir}/.hidden/secret.png`,
    "/proc/self/environ",
    "/dev/zero",
    "//etc//passwd",
  );
  const existingOutside = fc.constantFrom(
    "/etc/passwd",
    "file:///etc/passwd",
    `${allowedDir}/../../../etc/hosts`,
    `${allowedDir}/.hidden/secret.png`,
    "/proc/self/environ",
    "/dev/zero",
    "//etc//passwd",
  );
  switch (tool) {
    case "upload_file":
      return fc.oneof(
        outside.map((p): BadCall => ({ tool, kind: "path trick", args: { path: p }, names: pathNames(p) })),
        fc
          .constantFrom(
            "javascript:alert(1)",
            "ftp://fal.media/x",
            "data:text/plain,hi",
            "gopher://x",
            "file:relative",
            "about:blank",
            "not a url",
          )
          .map((u): BadCall => ({
            tool,
            kind: "bad url",
            args: { url: u },
            names: ["url", u.split(":")[0] ?? u],
          })),
        fc.constant<BadCall>({ tool, kind: "neither", args: {}, names: ["path", "url"] }),
        fc
          .constantFrom("not*base64", "aGVsb", "data:text/plain,hi", "%%%%", "aGk=\u0000")
          .map((data): BadCall => ({ tool, kind: "bad data", args: { data }, names: ["data", "base64"] })),
        fc
          .constantFrom<Record<string, unknown>>(
            { prepare_upload: true },
            { prepare_upload: true, file_size: 10 },
            { prepare_upload: true, file_name: "a.png" },
            { url: "https://v3.fal.media/files/a.png", file_size: 10 },
            { data: "aGk=", prepare_upload: true, file_size: 2, file_name: "a" },
          )
          .map((args): BadCall => ({
            tool,
            kind: "bad prepare_upload",
            args,
            names: ["file_size", "file_name", "prepare_upload", "data"],
          })),
        fc.constant<BadCall>({
          tool,
          kind: "both",
          args: { path: "/etc/hosts", url: "https://v3.fal.media/files/x.png" },
          names: ["path", "url"],
        }),
        fc
          .constantFrom("relative/../../x.png", "x\u0000.png", `${allowedDir}/missing.png`)
          .map((p): BadCall => ({ tool, kind: "path trick", args: { path: p }, names: pathNames(p) })),
      );
    case "run_model":
    case "submit_job":
      return fc.oneof(
        // Only files that exist: a string naming no file is ordinary text (a prompt may say "/imagine").
        fc
          .tuple(fc.constantFrom("image_url", "video_url", "audio_url", "mask_url"), existingOutside)
          .map(([field, p]): BadCall => ({
            tool,
            kind: "local path outside",
            args: {
              endpoint_id: "fake/instant",
              input: { prompt: "x", [field]: p },
              ...(tool === "run_model" ? { wait_seconds: 0 } : {}),
            },
            names: pathNames(p),
          })),
        fc.integer({ min: 70, max: 3000 }).map((depth): BadCall => {
          let value: unknown = "leaf";
          for (let i = 0; i < depth; i++) value = [value];
          return {
            tool,
            kind: "input too deep",
            args: { endpoint_id: "fake/instant", input: { prompt: value } },
            names: ["nested", "input"],
          };
        }),
      );
    case "check_job":
    case "get_job_result":
    case "cancel_job": {
      const urlArgument = {
        check_job: "status_url",
        get_job_result: "response_url",
        cancel_job: "cancel_url",
      }[tool];
      return fc.oneof(
        fc
          .constantFrom("../../etc/passwd", "..", "unknown-id", "a/b/c", "x".repeat(200), "🦊", "%2e%2e")
          .map((id): BadCall => ({
            tool,
            kind: "unknown request id",
            args: { request_id: id },
            names: [id, "request_id"],
          })),
        // A URL to send the key to: only fal's queue URL of this very job is ever used.
        fc
          .constantFrom(
            "https://evil.example/fake/instant/requests/r1/status",
            "http://queue.fal.run/fake/instant/requests/r1",
            "https://queue.fal.run.evil.example/fake/instant/requests/r1",
            "https://queue.fal.run/fake/instant/requests/other-id/cancel",
            "https://user:pw@queue.fal.run/fake/instant/requests/r1",
            "file:///etc/passwd",
            "not a url",
          )
          .map((url): BadCall => ({
            tool,
            kind: "foreign queue url",
            args: { request_id: "r1", endpoint_id: "fake/instant", [urlArgument]: url },
            names: [urlArgument],
          })),
      );
    }
    default:
      return undefined;
  }
}

/** The arbitrary of invalid calls for one tool. */
export function badCalls(tool: ToolName, allowedDir: string): fc.Arbitrary<BadCall> {
  const fields = FIELDS[tool];
  const fieldArb = fc.constantFrom(...fields);
  const mutated = fc.tuple(fieldArb, fc.boolean()).chain(([field, typed]) =>
    (typed ? wrongType(field) : field.outOfRange).map((value): BadCall => ({
      tool,
      kind: typed ? "wrong type" : "out of range",
      args: { ...baseArgs(tool), [field.name]: value },
      names: [field.name],
    })),
  );
  const options: fc.WeightedArbitrary<BadCall>[] = [
    { weight: 8, arbitrary: mutated },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          EXTRA_KEYS.filter((key) => !fields.some((field) => field.name === key) && key !== "__proto__"),
          anyJunk,
        )
        .map(([key, value]): BadCall => ({
          tool,
          kind: "unknown key",
          args: { ...baseArgs(tool), [key]: value },
          names: [key, JSON.stringify(key).slice(1, -1)],
        })),
    },
    {
      // __proto__ as an own key (as JSON.parse makes it) beside an invalid field: never pollutes.
      weight: 1,
      arbitrary: mutated.map((call): BadCall => ({
        ...call,
        kind: "__proto__ + " + call.kind,
        args: withOwnProto(call.args),
      })),
    },
  ];
  const required = fields.filter((field) => field.required);
  if (required.length > 0) {
    options.push({
      weight: 2,
      arbitrary: fc.constantFrom(...required).map((field): BadCall => {
        const args = baseArgs(tool);
        delete args[field.name];
        return { tool, kind: "missing", args, names: [field.name] };
      }),
    });
  }
  const handler = handlerInvalid(tool, allowedDir);
  if (handler) options.push({ weight: 3, arbitrary: handler });
  return fc.oneof(...options);
}

function withOwnProto(args: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...args };
  Object.defineProperty(copy, "__proto__", {
    value: { polluted: true, isAdmin: true },
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

export interface FuzzSetup {
  harness: Harness;
  allowedDir: string;
  /** Non-loopback hosts something tried to reach (must stay empty). */
  refused: string[];
  close(): Promise<void>;
}

export async function fuzzSetup(fake: FakeFal, logger?: Logger): Promise<FuzzSetup> {
  const refused: string[] = [];
  const holder = await fs.mkdtemp(path.join((await import("node:os")).tmpdir(), "fal-mcp-fuzz-"));
  const allowedDir = path.join(holder, "allowed");
  await fs.mkdir(path.join(allowedDir, ".hidden"), { recursive: true });
  await fs.writeFile(path.join(allowedDir, ".hidden", "secret.png"), "secret");
  const harness = await startHarness({
    baseUrl: fake.url,
    env: { ...SHORT_ENV, FAL_MCP_ALLOWED_DIRS: allowedDir },
    fetch: loopbackOnlyFetch(refused),
    ...(logger ? { logger } : {}),
  });
  return {
    harness,
    allowedDir,
    refused,
    async close() {
      await harness.close();
      await fs.rm(holder, { recursive: true, force: true });
    },
  };
}

export interface FuzzStats {
  tool: ToolName;
  cases: number;
  ms: number;
  slowestMs: number;
  byKind: Record<string, number>;
}

/** Checks one bad call's result; returns a description of what is wrong, or undefined. */
export function judge(call: BadCall, result: CallToolResult): string | undefined {
  const text = textOf(result);
  if (!result.isError) return `accepted: ${text.slice(0, 200)}`;
  if (text.length > 16_000) return `error text is ${text.length} characters (echoes the input?)`;
  if (/\bat [\w$.]+ \(|node:internal|\.ts:\d+/.test(text))
    return `error text carries a stack trace: ${text.slice(0, 300)}`;
  if (/arguments contain more than the maximum/.test(text)) return undefined;
  const lower = text.toLowerCase();
  if (
    !call.names.some((name) => name !== "" && lower.includes(name.toLowerCase().slice(0, 80))) &&
    !(call.names.includes("") && /Unrecognized key: ""/.test(text))
  ) {
    return `error does not name ${JSON.stringify(call.names.map((n) => n.slice(0, 40)))}: ${text.slice(0, 300)}`;
  }
  return undefined;
}

/** Runs `runs` bad calls against one tool; throws with a shrunk counterexample on any failure. */
export async function fuzzTool(
  setup: FuzzSetup,
  fake: FakeFal,
  tool: ToolName,
  runs: number,
  seed?: number,
): Promise<FuzzStats> {
  const before = fake.requests.length;
  const stats: FuzzStats = { tool, cases: 0, ms: 0, slowestMs: 0, byKind: {} };
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(badCalls(tool, setup.allowedDir), async (call) => {
      const t0 = Date.now();
      const result = await setup.harness.call(call.tool, call.args, { timeout: 10_000 });
      const elapsed = Date.now() - t0;
      stats.cases++;
      stats.slowestMs = Math.max(stats.slowestMs, elapsed);
      stats.byKind[call.kind.split(" + ")[0] ?? call.kind] =
        (stats.byKind[call.kind.split(" + ")[0] ?? call.kind] ?? 0) + 1;
      const problem = judge(call, result);
      if (problem) throw new Error(`${tool} (${call.kind}): ${problem}`);
      if (elapsed > 5_000) throw new Error(`${tool} (${call.kind}) took ${elapsed} ms to refuse`);
      if (fake.requests.length !== before) {
        const sent = fake.requests.slice(before).map((r) => `${r.method} ${r.host}${r.path}`);
        throw new Error(
          `${tool} (${call.kind}) sent ${sent.length} request(s) to fal for invalid input: ${sent.join(", ")}`,
        );
      }
      if (
        ({} as Record<string, unknown>).polluted !== undefined ||
        ({} as Record<string, unknown>).isAdmin !== undefined
      )
        throw new Error("Object.prototype was polluted");
    }),
    { numRuns: runs, ...(seed !== undefined ? { seed } : {}), endOnFailure: true },
  );
  stats.ms = Date.now() - started;
  if (setup.refused.length > 0)
    throw new Error(`something tried to reach non-loopback hosts: ${setup.refused.join(", ")}`);
  return stats;
}

export { TOOL_NAMES };
