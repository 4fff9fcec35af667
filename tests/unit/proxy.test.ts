import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { proxyFor } from "../../src/fal/proxy.js";

const config = (env: Record<string, string>) => loadConfig({ env, homeDir: "/nonexistent-home" });

describe("proxy settings", () => {
  it("is off without a proxy variable, whatever NO_PROXY says", () => {
    expect(config({}).proxy).toBeUndefined();
    expect(config({ NO_PROXY: "*" }).proxy).toBeUndefined();
  });

  it("reads the lowercase form first, and a bare host:port as http://", () => {
    const proxy = config({
      https_proxy: "proxy.corp:3128",
      HTTPS_PROXY: "http://other:1",
      NO_PROXY: "a.b",
    }).proxy;
    expect(proxy).toEqual({ httpsProxy: "http://proxy.corp:3128/", httpProxy: undefined, noProxy: "a.b" });
    expect(config({ HTTP_PROXY: "http://p:8080", no_proxy: "x", NO_PROXY: "y" }).proxy?.noProxy).toBe("x");
  });

  it("refuses a proxy that is not an http(s) URL, without echoing it (it may hold a password)", () => {
    expect(() => config({ HTTPS_PROXY: "socks5://user:hunter2@p:1080" })).toThrow(
      /HTTPS_PROXY must be an http\(s\) proxy URL/,
    );
    expect(() => config({ HTTPS_PROXY: "socks5://user:hunter2@p:1080" })).not.toThrow(/hunter2/);
  });
});

describe("proxyFor (the PUTs' route, undici's EnvHttpProxyAgent rules)", () => {
  const proxy = (noProxy: string, httpsProxy?: string) => ({
    httpProxy: "http://p:1/",
    httpsProxy,
    noProxy,
  });
  const cases: [string, string, string | undefined, string | undefined][] = [
    ["https://v3.fal.media/upload/x", "", undefined, "http://p:1/"], // https falls back to the http proxy
    ["https://v3.fal.media/upload/x", "", "http://s:2/", "http://s:2/"],
    ["http://127.0.0.1:8787/x", "127.0.0.1", undefined, undefined],
    ["http://127.0.0.1:8787/x", "127.0.0.1:8787", undefined, undefined],
    ["http://127.0.0.1:8787/x", "127.0.0.1:9", undefined, "http://p:1/"],
    ["https://v3.fal.media/x", ".fal.media", undefined, undefined],
    ["https://v3.fal.media/x", "*.fal.media", undefined, undefined],
    ["https://v3.fal.media/x", "fal.media", undefined, undefined],
    ["https://evilfal.media/x", "fal.media", undefined, "http://p:1/"],
    ["https://v3.fal.media/x", "example.com other.org", undefined, "http://p:1/"],
    ["https://v3.fal.media/x", "*", undefined, undefined],
    ["https://V3.FAL.MEDIA/x", "v3.fal.media", undefined, undefined],
  ];
  for (const [url, noProxy, httpsProxy, expected] of cases) {
    it(`${url} with NO_PROXY="${noProxy}" → ${expected ?? "direct"}`, () => {
      expect(proxyFor(new URL(url), proxy(noProxy, httpsProxy))).toBe(expected);
    });
  }
  it("no proxy configured → direct", () => {
    expect(proxyFor(new URL("https://fal.run/x"), undefined)).toBeUndefined();
  });
});
