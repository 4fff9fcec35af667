import { createHash } from "node:crypto";
import { FalMcpError } from "../errors.js";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { localReferenceKind } from "../files/local-inputs.js";
import { deref, findIoSchemas } from "../fal/openapi-summary.js";

/**
 * Checks a model input against the endpoint's live input schema (from the catalog's OpenAPI)
 * before anything is paid for: unknown fields, wrong types, enum and bound violations and
 * missing required fields are found here instead of in a 422 after the submit. A schema that
 * cannot be read or compiled never blocks a call: the check reports itself as skipped.
 */

type Json = Record<string, unknown>;

export interface InputProblem {
  /** `num_images`, `image_size.width`, or "input" for the object itself. */
  field: string;
  message: string;
  /** Allowed values, when the schema lists them. */
  allowed?: unknown[];
}

export type InputCheck =
  | { status: "valid" }
  | { status: "invalid"; problems: InputProblem[] }
  | { status: "unchecked"; reason: string };

export interface CompiledInputSchema {
  validate: ValidateFunction;
  /** Top-level field names the endpoint takes. */
  fields: string[];
  /** Top-level defaults, for the cost estimate of fields the caller left out. */
  defaults: Record<string, unknown>;
}

// ajv-formats is CommonJS: its default export arrives wrapped under Node's ESM loader.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Rewrites OpenAPI 3.0 dialect into JSON Schema 2020-12: `$ref`s into components become `$defs`
 * refs, `nullable: true` adds "null" to the type, boolean exclusive bounds become numbers.
 */
export function toJsonSchema(node: unknown, depth = 0): unknown {
  if (depth > 64) return {};
  if (Array.isArray(node)) return node.map((item) => toJsonSchema(item, depth + 1));
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string") {
      out.$ref = value.replace(/^#\/components\/schemas\//, "#/$defs/");
    } else if (key === "example" || key === "examples" || key === "nullable" || key.startsWith("x-")) {
      // Annotations only (and OpenAPI's `examples` is not 2020's array form).
      continue;
    } else if (key === "properties" || key === "$defs" || key === "patternProperties") {
      const map: Json = {};
      if (isObject(value))
        for (const [name, schema] of Object.entries(value)) map[name] = toJsonSchema(schema, depth + 1);
      out[key] = map;
    } else {
      out[key] = toJsonSchema(value, depth + 1);
    }
  }
  if (node.nullable === true) {
    if (typeof out.type === "string") out.type = [out.type, "null"];
    else if (Array.isArray(out.type) && !out.type.includes("null"))
      out.type = [...(out.type as unknown[]), "null"];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...(out.enum as unknown[]), null];
  }
  for (const [flag, bound] of [
    ["exclusiveMinimum", "minimum"],
    ["exclusiveMaximum", "maximum"],
  ] as const) {
    if (out[flag] === true && typeof out[bound] === "number") {
      out[flag] = out[bound];
      delete out[bound];
    } else if (typeof out[flag] === "boolean") {
      delete out[flag];
    }
  }
  return out;
}

export interface ValidatorCacheOptions {
  /** Compiled validators kept (least recently used go first). */
  maxEntries?: number;
}

/** Compiles endpoint input schemas once each, with a bound on how many are kept. */
export class InputValidators {
  #ajv: Ajv2020 | undefined;
  readonly #cache = new Map<string, CompiledInputSchema>();
  /**
   * The cache key of a document object already seen (the catalog hands out the same object while
   * it is cached): rewriting, serialising and hashing the whole schema again to find the key cost
   * about 0.4 ms, twice per paid call.
   */
  readonly #keyOf = new WeakMap<object, { endpointId: string; key: string }>();
  readonly #maxEntries: number;

  constructor(options: ValidatorCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 64;
  }

  /** Made at the first paid call, not at start-up: building it costs ~90 ms and ~9 MiB of RSS. */
  #compiler(): Ajv2020 {
    if (!this.#ajv) {
      // logger false: ajv would otherwise warn on the console, and stdout is the protocol's.
      this.#ajv = new Ajv2020({ strict: false, allErrors: true, logger: false, validateFormats: true });
      addFormats(this.#ajv);
    }
    return this.#ajv;
  }

  get size(): number {
    return this.#cache.size;
  }

  /** The compiled schema under `key`, made the most recently used; undefined when not cached. */
  #recent(key: string): CompiledInputSchema | undefined {
    const compiled = this.#cache.get(key);
    if (compiled) {
      this.#cache.delete(key);
      this.#cache.set(key, compiled);
    }
    return compiled;
  }

  /** The compiled input schema of an endpoint's OpenAPI document; throws when it has none or it does not compile. */
  compile(document: unknown, endpointId: string): CompiledInputSchema {
    const seen = isObject(document) ? this.#keyOf.get(document) : undefined;
    const known = seen?.endpointId === endpointId ? this.#recent(seen.key) : undefined;
    if (known) return known;
    const io = findIoSchemas(document, endpointId);
    if (!io.input) throw new Error("the endpoint's OpenAPI document has no input schema");
    const schema = toJsonSchema(io.input) as Json;
    const defs = toJsonSchema({ $defs: io.components }) as Json;
    // Unknown top-level fields are refused unless the schema says what to do with them.
    const root: Json = { ...schema, $defs: defs.$defs };
    if (root.additionalProperties === undefined && isObject(root.properties))
      root.additionalProperties = false;
    delete root.$schema;
    delete root.$id;
    const text = JSON.stringify(root);
    const key = `${endpointId}\n${createHash("sha256").update(text).digest("hex")}`;
    if (isObject(document)) this.#keyOf.set(document, { endpointId, key });
    const cached = this.#recent(key);
    if (cached) return cached;
    const validate = this.#compiler().compile(root);
    const properties = isObject(io.input.properties) ? io.input.properties : {};
    const defaults: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(properties)) {
      const resolved = deref(field, io.components);
      if (resolved && resolved.default !== undefined && resolved.default !== null)
        defaults[name] = resolved.default;
    }
    const compiled = { validate, fields: Object.keys(properties), defaults };
    this.#cache.set(key, compiled);
    while (this.#cache.size > this.#maxEntries) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
    return compiled;
  }

  /** Checks `input` against an endpoint's OpenAPI document; never throws. */
  check(document: unknown, endpointId: string, input: Record<string, unknown>): InputCheck {
    let compiled: CompiledInputSchema;
    try {
      compiled = this.compile(document, endpointId);
    } catch (error) {
      return { status: "unchecked", reason: `its input schema could not be compiled (${message(error)})` };
    }
    return checkCompiled(compiled, input);
  }
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}

/** Local files are uploaded and replaced by CDN URLs before the submit: check them as such URLs. */
function asSent(value: unknown, depth = 0): unknown {
  if (typeof value === "string")
    return localReferenceKind(value) ? "https://v3.fal.media/files/local-upload" : value;
  if (depth > 64 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => asSent(item, depth + 1));
  const out: Json = {};
  for (const [key, item] of Object.entries(value)) out[key] = asSent(item, depth + 1);
  return out;
}

export function checkCompiled(compiled: CompiledInputSchema, input: Record<string, unknown>): InputCheck {
  if (compiled.validate(asSent(input))) return { status: "valid" };
  return { status: "invalid", problems: problemsOf(compiled.validate.errors ?? [], compiled.fields) };
}

function fieldOf(error: ErrorObject): string {
  const path = error.instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (error.keyword === "required" && typeof error.params.missingProperty === "string")
    path.push(error.params.missingProperty);
  if (error.keyword === "additionalProperties" && typeof error.params.additionalProperty === "string")
    path.push(error.params.additionalProperty);
  return path.join(".") || "input";
}

/** One problem per field, the most telling first: a union's branch errors are folded into one. */
export function problemsOf(errors: readonly ErrorObject[], fields: readonly string[]): InputProblem[] {
  const byField = new Map<string, InputProblem>();
  for (const error of errors) {
    const field = fieldOf(error);
    if (error.keyword === "anyOf" || error.keyword === "oneOf") {
      if (!byField.has(field))
        byField.set(field, { field, message: "does not match any of the allowed forms" });
      continue;
    }
    const problem = describeError(error, field, fields);
    const known = byField.get(field);
    // A concrete reason (enum, bound) beats the union's summary or a type mismatch of one branch.
    if (
      !known ||
      known.message === "does not match any of the allowed forms" ||
      (problem.allowed && !known.allowed)
    )
      byField.set(field, problem);
  }
  return [...byField.values()].slice(0, 20);
}

function describeError(error: ErrorObject, field: string, fields: readonly string[]): InputProblem {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties":
      return {
        field,
        message: `is not a field of this endpoint${fields.length > 0 && !field.includes(".") ? ` (its fields: ${fields.join(", ")})` : ""}`,
      };
    case "required":
      return { field, message: "is required and missing" };
    case "enum":
      return {
        field,
        message: "is not one of the allowed values",
        allowed: (params.allowedValues as unknown[]) ?? [],
      };
    case "const":
      return { field, message: "has the wrong value", allowed: [params.allowedValue] };
    case "type":
      return { field, message: `must be ${String(params.type).replace(",", " or ")}` };
    default:
      return { field, message: error.message ?? `fails the schema's ${error.keyword} rule` };
  }
}

/** `- num_images: must be <= 4` lines, with allowed values. */
export function formatProblems(problems: readonly InputProblem[]): string {
  return problems
    .map((problem) => {
      const allowed =
        problem.allowed && problem.allowed.length > 0
          ? ` Allowed: ${problem.allowed.map((value) => JSON.stringify(value)).join(", ")}.`
          : "";
      return `- ${problem.field}: ${problem.message}.${allowed}`;
    })
    .join("\n");
}

/** An input the live schema refuses; nothing was sent to fal. */
export class InputRejectedError extends FalMcpError {
  override name = "InputRejectedError";
  readonly problems: InputProblem[];
  readonly nextStep: string;
  constructor(endpointId: string, problems: InputProblem[]) {
    super(
      `Not sent to fal: the input does not match ${endpointId}'s input schema.\n${formatProblems(problems)}`,
    );
    this.problems = problems;
    this.nextStep = `Fix the fields named above and call again; get_model_schema with endpoint_id "${endpointId}" lists every field with its type, limits and allowed values.`;
  }
}
