/**
 * Removing the fal key from anything before it leaves the process or reaches the disk. fal (or
 * anything in front of it) can echo the key anywhere: inside a model output string, as an object
 * key, in a log line, in a signed URL's query string (percent-encoded), so redaction walks the
 * whole value, strings and keys alike, and also matches the encoded forms of the key. The walk
 * uses an explicit stack (no recursion), so a hostile 5,000-deep value cannot overflow it.
 */

export const REDACTED = "<redacted>";

/** Below this, a part of a key is too short to be worth matching on its own (and would over-match). */
const MIN_PART_LENGTH = 12;

/**
 * Every spelling of `secret` worth masking: itself, its percent-encoded form (a key in a query
 * string), its base64 form (a key in a Basic auth header), and each `:`-separated part that is long
 * enough to identify it (fal keys are `id:secret`; an echo of just the secret half still leaks).
 * Longest first, so a whole key is replaced before its parts.
 */
export function secretForms(secrets: readonly (string | undefined)[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    const variants = [secret, ...secret.split(":").filter((part) => part.length >= MIN_PART_LENGTH)];
    for (const variant of variants) {
      forms.add(variant);
      forms.add(encodeURIComponent(variant));
      forms.add(encodeURIComponent(encodeURIComponent(variant)));
      forms.add(Buffer.from(variant).toString("base64"));
      forms.add(Buffer.from(variant).toString("base64url"));
    }
  }
  return [...forms].filter((form) => form.length >= 4).sort((a, b) => b.length - a.length);
}

/** A redactor for a fixed set of secrets; reuse it for many values. */
export interface Redactor {
  /** `text` with every form of every secret replaced by `<redacted>`. */
  text(text: string): string;
  /** A copy of `value` with every string and every object key redacted (the input is not changed). */
  value<T>(value: T): T;
  /** True when `text` contains any form of any secret. */
  leaks(text: string): boolean;
}

export function createRedactor(secrets: readonly (string | undefined)[]): Redactor {
  const forms = secretForms(secrets);
  // Percent-encoding is case-insensitive in its hex digits (%3A and %3a): encoded forms are matched
  // case-insensitively, the raw key exactly. With a regular expression's `i` flag, not by searching
  // a lower-cased copy: lower-casing can lengthen a string ("İ" becomes two code units), and an
  // index found in the copy then cut the wrong part of the original, leaving the key after a
  // run of such characters in plain sight.
  const encoded = forms.map((form) =>
    form.includes("%") ? new RegExp(form.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"), "gi") : undefined,
  );
  const text = (input: string): string => {
    if (forms.length === 0 || input.length < 4) return input;
    let out = input;
    for (let i = 0; i < forms.length; i++) {
      const pattern = encoded[i];
      if (pattern) {
        pattern.lastIndex = 0;
        if (pattern.test(out)) out = out.replace(pattern, REDACTED);
      } else if (out.includes(forms[i]!)) out = out.split(forms[i]!).join(REDACTED);
    }
    return out;
  };
  const value = <T>(input: T): T => (forms.length === 0 ? input : (redactValue(input, text) as T));
  const leaks = (input: string): boolean =>
    forms.some((form, i) => {
      const pattern = encoded[i];
      if (!pattern) return input.includes(form);
      pattern.lastIndex = 0;
      return pattern.test(input);
    });
  return { text, value, leaks };
}

/** A deep copy of a JSON-like value with `redact` applied to every string and key; no recursion. */
function redactValue(input: unknown, redact: (text: string) => string): unknown {
  if (typeof input === "string") return redact(input);
  if (input === null || typeof input !== "object") return input;
  const copies = new Map<object, unknown>();
  const makeCopy = (from: object): unknown => {
    const to: unknown = Array.isArray(from) ? new Array<unknown>(from.length) : {};
    copies.set(from, to);
    stack.push([from, to as Record<string, unknown>]);
    return to;
  };
  const stack: [object, Record<string, unknown> | unknown[]][] = [];
  const root = makeCopy(input);
  while (stack.length > 0) {
    const [from, to] = stack.pop()!;
    if (Array.isArray(from)) {
      for (let i = 0; i < from.length; i++) (to as unknown[])[i] = copyOf(from[i]);
    } else {
      for (const [key, child] of Object.entries(from))
        (to as Record<string, unknown>)[redact(key)] = copyOf(child);
    }
  }
  return root;

  function copyOf(value: unknown): unknown {
    // As JSON.stringify would see it: a Date, URL or Secret becomes its JSON form first.
    const child =
      value !== null &&
      typeof value === "object" &&
      typeof (value as { toJSON?: unknown }).toJSON === "function"
        ? (value as { toJSON: () => unknown }).toJSON()
        : value;
    if (typeof child === "string") return redact(child);
    if (child === null || typeof child !== "object") return child;
    if (ArrayBuffer.isView(child)) return child; // bytes (an image) are not text
    return copies.get(child) ?? makeCopy(child);
  }
}

/**
 * A redactor over a list of secrets that may grow (a logger's registrations): rebuilt whenever the
 * list changes, so a key registered after the redactor was handed out is still masked.
 */
export function liveRedactor(source: () => readonly (string | undefined)[]): Redactor {
  let key = "";
  let current = createRedactor([]);
  const get = () => {
    const secrets = source();
    const next = secrets.join("\u0000");
    if (next !== key) {
      key = next;
      current = createRedactor(secrets);
    }
    return current;
  };
  return {
    text: (text) => get().text(text),
    value: (value) => get().value(value),
    leaks: (text) => get().leaks(text),
  };
}
