import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { AccessDeniedError, FalNetworkError } from "../../src/errors.js";
import { createFal } from "../../src/fal/index.js";
import { uploadFromUrl } from "../../src/files/upload-from-url.js";
import { assertFetchableUrl, isPrivateAddress } from "../../src/files/network-guard.js";

const resolver = (table: Record<string, string[]>) => async (host: string) => {
  const addresses = table[host];
  if (!addresses) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
  return addresses;
};

describe("isPrivateAddress", () => {
  it.each([
    "127.0.0.1",
    "10.0.0.5",
    "172.16.3.4",
    "172.31.255.255",
    "192.168.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "::",
    "fd12::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "[::1]",
  ])("%s is private", (address) => expect(isPrivateAddress(address)).toBe(true));
  it.each(["8.8.8.8", "172.32.0.1", "151.101.1.1", "2606:4700::1111", "::ffff:8.8.8.8"])(
    "%s is public",
    (address) => expect(isPrivateAddress(address)).toBe(false),
  );
});

const dnsTable = resolver({
  "cdn.example.com": ["151.101.1.1"],
  "evil.example.com": ["151.101.1.1", "127.0.0.1"],
  "intranet.corp": ["10.0.0.7"],
});

describe("assertFetchableUrl", () => {
  it("allows public hosts and fal's own hosts", async () => {
    await expect(
      assertFetchableUrl(new URL("https://cdn.example.com/a.png"), false, dnsTable),
    ).resolves.toBeUndefined();
    await expect(
      assertFetchableUrl(new URL("https://8.8.8.8/a.png"), false, dnsTable),
    ).resolves.toBeUndefined();
    // fal hosts are not looked up (they may be redirected to a fake or a proxy on loopback).
    await expect(
      assertFetchableUrl(new URL("https://fal.ai/x.png"), false, dnsTable),
    ).resolves.toBeUndefined();
  });

  it("refuses loopback, private and any-private-answer hosts, naming the setting", async () => {
    for (const url of [
      "http://localhost/a",
      "http://app.localhost/a",
      "http://127.0.0.1:8080/a",
      "http://[::1]/a",
      "http://intranet.corp/a",
      "http://evil.example.com/a",
    ]) {
      const error = await assertFetchableUrl(new URL(url), false, dnsTable).catch((e: unknown) => e);
      expect(error, url).toBeInstanceOf(AccessDeniedError);
      expect((error as AccessDeniedError).nextStep, url).toContain("FAL_MCP_ALLOW_PRIVATE_URLS=1");
    }
  });

  it("allows private hosts only when the setting says so, and never metadata addresses", async () => {
    await expect(assertFetchableUrl(new URL("http://10.0.0.7/a"), true, dnsTable)).resolves.toBeUndefined();
    await expect(
      assertFetchableUrl(new URL("http://169.254.169.254/latest/meta-data/"), true, dnsTable),
    ).rejects.toThrow(/cloud-metadata/);
    await expect(
      assertFetchableUrl(new URL("http://metadata.google.internal/"), true, dnsTable),
    ).rejects.toThrow(/cloud-metadata/);
  });

  it("reports an unknown host as a look-up failure", async () => {
    await expect(
      assertFetchableUrl(new URL("https://nowhere.invalid/a"), false, dnsTable),
    ).rejects.toBeInstanceOf(FalNetworkError);
  });
});

describe("uploadFromUrl follows redirects by hand", () => {
  it("checks every hop: a public URL redirecting to loopback is refused before the second request", async () => {
    const requested: string[] = [];
    const fetch = (async (input: string | URL | Request) => {
      const url = input instanceof Request ? input.url : input.toString();
      requested.push(url);
      return new Response(null, { status: 302, headers: { location: "http://127.0.0.1:6379/" } });
    }) as typeof globalThis.fetch;
    const fal = createFal({
      config: loadConfig({ env: { FAL_KEY: "test-key" }, homeDir: "/nonexistent-home" }),
      fetch,
    });
    const error = await uploadFromUrl("https://cdn.example.com/a.png", {
      fal,
      signal: new AbortController().signal,
      maxBytes: 1024,
      allowPrivateUrls: false,
      resolve: dnsTable,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as Error).message).toContain("127.0.0.1");
    expect(requested).toEqual(["https://cdn.example.com/a.png"]);
  });
});
