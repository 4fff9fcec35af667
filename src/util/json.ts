import { tryParseBoundedJson } from "./json-bounds.js";

/** Small helpers for values of unknown shape (network answers, model outputs, records). */

/** A plain object (not null, not an array): the one record check. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` when it is a plain object, else an empty one. */
export function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

/**
 * JSON.parse that answers undefined instead of throwing for invalid JSON. Nesting deeper than
 * MAX_JSON_DEPTH throws JsonTooDeepError before parsing: every walk after a parse is recursive
 * somewhere, and a hostile 5,000-deep answer would overflow the stack there.
 */
export function parseJson(text: string): unknown {
  return tryParseBoundedJson(text);
}

/** Reads an SSE body (first `data:` line) or a plain JSON body. Undefined when neither parses. */
export function parseSseOrJson(text: string): unknown {
  const dataLine = text.split(/\r?\n/).find((line) => line.startsWith("data:"));
  return parseJson(dataLine ? dataLine.slice(5).trim() : text.trim());
}

/** Length of `value` as JSON; Infinity when it cannot be serialised (cycles, BigInt). */
export function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return Infinity;
  }
}
