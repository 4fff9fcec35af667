/**
 * Turns a model's OpenAPI document (as fal publishes it, see fal-platform-api.md §5) into what a
 * model needs to call it: the Input and Output schemas, and a compact per-field summary with
 * `$ref`s and `anyOf` resolved, in fal's display order.
 */

import { isRecord } from "../util/json.js";
import { oneLine } from "../util/format.js";

type Json = Record<string, unknown>;

export interface IoSchemas {
  input: Json | undefined;
  output: Json | undefined;
  /** `components.schemas`, for resolving `$ref`s. */
  components: Record<string, unknown>;
  /** Component names of the schemas found, when they were references. */
  inputName: string | undefined;
  outputName: string | undefined;
}

export interface FieldSummary {
  name: string;
  /** Readable type: `string`, `integer`, `array of string`, `string enum | object {width: integer, height: integer}`. */
  type: string;
  required: boolean;
  nullable?: boolean;
  default?: unknown;
  enum?: (string | number | boolean)[];
  minimum?: number;
  maximum?: number;
  min_items?: number;
  max_items?: number;
  description?: string;
  /** For media URL fields: what the field accepts. */
  accepts?: string;
  example?: unknown;
}

export const MEDIA_URL_HINT =
  "a public URL, a data: URI, or a local file path (fal-mcp uploads local files to fal's CDN automatically)";
export const MEDIA_URLS_HINT =
  "a list whose items are each a public URL, a data: URI, or a local file path (fal-mcp uploads local files automatically)";

const DESCRIPTION_CHARS = 300;

function refName(ref: unknown): string | undefined {
  if (typeof ref !== "string") return undefined;
  const match = /^#\/components\/schemas\/(.+)$/.exec(ref);
  return match?.[1] ? decodeURIComponent(match[1].replace(/~1/g, "/").replace(/~0/g, "~")) : undefined;
}

/** Follows `$ref` (and a lone `allOf: [$ref]`) to the component; undefined for a dangling ref. */
export function deref(schema: unknown, components: Record<string, unknown>, depth = 0): Json | undefined {
  if (!isRecord(schema) || depth > 20) return undefined;
  const name = refName(schema.$ref);
  if (name !== undefined) {
    const target = deref(components[name], components, depth + 1);
    if (!target) return undefined;
    // Siblings of $ref (description, default, title) describe the use site: they win.
    const { $ref: _ref, ...siblings } = schema;
    return { ...target, ...siblings };
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && !schema.type && !schema.properties) {
    const { allOf, ...siblings } = schema;
    const target = deref(allOf[0], components, depth + 1);
    return target ? { ...target, ...siblings } : schema;
  }
  return schema;
}

function jsonSchemaAt(content: unknown): unknown {
  if (!isRecord(content)) return undefined;
  const media = content["application/json"] ?? Object.values(content)[0];
  return isRecord(media) ? media.schema : undefined;
}

function findComponent(components: Record<string, unknown>, kind: "input" | "output"): string | undefined {
  const names = Object.keys(components);
  const exact = kind === "input" ? ["input", "request"] : ["output", "response"];
  return (
    names.find((name) => exact.includes(name.toLowerCase())) ??
    names.find((name) => name.toLowerCase().endsWith(kind)) ??
    (kind === "input"
      ? names.find((name) => /request$/i.test(name))
      : names.find((name) => /response$/i.test(name) && !/queue/i.test(name)))
  );
}

/**
 * Finds the Input (POST requestBody) and Output (200 of the result GET) schemas, falling back to
 * the component whose name ends in Input/Output (Request/Response), as fal's CLI does.
 */
export function findIoSchemas(document: unknown, endpointId?: string): IoSchemas {
  const doc = isRecord(document) ? document : {};
  const components =
    isRecord(doc.components) && isRecord(doc.components.schemas) ? doc.components.schemas : {};
  const paths = isRecord(doc.paths) ? doc.paths : {};
  let inputRef: unknown;
  let outputRef: unknown;
  const entries = Object.entries(paths);
  // The submit path is the endpoint id itself; other POSTs (if any) come after it.
  entries.sort(([a], [b]) => Number(b === `/${endpointId}`) - Number(a === `/${endpointId}`));
  for (const [path, item] of entries) {
    if (!isRecord(item)) continue;
    const post = item.post;
    if (inputRef === undefined && isRecord(post) && isRecord(post.requestBody)) {
      inputRef = jsonSchemaAt(post.requestBody.content);
    }
    const get = item.get;
    if (
      outputRef === undefined &&
      isRecord(get) &&
      /\/requests\/\{[^}]+\}$/.test(path) &&
      isRecord(get.responses)
    ) {
      const ok = get.responses["200"];
      if (isRecord(ok)) outputRef = jsonSchemaAt(ok.content);
    }
  }
  let inputName = isRecord(inputRef) ? refName(inputRef.$ref) : undefined;
  let outputName = isRecord(outputRef) ? refName(outputRef.$ref) : undefined;
  let input = deref(inputRef, components);
  let output = deref(outputRef, components);
  if (!input) {
    inputName = findComponent(components, "input");
    input = inputName ? deref(components[inputName], components) : undefined;
  }
  if (!output) {
    outputName = findComponent(components, "output");
    output = outputName ? deref(components[outputName], components) : undefined;
  }
  return { input, output, components, inputName, outputName };
}

function primitiveTypes(schema: Json): string[] {
  if (typeof schema.type === "string") return [schema.type];
  if (Array.isArray(schema.type)) return schema.type.filter((t): t is string => typeof t === "string");
  return [];
}

function isNullSchema(schema: unknown): boolean {
  return (
    isRecord(schema) &&
    (schema.type === "null" ||
      (Array.isArray(schema.enum) && schema.enum.length === 1 && schema.enum[0] === null))
  );
}

function variantsOf(schema: Json): unknown[] | undefined {
  const variants: unknown = schema.anyOf ?? schema.oneOf;
  if (!Array.isArray(variants)) return undefined;
  const list: unknown[] = variants;
  return list;
}

/** A readable type for `schema`; nested objects are spelled out two levels deep. */
export function describeType(schema: unknown, components: Record<string, unknown>, depth = 0): string {
  const resolved = deref(schema, components);
  if (!resolved) return isRecord(schema) && refName(schema.$ref) ? (refName(schema.$ref) ?? "object") : "any";
  const variants = variantsOf(resolved);
  if (variants) {
    const parts = variants
      .filter((variant) => !isNullSchema(variant))
      .map((variant) => describeType(variant, components, depth));
    const unique = [...new Set(parts)];
    return unique.length > 0 ? unique.join(" | ") : "null";
  }
  if (resolved.const !== undefined) return JSON.stringify(resolved.const);
  const types = primitiveTypes(resolved).filter((type) => type !== "null");
  if (Array.isArray(resolved.enum)) {
    const valueType =
      types[0] ?? (typeof resolved.enum.find((value) => value !== null) === "number" ? "number" : "string");
    return `${valueType} enum`;
  }
  if (types.includes("array") || resolved.items !== undefined) {
    return `array of ${resolved.items === undefined ? "any" : describeType(resolved.items, components, depth + 1)}`;
  }
  if (types.includes("object") || isRecord(resolved.properties)) {
    if (isRecord(resolved.properties) && Object.keys(resolved.properties).length > 0) {
      if (depth >= 2) return typeof resolved.title === "string" ? `object (${resolved.title})` : "object";
      const inner = orderedProperties(resolved)
        .map(([name, value]) => `${name}: ${describeType(value, components, depth + 1)}`)
        .join(", ");
      return `object {${inner}}`;
    }
    if (isRecord(resolved.additionalProperties))
      return `object (map of ${describeType(resolved.additionalProperties, components, depth + 1)})`;
    return "object";
  }
  if (types.length > 0) return types.join(" | ");
  return "any";
}

/** Properties in fal's display order (`x-fal-order-properties`), then any others as listed. */
export function orderedProperties(schema: Json): [string, unknown][] {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const order = Array.isArray(schema["x-fal-order-properties"])
    ? schema["x-fal-order-properties"].filter(
        (name): name is string => typeof name === "string" && name in properties,
      )
    : [];
  const rest = Object.keys(properties).filter((name) => !order.includes(name));
  return [...order, ...rest].map((name) => [name, properties[name]]);
}

function numberOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Every enum value reachable through anyOf/oneOf (image_size presets sit in one variant). */
function collectEnum(
  schema: Json,
  components: Record<string, unknown>,
): (string | number | boolean)[] | undefined {
  const values: (string | number | boolean)[] = [];
  const visit = (node: unknown, depth: number): void => {
    const resolved = deref(node, components);
    if (!resolved || depth > 4) return;
    if (Array.isArray(resolved.enum)) {
      for (const value of resolved.enum) {
        if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
          values.push(value);
      }
    }
    for (const variant of variantsOf(resolved) ?? []) visit(variant, depth + 1);
  };
  visit(schema, 0);
  return values.length > 0 ? [...new Set(values)] : undefined;
}

/** The first variant that is not null, for reading limits of `anyOf: [{type: integer, maximum}, {type: null}]`. */
function mainVariant(schema: Json, components: Record<string, unknown>): Json {
  const variants = variantsOf(schema);
  if (!variants) return schema;
  const nonNull = variants.filter((variant) => !isNullSchema(variant));
  return nonNull.length === 1 ? (deref(nonNull[0], components) ?? schema) : schema;
}

export function summarizeField(
  name: string,
  schema: unknown,
  required: boolean,
  components: Record<string, unknown>,
): FieldSummary {
  const resolved = deref(schema, components) ?? {};
  const main = mainVariant(resolved, components);
  const summary: FieldSummary = { name, type: describeType(schema, components), required };
  const variants = variantsOf(resolved);
  if (variants?.some(isNullSchema) || primitiveTypes(resolved).includes("null") || resolved.nullable === true)
    summary.nullable = true;
  if (resolved.default !== undefined) summary.default = resolved.default;
  const values = collectEnum(resolved, components);
  if (values) summary.enum = values;
  const minimum = numberOf(main.minimum) ?? numberOf(main.exclusiveMinimum);
  const maximum = numberOf(main.maximum) ?? numberOf(main.exclusiveMaximum);
  if (minimum !== undefined) summary.minimum = minimum;
  if (maximum !== undefined) summary.maximum = maximum;
  const minItems = numberOf(main.minItems);
  const maxItems = numberOf(main.maxItems);
  if (minItems !== undefined) summary.min_items = minItems;
  if (maxItems !== undefined) summary.max_items = maxItems;
  const description =
    typeof resolved.description === "string"
      ? resolved.description
      : typeof resolved.title === "string" && resolved.title !== name
        ? resolved.title
        : undefined;
  if (description) summary.description = oneLine(description, DESCRIPTION_CHARS);
  if (/_urls$/.test(name)) summary.accepts = MEDIA_URLS_HINT;
  else if (/_url$/.test(name)) summary.accepts = MEDIA_URL_HINT;
  if (Array.isArray(resolved.examples) && resolved.examples.length > 0)
    summary.example = resolved.examples[0];
  else if (resolved.example !== undefined) summary.example = resolved.example;
  return summary;
}

/** Per-field summaries of an object schema, in display order. */
export function summarizeObject(
  schema: Json | undefined,
  components: Record<string, unknown>,
): FieldSummary[] {
  if (!schema) return [];
  const required = new Set(
    Array.isArray(schema.required) ? schema.required.filter((n): n is string => typeof n === "string") : [],
  );
  return orderedProperties(schema).map(([name, value]) =>
    summarizeField(name, value, required.has(name), components),
  );
}

/**
 * A copy of `schema` with every `$ref` inlined. A reference back into a schema that is being
 * inlined (a cycle) stays a `$ref`; its name is reported so the caller can attach the component.
 */
export function inlineRefs(
  schema: unknown,
  components: Record<string, unknown>,
): { schema: unknown; unresolved: string[] } {
  const unresolved = new Set<string>();
  const walk = (node: unknown, stack: string[]): unknown => {
    if (Array.isArray(node)) return node.map((item) => walk(item, stack));
    if (!isRecord(node)) return node;
    const name = refName(node.$ref);
    if (name !== undefined) {
      if (stack.includes(name) || !(name in components) || stack.length > 32) {
        unresolved.add(name);
        return node;
      }
      const { $ref: _ref, ...siblings } = node;
      const target = walk(components[name], [...stack, name]);
      return isRecord(target) ? { ...target, ...siblings } : target;
    }
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) out[key] = walk(value, stack);
    return out;
  };
  const result = walk(schema, []);
  return { schema: result, unresolved: [...unresolved] };
}

/** The components a set of unresolved names needs, following their own references. */
export function componentsFor(
  names: readonly string[],
  components: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const queue = [...names];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (name in out || !(name in components)) continue;
    out[name] = components[name];
    JSON.stringify(components[name], (key, value: unknown) => {
      if (key === "$ref") {
        const ref = refName(value);
        if (ref) queue.push(ref);
      }
      return value;
    });
  }
  return out;
}

function formatValue(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** One readable line per field: `- prompt (string, required): … Default "x". One of: a, b. Range 1–50.` */
export function formatField(field: FieldSummary): string {
  const facts: string[] = [field.type];
  if (field.required) facts.push("required");
  if (field.nullable) facts.push("nullable");
  const parts = [`- ${field.name} (${facts.join(", ")})`];
  const details: string[] = [];
  if (field.description) details.push(field.description.replace(/\.?$/, "."));
  if (field.enum) details.push(`One of: ${field.enum.map((value) => String(value)).join(", ")}.`);
  if (field.minimum !== undefined || field.maximum !== undefined)
    details.push(`Range ${field.minimum ?? "…"}–${field.maximum ?? "…"}.`);
  if (field.min_items !== undefined || field.max_items !== undefined)
    details.push(`Items ${field.min_items ?? 0}–${field.max_items ?? "…"}.`);
  if (field.default !== undefined) details.push(`Default ${formatValue(field.default)}.`);
  if (field.accepts) details.push(`Accepts ${field.accepts}.`);
  return details.length > 0 ? `${parts[0]}: ${details.join(" ")}` : (parts[0] ?? "");
}
