import { describe, expect, it } from "vitest";
import {
  dropUnsubstitutedPlaceholders,
  ignoredSettingWarning,
  isUnsubstituted,
  unsubstitutedPlaceholders,
} from "../../src/util/unsubstituted.js";

describe("unsubstituted template values", () => {
  it("recognises the template syntaxes Desktop, plugins and clients write", () => {
    for (const value of [
      "${user_config.output_dir}",
      "${user_config.max-cost}",
      "${HOME}/Pictures/fal",
      "${__dirname}/server/index.js",
      "C:${/}fal",
      "${FAL_KEY}",
    ])
      expect(isUnsubstituted(value), value).toBe(true);
  });

  it("leaves real values alone, including ones with dollars and braces", () => {
    for (const value of [
      "test-key-id:test-key-secret",
      "/Users/me/Pictures/fal",
      "C:\\Users\\me\\fal",
      "2.50",
      "$HOME/fal",
      "price is ${",
      "${}",
      "{user_config.x}",
      "",
    ])
      expect(isUnsubstituted(value), value).toBe(false);
  });

  it("names every placeholder in a value", () => {
    expect(unsubstitutedPlaceholders("${HOME}/a:${user_config.dirs}")).toEqual([
      "${HOME}",
      "${user_config.dirs}",
    ]);
  });

  it("drops exactly the unsubstituted variables and keeps the rest, without changing the input", () => {
    const env = {
      FAL_KEY: "test-key",
      FAL_MCP_OUTPUT_DIR: "${user_config.output_dir}",
      FAL_MCP_MAX_COST_PER_CALL: "${user_config.max_cost_per_call}",
      FAL_MCP_MAX_COST_PER_DAY: "5",
      FAL_MCP_LOG_LEVEL: undefined,
    };
    const before = { ...env };
    const { env: kept, ignored } = dropUnsubstitutedPlaceholders(env);
    expect(kept).toEqual({
      FAL_KEY: "test-key",
      FAL_MCP_MAX_COST_PER_DAY: "5",
      FAL_MCP_LOG_LEVEL: undefined,
    });
    expect(ignored).toEqual([
      { name: "FAL_MCP_OUTPUT_DIR", placeholders: ["${user_config.output_dir}"] },
      { name: "FAL_MCP_MAX_COST_PER_CALL", placeholders: ["${user_config.max_cost_per_call}"] },
    ]);
    expect(env).toEqual(before);
  });

  it("never takes a templated key as a key, and its warning shows the template, not the value", () => {
    const { env, ignored } = dropUnsubstitutedPlaceholders({ FAL_KEY: "secret-part${user_config.fal_key}" });
    expect(env).toEqual({});
    const warning = ignoredSettingWarning(ignored[0]!);
    expect(warning).toContain("Ignoring FAL_KEY");
    expect(warning).toContain("${user_config.fal_key}");
    expect(warning).not.toContain("secret-part");
  });
});
