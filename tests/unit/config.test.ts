import { describe, expect, it } from "vitest";
import { inspect } from "node:util";
import path from "node:path";
import { ConfigError, defaultStateDir, loadConfig, resolveUserPath } from "../../src/config.js";

const home = path.resolve("/home/alice");

describe("loadConfig", () => {
  it("uses absolute defaults in the home folder, never the working directory", () => {
    const config = loadConfig({ env: {}, homeDir: home, platform: "linux" });
    expect(config.outputDir).toBe(path.join(home, "fal-mcp"));
    expect(config.stateDir).toBe(path.join(home, ".local", "state", "fal-mcp"));
    expect(config.waitSeconds).toBe(45);
    expect(config.inlinePreviewBytes).toBe(900 * 1024);
    expect(config.maxUploadBytes).toBe(2 * 1024 ** 3);
    expect(config.falKey).toBeUndefined();
    expect(config.allowedDirs).toBeUndefined();
    expect(config.allowHidden).toBe(false);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads FAL_KEY first, else FAL_KEY_ID + FAL_KEY_SECRET", () => {
    expect(loadConfig({ env: { FAL_KEY: "abc123456" }, homeDir: home }).falKey?.reveal()).toBe("abc123456");
    const pair = loadConfig({ env: { FAL_KEY_ID: "id-123", FAL_KEY_SECRET: "secret-456" }, homeDir: home });
    expect(pair.falKey?.reveal()).toBe("id-123:secret-456");
    expect(pair.falKeySource).toBe("FAL_KEY_ID+FAL_KEY_SECRET");
    expect(loadConfig({ env: { FAL_KEY_ID: "id-only" }, homeDir: home }).falKey).toBeUndefined();
  });

  it("never shows the key when the config is printed or serialised", () => {
    const config = loadConfig({ env: { FAL_KEY: "super-secret-key-value" }, homeDir: home });
    expect(JSON.stringify(config)).not.toContain("super-secret-key-value");
    expect(inspect(config, { depth: 5 })).not.toContain("super-secret-key-value");
    expect(`${String(config.falKey)}`).toBe("<redacted>");
  });

  it("expands ~ and resolves relative paths against home", () => {
    const config = loadConfig({
      env: {
        FAL_MCP_OUTPUT_DIR: "~/Pictures/fal",
        FAL_MCP_STATE_DIR: "state",
        FAL_MCP_ALLOWED_DIRS: ["~/Documents", "/srv/media", ""].join(path.delimiter),
      },
      homeDir: home,
    });
    expect(config.outputDir).toBe(path.join(home, "Pictures", "fal"));
    expect(config.stateDir).toBe(path.join(home, "state"));
    expect(config.allowedDirs).toEqual([path.join(home, "Documents"), path.resolve("/srv/media")]);
    expect(resolveUserPath("~", home)).toBe(home);
    // Only the relative one is named for the start-up warning; ~ and absolute paths say what they mean.
    expect(config.relativePaths).toEqual([
      { name: "FAL_MCP_STATE_DIR", given: "state", resolved: path.join(home, "state") },
    ]);
    const relative = loadConfig({
      env: { FAL_MCP_ALLOWED_DIRS: ["Pictures", "~/Documents", "./media"].join(path.delimiter) },
      homeDir: home,
    });
    expect(relative.relativePaths.map(({ given }) => given)).toEqual(["Pictures", "./media"]);
    expect(loadConfig({ env: {}, homeDir: home }).relativePaths).toEqual([]);
  });

  it("parses numbers and flags, and rejects bad values with the variable's name and range", () => {
    const config = loadConfig({
      env: { FAL_MCP_WAIT_SECONDS: "120", FAL_MCP_INLINE_PREVIEW_BYTES: "0", FAL_MCP_ALLOW_HIDDEN: "1" },
      homeDir: home,
    });
    expect(config.waitSeconds).toBe(120);
    expect(config.inlinePreviewBytes).toBe(0);
    expect(config.allowHidden).toBe(true);
    expect(() => loadConfig({ env: { FAL_MCP_WAIT_SECONDS: "601" }, homeDir: home })).toThrow(
      /FAL_MCP_WAIT_SECONDS must be a whole number from 0 to 600/,
    );
    expect(() => loadConfig({ env: { FAL_MCP_WAIT_SECONDS: "soon" }, homeDir: home })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { FAL_MCP_BASE_URL: "ftp://x" }, homeDir: home })).toThrow(
      /FAL_MCP_BASE_URL/,
    );
  });

  it("strips a trailing slash from FAL_MCP_BASE_URL", () => {
    expect(loadConfig({ env: { FAL_MCP_BASE_URL: "http://127.0.0.1:8787/" }, homeDir: home }).baseUrl).toBe(
      "http://127.0.0.1:8787",
    );
  });

  it("picks the platform's state folder", () => {
    expect(defaultStateDir({}, home, "darwin")).toBe(
      path.join(home, "Library", "Application Support", "fal-mcp"),
    );
    expect(defaultStateDir({ XDG_STATE_HOME: "/xdg/state" }, home, "linux")).toBe(
      path.join("/xdg/state", "fal-mcp"),
    );
    expect(defaultStateDir({ LOCALAPPDATA: "C:\\Users\\a\\AppData\\Local" }, home, "win32")).toContain(
      "fal-mcp",
    );
  });
});

describe("settings are strict (issue 11)", () => {
  it.each(["FAL_MCP_ALLOW_HIDDEN", "FAL_MCP_ALLOW_PRIVATE_URLS", "FAL_MCP_ALLOW_SENSITIVE_FILES"])(
    "%s accepts exactly the documented forms and names itself otherwise",
    (name) => {
      for (const on of ["1", "true", "YES", " on "])
        expect(loadConfig({ env: { [name]: on }, homeDir: "/home/u" })).toBeDefined();
      for (const bad of ["2", "enabled", "y"]) {
        expect(() => loadConfig({ env: { [name]: bad }, homeDir: "/home/u" }), bad).toThrow(
          new RegExp(`${name} must be one of 1, true, yes, on \\(on\\) or 0, false, no, off \\(off\\)`),
        );
      }
    },
  );

  it("a FAL_MCP_* variable that is no setting is reported with the closest one (a typo never drops a cap in silence)", () => {
    const config = loadConfig({
      env: { FAL_MCP_MAX_COST_PER_DAYS: "5", FAL_MCP_ALLOWED_DIR: "/x", FAL_MCP_NOTHING_LIKE_IT_AT_ALL: "1" },
      homeDir: "/home/u",
    });
    expect(config.unknownSettings).toEqual([
      { name: "FAL_MCP_MAX_COST_PER_DAYS", closest: "FAL_MCP_MAX_COST_PER_DAY" },
      { name: "FAL_MCP_ALLOWED_DIR", closest: "FAL_MCP_ALLOWED_DIRS" },
      { name: "FAL_MCP_NOTHING_LIKE_IT_AT_ALL", closest: undefined },
    ]);
    expect(
      loadConfig({ env: { FAL_MCP_MAX_COST_PER_DAY: "5" }, homeDir: "/home/u" }).unknownSettings,
    ).toEqual([]);
  });

  it("FAL_MCP_LOG_LEVEL=verbose names the variable, the allowed values and what was given", () => {
    expect(() => loadConfig({ env: { FAL_MCP_LOG_LEVEL: "verbose" }, homeDir: "/home/u" })).toThrow(
      'FAL_MCP_LOG_LEVEL must be one of debug, info, warning, error (got "verbose")',
    );
  });

  it("every number setting names itself and its range", () => {
    expect(() => loadConfig({ env: { FAL_MCP_MAX_RESULT_BYTES: "12" }, homeDir: "/home/u" })).toThrow(
      /FAL_MCP_MAX_RESULT_BYTES must be a whole number from 16384 to 10485760 \(got "12"\)/,
    );
    // Digits only: what Number() would also accept is refused by name.
    for (const raw of ["1e5", "0x20000", "200000.0", "+200000", "2e5 "])
      expect(() => loadConfig({ env: { FAL_MCP_MAX_RESULT_BYTES: raw }, homeDir: "/home/u" }), raw).toThrow(
        /FAL_MCP_MAX_RESULT_BYTES must be a whole number/,
      );
    expect(
      loadConfig({ env: { FAL_MCP_MAX_RESULT_BYTES: " 200000 " }, homeDir: "/home/u" }).maxResultBytes,
    ).toBe(200000);
  });
});
