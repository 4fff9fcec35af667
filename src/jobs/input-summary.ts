/** What the job record keeps of a model input: a small, secret-free summary (never file contents). */

const SECRET_KEY =
  /(^|_|-)(api_?key|key|token|secret|password|passwd|authorization|auth|credentials?|cookie)$/i;
const MAX_STRING = 300;
const MAX_ITEMS = 20;
const MAX_KEYS = 50;
const MAX_DEPTH = 6;

/**
 * A copy of a model input that is safe and small enough to keep: secrets (fields named like keys,
 * tokens, passwords) masked, data: URIs replaced by a marker, long strings cut, big arrays and
 * objects trimmed. It never holds file contents.
 */
export function summarizeInput(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return summarizeString(value);
  if (value === null || typeof value === "number" || typeof value === "boolean") return value;
  if (value === undefined) return null;
  if (depth >= MAX_DEPTH) return "<nested value omitted>";
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => summarizeInput(item, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`<${value.length - MAX_ITEMS} more items>`);
    return items;
  }
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    const entries = Object.entries(value);
    for (const [key, item] of entries.slice(0, MAX_KEYS)) {
      out[key] =
        SECRET_KEY.test(key) && item !== null && item !== "" ? "<redacted>" : summarizeInput(item, depth + 1);
    }
    if (entries.length > MAX_KEYS) out["<omitted>"] = `${entries.length - MAX_KEYS} more fields`;
    return out;
  }
  return `<${typeof value}>`;
}

function summarizeString(value: string): string {
  const dataUri = /^data:([^;,]*)(;[^,]*)?,/i.exec(value);
  if (dataUri) {
    const payload = value.length - dataUri[0].length;
    const bytes = (dataUri[2] ?? "").includes("base64") ? Math.floor((payload * 3) / 4) : payload;
    return `<data URI, ${dataUri[1] || "text/plain"}, about ${bytes} bytes>`;
  }
  if (value.length <= MAX_STRING) return value;
  return `${value.slice(0, MAX_STRING)}…<${value.length - MAX_STRING} more characters>`;
}
