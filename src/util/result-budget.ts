/**
 * Keeping a whole tool result (text, structuredContent and any inline image) within what clients
 * accept: Claude Desktop rejects results over 1 MiB, Claude Code spills results over about 25,000
 * tokens, and a base64 image counts in full. A model output can be megabytes (a 3 MB JSON, a
 * data: URI), so every result is measured, and one that does not fit is shortened, shape kept:
 * long strings are cut (each cut says so), long arrays are shortened, data: URIs are never
 * repeated whole, and the inline preview is dropped before the text is. The caller keeps the full
 * result elsewhere (a JSON file in the output folder) and names it in the note.
 */

export interface ResultParts {
  text: string;
  structured?: Record<string, unknown> | undefined;
  /** Inline images, base64 (as MCP sends them). */
  images: { data: string; mimeType: string }[];
}

export interface ResultBudget {
  /** The whole result: text + structuredContent JSON + base64 images (FAL_MCP_MAX_RESULT_BYTES). */
  maxBytes: number;
  /** Text + structuredContent JSON together, the part a client counts as tokens. */
  maxTextBytes: number;
}

/** 900 KiB: under Claude Desktop's 1 MiB with room for the JSON-RPC envelope. */
export const DEFAULT_MAX_RESULT_BYTES = 900 * 1024;
/** About 20,000 tokens of JSON (≈3 bytes a token), under Claude Code's 25,000. */
export const DEFAULT_MAX_TEXT_BYTES = 60 * 1024;

/** The budget for a FAL_MCP_MAX_RESULT_BYTES setting: the text part grows with it, 60 KiB per 900 KiB. */
export function budgetFor(maxResultBytes: number): ResultBudget {
  const scale = Math.max(1, maxResultBytes / DEFAULT_MAX_RESULT_BYTES);
  return {
    maxBytes: maxResultBytes,
    maxTextBytes: Math.min(maxResultBytes, Math.round(DEFAULT_MAX_TEXT_BYTES * scale)),
  };
}

const DATA_URI = /data:([\w.+-]+\/[\w.+-]+)?((?:;[\w.+-]+=[\w.+-]+)*)(;base64)?,[A-Za-z0-9+/=%._~-]{200,}/g;

/** `data:` URIs longer than a short stub, replaced by a description ("data:image/png;base64,… (1.2 MB)"). */
export function shortenDataUris(text: string): string {
  return text.replace(DATA_URI, (uri, type: string | undefined) => {
    const bytes = Math.round(((uri.length - uri.indexOf(",") - 1) * 3) / 4);
    return `data:${type ?? "application/octet-stream"};base64,… (${bytes} bytes, not repeated here)`;
  });
}

function bytesOf(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

export function textBytes(parts: ResultParts): number {
  return bytesOf(parts.text) + (parts.structured ? bytesOf(JSON.stringify(parts.structured)) : 0);
}

function imageBytes(images: ResultParts["images"]): number {
  return images.reduce((sum, image) => sum + image.data.length + image.mimeType.length, 0);
}

export function resultBytes(parts: ResultParts): number {
  return textBytes(parts) + imageBytes(parts.images);
}

type Container = Record<string, unknown> | unknown[];

/** Every string leaf and array of a JSON value with where it sits, found without recursion. */
function leaves(root: Container): { strings: [Container, string | number, string][]; arrays: unknown[][] } {
  const strings: [Container, string | number, string][] = [];
  const arrays: unknown[][] = [];
  const stack: Container[] = [root];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) arrays.push(node);
    const entries: [string | number, unknown][] = Array.isArray(node)
      ? node.map((item, index): [number, unknown] => [index, item])
      : Object.entries(node);
    for (const [key, child] of entries) {
      if (typeof child === "string") strings.push([node, key, child]);
      else if (child !== null && typeof child === "object") stack.push(child as Container);
    }
  }
  return { strings, arrays };
}

function cut(text: string, length: number, marker: string): string {
  return text.length <= length
    ? text
    : `${text.slice(0, length)}… [${text.length - length} more characters${marker}]`;
}

/**
 * A copy of `value` (JSON-like, depth already bounded) whose JSON fits in `maxBytes`, if shortening
 * strings to 32 characters and arrays to one item can get it there.
 */
export function shrinkValue(
  value: Record<string, unknown>,
  maxBytes: number,
  marker = "",
): Record<string, unknown> {
  const copy = JSON.parse(shortenDataUris(JSON.stringify(value))) as Record<string, unknown>;
  if (bytesOf(JSON.stringify(copy)) <= maxBytes) return copy;
  const { strings, arrays } = leaves(copy);
  const apply = (limit: number) => {
    for (const [parent, key, original] of strings)
      (parent as Record<string | number, unknown>)[key] = cut(original, limit, marker);
  };
  const longest = strings.reduce((max, [, , text]) => Math.max(max, text.length), 0);
  // Binary search for the longest string length that fits.
  let low = 32;
  let high = Math.max(low, longest);
  apply(low);
  if (bytesOf(JSON.stringify(copy)) <= maxBytes) {
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      apply(mid);
      if (bytesOf(JSON.stringify(copy)) <= maxBytes) low = mid;
      else high = mid - 1;
    }
    apply(low);
    return copy;
  }
  // Strings alone are not enough: shorten the longest arrays, largest first.
  arrays.sort((a, b) => b.length - a.length);
  for (const keep of [50, 10, 3, 1]) {
    for (const array of arrays) if (array.length > keep) array.length = keep;
    if (bytesOf(JSON.stringify(copy)) <= maxBytes) return copy;
  }
  return copy;
}

export interface FittedResult extends ResultParts {
  /** True when anything was shortened or left out. */
  shortened: boolean;
  /** The inline images that had to be left out. */
  droppedImages: number;
}

/**
 * Fits `parts` into `budget`. `note` is put at the end of the text when anything was shortened
 * (where the full result is, or that it is not kept), so the first lines still say what was made;
 * it is counted in the budget.
 */
export function fitResult(parts: ResultParts, budget: ResultBudget, note: string): FittedResult {
  const text = shortenDataUris(parts.text);
  // structuredContent as JSON once: the copy, whether data: URIs were shortened and its size all
  // come from this one text (it was serialised five times per result before).
  const json = parts.structured ? JSON.stringify(parts.structured) : undefined;
  const shortJson = json === undefined ? undefined : shortenDataUris(json);
  const structured = shortJson === undefined ? undefined : (JSON.parse(shortJson) as Record<string, unknown>);
  let fitted: FittedResult = { text, structured, images: parts.images, shortened: false, droppedImages: 0 };
  // A copy parsed from JSON serialises back to that same JSON: comparing the texts is enough.
  const dataShortened = text !== parts.text || shortJson !== json;
  const textLimit = Math.min(budget.maxTextBytes, budget.maxBytes);
  const textPart = bytesOf(text) + (shortJson === undefined ? 0 : bytesOf(shortJson));
  if (textPart <= textLimit && textPart + imageBytes(parts.images) <= budget.maxBytes && !dataShortened)
    return fitted;

  const marker = "; see the note at the end";
  if (textBytes(fitted) > textLimit) {
    // Share the text budget: the note, then up to a third for the text, the rest for structuredContent.
    const noteBytes = bytesOf(note) + 2;
    const forText = structured ? Math.floor((textLimit - noteBytes) / 3) : textLimit - noteBytes;
    const shortText =
      bytesOf(text) > forText ? cut(text, Math.max(0, Math.floor(forText * 0.9) - 80), marker) : text;
    const used = noteBytes + bytesOf(shortText);
    fitted = {
      ...fitted,
      text: shortText,
      structured: structured ? shrinkValue(structured, Math.max(64, textLimit - used), marker) : undefined,
    };
  }
  fitted = { ...fitted, text: `${fitted.text}\n\n${note}`, shortened: true };
  // The preview goes before anything else the model needs.
  while (fitted.images.length > 0 && resultBytes(fitted) > budget.maxBytes)
    fitted = { ...fitted, images: fitted.images.slice(0, -1), droppedImages: fitted.droppedImages + 1 };
  return fitted;
}
