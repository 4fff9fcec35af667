import { describe, expect, it } from "vitest";
import type { HistoryItem } from "../../src/fal/billing.js";
import { summarizeInput } from "../../src/jobs/input-summary.js";
import { matchAttempt, resolveAttempt } from "../../src/jobs/resolve-submit.js";

const at = new Date("2026-12-01T10:00:00Z");
const item = (requestId: string, offsetMs: number, input?: unknown): HistoryItem => ({
  requestId,
  endpointId: "a/b",
  receivedAt: new Date(at.getTime() + offsetMs).toISOString(),
  statusCode: 200,
  input,
});
const longPrompt = "p".repeat(1000);
const attempt = { submittedAt: at, inputSummary: summarizeInput({ prompt: longPrompt, num_images: 1 }) };

describe("matchAttempt", () => {
  it("finds the request whose stored input is the one sent, near the attempt", () => {
    const items = [
      item("other", 1000, { prompt: "something else", num_images: 1 }),
      item("mine", 1500, { num_images: 1, prompt: longPrompt }),
      item("too-late", 20 * 60_000, { prompt: longPrompt, num_images: 1 }),
    ];
    expect(matchAttempt(attempt, items, summarizeInput)).toEqual({
      kind: "found",
      requestId: "mine",
      matchedBy: "input",
    });
  });

  it("reports several matches instead of guessing, and none when nothing matches", () => {
    const same = { prompt: longPrompt, num_images: 1 };
    expect(matchAttempt(attempt, [item("a", 1000, same), item("b", 2000, same)], summarizeInput)).toEqual({
      kind: "several",
      requestIds: ["a", "b"],
    });
    expect(matchAttempt(attempt, [item("a", 1000, { prompt: "x" })], summarizeInput)).toEqual({
      kind: "none",
    });
  });

  it("without stored inputs takes only a single request within a minute of the attempt", () => {
    expect(matchAttempt(attempt, [item("a", 20_000)], summarizeInput)).toEqual({
      kind: "found",
      requestId: "a",
      matchedBy: "time",
    });
    expect(matchAttempt(attempt, [item("a", 20_000), item("b", 30_000)], summarizeInput).kind).toBe(
      "several",
    );
    expect(matchAttempt(attempt, [item("a", 5 * 60_000)], summarizeInput).kind).toBe("none");
  });

  it("never resolves to a request that already has a local record", () => {
    const items = [item("known", 1000, { prompt: longPrompt, num_images: 1 })];
    expect(
      matchAttempt({ ...attempt, knownRequestIds: new Set(["known"]) }, items, summarizeInput).kind,
    ).toBe("none");
  });
});

describe("resolveAttempt", () => {
  it("looks once more after a short delay when the request has not appeared yet", async () => {
    const answers: HistoryItem[][] = [[], [item("late", 1000, { prompt: longPrompt, num_images: 1 })]];
    const windows: Date[][] = [];
    const resolution = await resolveAttempt({
      attempt,
      history: async (start, end) => (windows.push([start, end]), answers.shift() ?? []),
      summarize: summarizeInput,
      sleep: async () => {},
      now: () => new Date(at.getTime() + 5000),
    });
    expect(resolution).toEqual({ kind: "found", requestId: "late", matchedBy: "input" });
    expect(windows).toHaveLength(2);
    expect(windows[0]?.[0]?.getTime()).toBeLessThan(at.getTime());
  });
});
