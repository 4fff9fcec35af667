import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { captureLogger } from "../helpers/logger.js";

/** Each server has its own logger: secrets and level set for one never touch another in the same process. */
let fake: FakeFal;
let first: Harness;
let second: Harness;
const firstLines: string[] = [];
const secondLines: string[] = [];

beforeAll(async () => {
  fake = await startFakeFal();
  const firstLogger = captureLogger(firstLines, "warning");
  firstLogger.redactSecret("does-not-exist");
  first = await startHarness({ baseUrl: fake.url, logger: firstLogger });
  second = await startHarness({ baseUrl: fake.url, logger: captureLogger(secondLines, "warning") });
});

afterAll(async () => {
  await first.close();
  await second.close();
  await fake.close();
});

const missing = { endpoint_id: "fal-ai/does-not-exist" };

describe("two servers in one process", () => {
  it("do not share redaction: a secret of one server is masked only in its own lines", async () => {
    await first.call("get_model_schema", missing);
    await second.call("get_model_schema", missing);
    expect(firstLines.join("\n")).toContain("fal-ai/<redacted>");
    expect(firstLines.join("\n")).not.toContain("does-not-exist");
    expect(secondLines.join("\n")).toContain("fal-ai/does-not-exist");
    expect(secondLines.join("\n")).not.toContain("<redacted>");
  });

  it("do not share the level: raising one server's level leaves the other's as it was", async () => {
    first.services.logger.setLevel("error");
    const before = { first: firstLines.length, second: secondLines.length };
    await first.call("get_model_schema", missing);
    await second.call("get_model_schema", missing);
    expect(firstLines.length).toBe(before.first);
    expect(secondLines.length).toBeGreaterThan(before.second);
  });
});
