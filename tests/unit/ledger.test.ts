import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DailyLedger, localDay, spentBy } from "../../src/jobs/ledger.js";

describe("localDay", () => {
  it("is the calendar day of the given time zone, not UTC's", () => {
    const instant = new Date("2026-12-01T03:30:00Z");
    expect(localDay(instant, "UTC")).toBe("2026-12-01");
    expect(localDay(instant, "America/Los_Angeles")).toBe("2026-11-30");
    expect(localDay(instant, "Asia/Tokyo")).toBe("2026-12-01");
  });
});

describe("spentBy", () => {
  it("counts the cost afterwards over the estimate, and 0 for neither", () => {
    expect(spentBy({ submitted_at: "x", estimate_usd: 1, cost_usd: 0.4 })).toEqual({
      amount: 0.4,
      kind: "cost",
    });
    expect(spentBy({ submitted_at: "x", estimate_usd: 1 })).toEqual({ amount: 1, kind: "estimate" });
    expect(spentBy({ submitted_at: "x" })).toEqual({ amount: 0, kind: "unknown" });
  });
});

describe("DailyLedger", () => {
  const now = () => new Date("2026-12-01T20:00:00Z");
  const records = [
    { submitted_at: "2026-12-01T19:00:00Z", estimate_usd: 0.5 },
    { submitted_at: "2026-12-01T09:00:00Z", estimate_usd: 2, cost_usd: 1.25 },
    { submitted_at: "2026-12-01T07:00:00Z", estimate_usd: 9 }, // the day before in Los Angeles
    { submitted_at: "2026-12-01T10:00:00Z" },
    { not: "a record" },
  ];

  it("sums the local day's records: cost when known, estimate otherwise", async () => {
    const ledger = new DailyLedger({ records: async () => records, timeZone: "America/Los_Angeles", now });
    expect(await ledger.today()).toEqual({ day: "2026-12-01", spent: 1.75, jobs: 3, unknown: 1 });
    const utc = new DailyLedger({ records: async () => records, timeZone: "UTC", now });
    expect((await utc.today()).spent).toBe(10.75);
  });

  it("asks the record for a window that covers the whole local day", async () => {
    let asked: Date | undefined;
    const ledger = new DailyLedger({ records: async (since) => ((asked = since), []), now });
    await ledger.today();
    expect(now().getTime() - asked!.getTime()).toBeGreaterThanOrEqual(26 * 3600_000);
  });

  it("holds calls under way until released", async () => {
    const ledger = new DailyLedger({ records: async () => [], timeZone: "UTC", now });
    const first = await ledger.reserve(3);
    const other = await ledger.reserve(1);
    expect((await ledger.today()).spent).toBe(4);
    // The caller's own hold is left out of the spending it checks against.
    expect((await ledger.today({ except: other })).spent).toBe(3);
    await first.release();
    expect((await ledger.today()).spent).toBe(1);
    await other.release();
    await other.release();
    expect((await ledger.today()).spent).toBe(0);
  });

  it("sees the holds of another process sharing the folder, and ignores stale or foreign files", async () => {
    const holdsDirectory = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-holds-"));
    try {
      const one = new DailyLedger({ records: async () => [], timeZone: "UTC", now, holdsDirectory });
      const two = new DailyLedger({ records: async () => [], timeZone: "UTC", now, holdsDirectory });
      const held = await one.reserve(2.5);
      expect((await two.today()).spent).toBe(2.5);
      // Its own hold is counted once (from memory), not again from its file.
      expect((await one.today()).spent).toBe(2.5);
      await fs.writeFile(path.join(holdsDirectory, "junk.json"), "{not json");
      await fs.writeFile(
        path.join(holdsDirectory, "neg.json"),
        JSON.stringify({ day: "2026-12-01", amount: -5 }),
      );
      await fs.writeFile(
        path.join(holdsDirectory, "old.json"),
        JSON.stringify({ day: "2026-12-01", amount: 7 }),
      );
      const longAgo = new Date(Date.now() - 7 * 3600_000);
      await fs.utimes(path.join(holdsDirectory, "old.json"), longAgo, longAgo);
      expect((await two.today()).spent).toBe(2.5);
      await held.release();
      expect((await two.today()).spent).toBe(0);
    } finally {
      await fs.rm(holdsDirectory, { recursive: true, force: true });
    }
  });
});
