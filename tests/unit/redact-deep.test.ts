import { describe, expect, it } from "vitest";
import { REDACTED, createRedactor, secretForms } from "../../src/util/redact-deep.js";

const key = "4f1c2d3e-aaaa-bbbb-cccc-1234567890ab:0123456789abcdef0123456789abcdef";
const secretHalf = key.split(":")[1]!;
const redactor = createRedactor([key]);

describe("createRedactor", () => {
  it("masks the key, its halves and its encoded forms in text", () => {
    for (const leak of [
      key,
      `Authorization: Key ${key}`,
      `https://v3.fal.media/x.png?key=${encodeURIComponent(key)}`,
      `https://v3.fal.media/x.png?key=${encodeURIComponent(key).replace("%3A", "%3a")}`,
      `token=${secretHalf}`,
      `Basic ${Buffer.from(key).toString("base64")}`,
      `double ${encodeURIComponent(encodeURIComponent(key))}`,
    ]) {
      const out = redactor.text(leak);
      expect(out, leak).toContain(REDACTED);
      expect(out).not.toContain(secretHalf);
      expect(redactor.leaks(out), out).toBe(false);
      expect(redactor.leaks(leak)).toBe(true);
    }
  });

  it("masks an encoded key after characters that lower-casing lengthens, and cuts nothing else", () => {
    // "İ" lower-cases to two code units: an index found in a lower-cased copy pointed past the key.
    // Parts this short are not masked on their own, so only the encoded whole key can catch it.
    const shortKey = "shortid:shortsecret";
    const short = createRedactor([shortKey]);
    for (const prefix of ["İ".repeat(50), "ẞİ".repeat(7), "İ"]) {
      for (const encoded of [
        encodeURIComponent(shortKey),
        encodeURIComponent(encodeURIComponent(shortKey)),
      ]) {
        const out = short.text(`${prefix}${encoded.replace("%3A", "%3a")} tail`);
        expect(out).toBe(`${prefix}${REDACTED} tail`);
        expect(short.leaks(out)).toBe(false);
      }
    }
  });

  it("masks strings anywhere and object keys in a value, leaving the input unchanged", () => {
    const input = {
      images: [{ url: `https://cdn.test/a.png?sig=${encodeURIComponent(key)}` }],
      logs: [{ message: `using ${key}` }],
      [key]: "as a key",
      nested: { list: [1, true, null, secretHalf] },
    };
    const out = redactor.value(input);
    const text = JSON.stringify(out);
    expect(text).not.toContain(secretHalf);
    expect(redactor.leaks(text)).toBe(false);
    expect(out.nested.list.slice(0, 3)).toEqual([1, true, null]);
    expect(JSON.stringify(input)).toContain(key);
  });

  it("walks a 100,000-deep value without recursion", () => {
    let value: unknown = key;
    for (let i = 0; i < 100_000; i++) value = [value];
    const out = redactor.value(value);
    let bottom: unknown = out;
    while (Array.isArray(bottom)) bottom = bottom[0];
    expect(bottom).toBe(REDACTED);
  });

  it("keeps bytes and sees objects as JSON would", () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const out = redactor.value({ bytes, when: new Date(0), url: new URL(`https://x.test/?k=${key}`) });
    expect(out.bytes).toBe(bytes);
    expect(out.when).toBe("1970-01-01T00:00:00.000Z");
    expect(String(out.url)).not.toContain(secretHalf);
  });

  it("is the identity with no secret, and ignores short parts", () => {
    expect(createRedactor([undefined]).value({ a: "b" })).toEqual({ a: "b" });
    expect(secretForms(["short:ab"])).not.toContain("ab");
  });
});
