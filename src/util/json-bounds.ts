/**
 * Bounds on JSON before anything walks it. JSON.parse itself copes with deep nesting, but every
 * recursive walk after it (schema validation, redaction, compaction, JSON.stringify of a cycle-free
 * but 5,000-deep value) can overflow the stack, and a stack overflow is an uncaught RangeError
 * with no request id. So depth is measured without recursion, on the text before parsing or on a
 * value that arrived already parsed (the fal client parses results itself), and refused or
 * clamped before any recursive code sees it.
 */

/** Deeper than any answer or output fal gives; far below what recursive walks survive. */
export const MAX_JSON_DEPTH = 128;

/** JSON nested deeper than its limit. */
export class JsonTooDeepError extends Error {
  override name = "JsonTooDeepError";
  readonly code = "ERR_FAL_MCP_JSON_TOO_DEEP";
  constructor(
    readonly limit: number,
    what = "the answer",
  ) {
    super(`${what} is nested more than ${limit} levels deep`);
  }
}

/**
 * The deepest nesting of arrays and objects in JSON `text`, scanning characters (strings and their
 * escapes skipped), stopping early once `stopAbove` is passed. Invalid JSON gets a number too;
 * JSON.parse reports it afterwards.
 */
export function jsonTextDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c /* \ */) i++;
      else if (code === 0x22 /* " */) inString = false;
      continue;
    }
    if (code === 0x22) inString = true;
    else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) depth--;
  }
  return deepest;
}

export interface JsonBounds {
  maxDepth?: number;
  what?: string;
}

const OPENING_BRACKETS = ["{", "["] as const;

/**
 * Whether `text` holds at most `limit` opening brackets, inside strings or not: then it cannot nest
 * deeper than `limit`. indexOf runs in native code, one call per bracket, where jsonTextDepth's loop
 * runs once per character in the baseline code the launcher caps V8 at: 0.4 against 22 µs for a
 * 450-byte fal answer, four or five of which every run_model parses.
 */
function atMostBrackets(text: string, limit: number): boolean {
  let count = 0;
  for (const bracket of OPENING_BRACKETS) {
    for (let at = text.indexOf(bracket); at !== -1; at = text.indexOf(bracket, at + 1))
      if (++count > limit) return false;
  }
  return true;
}

/** Throws JsonTooDeepError when `text` nests deeper than the bound, before anything parses it. */
function checkTextDepth(text: string, bounds: JsonBounds): void {
  const maxDepth = bounds.maxDepth ?? MAX_JSON_DEPTH;
  if (atMostBrackets(text, maxDepth)) return;
  if (jsonTextDepth(text, maxDepth) > maxDepth) throw new JsonTooDeepError(maxDepth, bounds.what);
}

/** JSON.parse after the depth check. Throws SyntaxError for invalid JSON. */
export function parseBoundedJson(text: string, bounds: JsonBounds = {}): unknown {
  checkTextDepth(text, bounds);
  return JSON.parse(text) as unknown;
}

/** Like parseBoundedJson, but undefined for invalid JSON (depth errors still throw). */
export function tryParseBoundedJson(text: string, bounds: JsonBounds = {}): unknown {
  checkTextDepth(text, bounds);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The nesting depth of a parsed value (a scalar is 0, `{}` and `[]` are 1), without recursion,
 * stopping once `stopAbove` is passed. Objects met twice (shared or cyclic) are not entered again.
 */
export function valueDepth(value: unknown, stopAbove = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const seen = new Set<object>();
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== "object" || seen.has(current)) continue;
    seen.add(current);
    const level = depth + 1;
    if (level > deepest) {
      deepest = level;
      if (deepest > stopAbove) return deepest;
    }
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) if (child !== null && typeof child === "object") stack.push([child, level]);
  }
  return deepest;
}

/** Throws JsonTooDeepError when `value` is nested deeper than `maxDepth`. */
export function assertValueDepth(value: unknown, maxDepth = MAX_JSON_DEPTH, what?: string): void {
  if (valueDepth(value, maxDepth) > maxDepth) throw new JsonTooDeepError(maxDepth, what);
}

/**
 * A copy of `value` whose arrays and objects deeper than `maxDepth` are replaced by `placeholder`,
 * built without recursion. Use it to show a value whose full form is kept elsewhere (a file).
 */
export function clampDepth(
  value: unknown,
  maxDepth = MAX_JSON_DEPTH,
  placeholder: unknown = "[nested too deep]",
): unknown {
  if (value === null || typeof value !== "object") return value;
  const root: unknown = Array.isArray(value) ? [] : {};
  const stack: { from: object; to: Record<string, unknown> | unknown[]; depth: number }[] = [
    { from: value, to: root as Record<string, unknown>, depth: 1 },
  ];
  const seen = new Set<object>([value]);
  while (stack.length > 0) {
    const { from, to, depth } = stack.pop()!;
    const entries: [string | number, unknown][] = Array.isArray(from)
      ? from.map((item, index): [number, unknown] => [index, item])
      : Object.entries(from);
    for (const [key, child] of entries) {
      let copy: unknown = child;
      if (child !== null && typeof child === "object") {
        if (depth >= maxDepth || seen.has(child)) copy = placeholder;
        else {
          seen.add(child);
          copy = Array.isArray(child) ? [] : {};
          stack.push({ from: child, to: copy as Record<string, unknown>, depth: depth + 1 });
        }
      }
      (to as Record<string | number, unknown>)[key] = copy;
    }
  }
  return root;
}
