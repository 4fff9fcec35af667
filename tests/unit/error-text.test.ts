import { describe, expect, it } from "vitest";
import { errorText, NotFoundError } from "../../src/errors.js";

describe("errorText", () => {
  it("says a cancelled or shut-down call was stopped, not that something unexpected failed", () => {
    const controller = new AbortController();
    controller.abort();
    const reasons: unknown[] = [
      controller.signal.reason, // DOMException AbortError, as fetch and streams raise it
      Object.assign(new Error("The operation was aborted"), { name: "AbortError" }),
      new Error("upload failed", { cause: controller.signal.reason }),
    ];
    for (const reason of reasons) {
      const text = errorText(reason);
      expect(text).toMatch(/^The call was stopped before it finished/);
      expect(text).toMatch(/Next step: call again/);
      expect(text).not.toMatch(/Unexpected error/);
    }
  });

  it("keeps typed errors' own text, and calls anything else unexpected", () => {
    expect(errorText(new NotFoundError("no such model", "search_models finds models"))).toBe(
      "no such model\nNext step: search_models finds models",
    );
    expect(errorText(new TypeError("x is not a function"))).toMatch(
      /^Unexpected error in fal-mcp: x is not a function\nNext step: try again/,
    );
  });
});
