import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { AccessDeniedError } from "../../src/errors.js";
import { createFal } from "../../src/fal/index.js";
import {
  assertHostAllowed,
  classifyAddress,
  guardedLookup,
  type Resolver,
} from "../../src/files/address-policy.js";
import { uploadFromUrl } from "../../src/files/upload-from-url.js";

// The cases of the first URL guard, now checked by the connect-time address policy.
const resolver =
  (table: Record<string, string[]>): Resolver =>
  async (host: string) => {
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

describe("classifyAddress (the first guard's cases)", () => {
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
  ])("%s is not public", (address) => expect(classifyAddress(address)).not.toBe("public"));
  it.each(["8.8.8.8", "172.32.0.1", "151.101.1.1", "2606:4700::1111", "::ffff:8.8.8.8"])(
    "%s is public",
    (address) => expect(classifyAddress(address)).toBe("public"),
  );
});

const dnsTable = resolver({
  "cdn.example.com": ["151.101.1.1"],
  "evil.example.com": ["151.101.1.1", "127.0.0.1"],
  "intranet.corp": ["10.0.0.7"],
  "media.test": ["127.0.0.1"],
});

function lookup(host: string, allowPrivate: boolean): Promise<unknown> {
  return new Promise((resolve, reject) =>
    guardedLookup({ allowPrivate }, dnsTable)(host, { all: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );
}

describe("the address policy on names and literals", () => {
  it("allows public hosts", async () => {
    await expect(lookup("cdn.example.com", false)).resolves.toHaveLength(1);
    expect(() => assertHostAllowed("8.8.8.8", { allowPrivate: false })).not.toThrow();
  });

  it("refuses loopback, private and any-private-answer hosts", async () => {
    for (const host of ["localhost", "app.localhost", "127.0.0.1", "[::1]"])
      expect(() => assertHostAllowed(host, { allowPrivate: false }), host).toThrow(
        /FAL_MCP_ALLOW_PRIVATE_URLS=1/,
      );
    for (const host of ["intranet.corp", "evil.example.com"])
      await expect(lookup(host, false), host).rejects.toThrow(/FAL_MCP_ALLOW_PRIVATE_URLS=1/);
  });

  it("allows private hosts only when the setting says so, and never metadata addresses", async () => {
    expect(() => assertHostAllowed("10.0.0.7", { allowPrivate: true })).not.toThrow();
    expect(() => assertHostAllowed("169.254.169.254", { allowPrivate: true })).toThrow(/cloud-metadata/);
    expect(() => assertHostAllowed("metadata.google.internal", { allowPrivate: true })).toThrow(
      /cloud-metadata/,
    );
  });

  it("reports an unknown host as a look-up failure", async () => {
    await expect(lookup("nowhere.invalid", false)).rejects.toMatchObject({ code: "ENOTFOUND" });
  });
});

describe("uploadFromUrl follows redirects by hand", () => {
  let server: http.Server;
  let port = 0;
  const requested: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requested.push(req.url ?? "");
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("checks every hop: a redirect to a metadata address is refused before the second request", async () => {
    const fal = createFal({
      config: loadConfig({ env: { FAL_KEY: "test-key" }, homeDir: "/nonexistent-home" }),
    });
    const error = await uploadFromUrl(`http://media.test:${port}/a.png`, {
      fal,
      signal: new AbortController().signal,
      maxBytes: 1024,
      allowPrivateUrls: true,
      resolve: dnsTable,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as Error).message).toContain("169.254.169.254");
    expect(requested).toEqual(["/a.png"]);
  });
});
