import { describe, expect, it } from "vitest";
import {
  JsonTooDeepError,
  assertValueDepth,
  clampDepth,
  jsonTextDepth,
  parseBoundedJson,
  tryParseBoundedJson,
  valueDepth,
} from "../../src/util/json-bounds.js";

const deepText = (levels: number) => "[".repeat(levels) + "]".repeat(levels);
/** A value nested `levels` deep, built without recursion (as a hostile parse would return it). */
function deepValue(levels: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < levels; i++) value = { next: value };
  return value;
}

describe("jsonTextDepth", () => {
  it("counts nesting outside strings only", () => {
    expect(jsonTextDepth('{"a":[1,{"b":"[[[{"}]}')).toBe(3);
    expect(jsonTextDepth('"\\"[[["')).toBe(0);
    expect(jsonTextDepth("42")).toBe(0);
  });
  it("stops early past the limit", () => expect(jsonTextDepth(deepText(100_000), 10)).toBe(11));
});

describe("parseBoundedJson", () => {
  it("refuses a 5,000-deep text before parsing", () => {
    expect(() => parseBoundedJson(deepText(5000), { what: "the result" })).toThrow(JsonTooDeepError);
    expect(() => parseBoundedJson(deepText(5000), { what: "the result" })).toThrow(
      /the result is nested more than 128 levels/,
    );
  });
  it("accepts nesting up to the limit", () => {
    expect(parseBoundedJson(deepText(128))).toBeDefined();
    expect(() => parseBoundedJson(deepText(129))).toThrow(JsonTooDeepError);
  });
  it("decides by the nesting, not the count of brackets, once there are more than the limit", () => {
    // 200 flat brackets (and 200 inside a string) pass the count, so the scan decides: depth 2.
    const flat = JSON.stringify({ list: Array.from({ length: 200 }, () => []), text: "[".repeat(200) });
    expect(parseBoundedJson(flat)).toMatchObject({ text: "[".repeat(200) });
    // Brackets in strings do not nest: a 129-deep-looking string is depth 1.
    expect(parseBoundedJson(JSON.stringify({ s: "{".repeat(129) + "[".repeat(129) }))).toBeDefined();
    // Exactly at the limit and one past it, with both kinds mixed.
    const mixed = (levels: number) => '[{"a":'.repeat(levels / 2) + "0" + "}]".repeat(levels / 2);
    expect(parseBoundedJson(mixed(128))).toBeDefined();
    expect(() => parseBoundedJson(mixed(130))).toThrow(JsonTooDeepError);
    expect(() => parseBoundedJson(deepText(129), { maxDepth: 128 })).toThrow(JsonTooDeepError);
    expect(parseBoundedJson(deepText(3), { maxDepth: 3 })).toEqual([[[]]]);
    expect(() => parseBoundedJson(deepText(4), { maxDepth: 3 })).toThrow(JsonTooDeepError);
  });
  it("tryParseBoundedJson: undefined for invalid JSON, still refuses depth", () => {
    expect(tryParseBoundedJson("{nope")).toBeUndefined();
    expect(() => tryParseBoundedJson(deepText(500))).toThrow(JsonTooDeepError);
  });
});

describe("valueDepth without recursion", () => {
  it("measures a 100,000-deep value without overflowing the stack", () => {
    expect(valueDepth(deepValue(100_000))).toBe(100_000);
    expect(valueDepth(deepValue(100_000), 200)).toBe(201);
  });
  it("scalars are 0, containers 1", () => {
    expect(valueDepth("x")).toBe(0);
    expect(valueDepth([])).toBe(1);
    expect(valueDepth({ a: [{ b: 1 }] })).toBe(3);
  });
  it("survives cycles", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(valueDepth(cyclic)).toBe(1);
  });
  it("assertValueDepth refuses a deep value", () => {
    expect(() => assertValueDepth(deepValue(5000), 128, "the output")).toThrow(
      /the output is nested more than 128/,
    );
    expect(() => assertValueDepth(deepValue(10))).not.toThrow();
  });
});

describe("clampDepth", () => {
  it("cuts below the limit without recursion, keeping what is above", () => {
    const clamped = clampDepth({ images: [{ url: "u" }], deep: deepValue(50_000) }, 3) as Record<
      string,
      unknown
    >;
    expect(clamped.images).toEqual([{ url: "u" }]);
    expect(valueDepth(clamped)).toBeLessThanOrEqual(3);
    expect(JSON.stringify(clamped)).toContain("[nested too deep]");
  });
  it("leaves shallow values equal", () => {
    const value = { a: [1, 2, { b: "c" }], d: null };
    expect(clampDepth(value, 10)).toEqual(value);
  });
});
