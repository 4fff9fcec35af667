import { describe, expect, it } from "vitest";
import { CallCounter } from "../../src/util/call-counter.js";

describe("CallCounter", () => {
  it("counts calls until each leaves, once", () => {
    const calls = new CallCounter();
    const first = calls.enter();
    const second = calls.enter();
    expect(calls.running).toBe(2);
    first();
    first();
    expect(calls.running).toBe(1);
    second();
    expect(calls.running).toBe(0);
  });
});
