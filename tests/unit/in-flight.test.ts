import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InFlightSubmits } from "../../src/jobs/in-flight.js";
import { ownTempFilesLikeTheEntryPoint } from "../helpers/temp-owner.js";
import { removeLiveTempsSync, sweepTemps, tempName, trackTemp } from "../../src/util/temp-files.js";

ownTempFilesLikeTheEntryPoint();

describe("InFlightSubmits", () => {
  it("drain returns at once with nothing open", async () => {
    expect(await new InFlightSubmits().drain(5000)).toEqual([]);
  });

  it("drain waits for an open section to end", async () => {
    const inFlight = new InFlightSubmits();
    const section = inFlight.begin({ endpointId: "fal-ai/flux/dev", tool: "run_model", input: {} });
    section.markSent();
    setTimeout(() => section.end(), 100);
    const started = Date.now();
    expect(await inFlight.drain(5000)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it("drain gives up after its bound and returns the sent sections with what they know", async () => {
    const inFlight = new InFlightSubmits();
    const sent = inFlight.begin({ endpointId: "fal-ai/a", tool: "submit_job", input: { prompt: "p" } });
    sent.markSent();
    sent.setRequestId("req-1");
    inFlight.begin({ endpointId: "fal-ai/b", tool: "submit_job", input: {} }); // never sent
    const started = Date.now();
    const left = await inFlight.drain(150);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(left).toEqual([
      expect.objectContaining({ endpointId: "fal-ai/a", requestId: "req-1", sent: true }),
    ]);
  });
});

describe("temporary files", () => {
  it("removes live temp files synchronously and sweeps those of dead writers only", async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "fal-mcp-temps-"));
    try {
      const mine = path.join(dir, tempName("image", "abc123", ".part"));
      fs.writeFileSync(mine, "x");
      trackTemp(mine);
      expect(removeLiveTempsSync()).toBe(1);
      expect(fs.existsSync(mine)).toBe(false);

      const dead = path.join(dir, ".image.999999999.ab12.part");
      const running = path.join(dir, `.record.json.${process.ppid}.cd34.tmp`);
      const unrelated = path.join(dir, "photo.png");
      for (const file of [dead, running, unrelated]) fs.writeFileSync(file, "x");
      expect(await sweepTemps(dir)).toBe(1);
      expect(fs.existsSync(dead)).toBe(false);
      expect(fs.existsSync(running)).toBe(true);
      expect(fs.existsSync(unrelated)).toBe(true);
      expect(await sweepTemps(dir, 0)).toBe(1); // older than the bound: gone whoever wrote it
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
