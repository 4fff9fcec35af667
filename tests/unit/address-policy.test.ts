import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AddressRefusedError,
  addressRefusal,
  assertHostAllowed,
  classifyAddress,
  guardedLookup,
  type Resolver,
} from "../../src/files/address-policy.js";

const PRIVATE = [
  "0.0.0.0",
  "0.1.2.3",
  "10.0.0.1",
  "100.64.0.1",
  "100.127.255.254",
  "127.0.0.1",
  "127.255.255.254",
  "172.16.0.1",
  "172.31.255.255",
  "192.0.0.8",
  "192.0.2.1",
  "192.168.1.1",
  "198.18.0.1",
  "198.51.100.7",
  "203.0.113.9",
  "224.0.0.1",
  "239.255.255.250",
  "240.0.0.1",
  "255.255.255.255",
  "::",
  "::1",
  "fc00::1",
  "fd12:3456::1",
  "fec0::1",
  "ff02::1",
  "100::1",
  "2001:db8::1",
  "::ffff:127.0.0.1",
  "::ffff:7f00:1",
  "::ffff:10.0.0.1",
  "::ffff:0:10.0.0.1",
  "::10.0.0.1",
  "::127.0.0.1",
  "64:ff9b::7f00:1",
  "64:ff9b::10.1.2.3",
  "64:ff9b:1::1",
  "2002:7f00:1::1",
  "2002:0808:0808::1",
  "2001:0:4136:e378:8000:63bf:f5ff:fffe", // Teredo, client 10.0.0.1
  "3fff::1",
  "5f00::1",
  "4000::1",
  "not-an-ip",
];
const METADATA = [
  "169.254.169.254",
  "169.254.170.2",
  "169.254.0.1",
  "100.100.100.200",
  "192.0.0.192",
  "fd00:ec2::254",
  "fd00:ec2::23",
  "fe80::1",
  "fe80::a9fe:a9fe%eth0",
  "::ffff:169.254.169.254",
  "::ffff:a9fe:a9fe",
  "::169.254.169.254",
  "64:ff9b::169.254.169.254",
  "2002:a9fe:a9fe::1",
  "[::ffff:100.100.100.200]",
];
const PUBLIC = [
  "8.8.8.8",
  "1.1.1.1",
  "151.101.1.1",
  "2606:4700::1111",
  "2a00:1450:4001::1",
  "::ffff:8.8.8.8",
  "64:ff9b::8.8.8.8",
];

describe("classifyAddress", () => {
  it.each(PRIVATE)("%s is private", (address) => expect(classifyAddress(address)).toBe("private"));
  it.each(METADATA)("%s is metadata", (address) => expect(classifyAddress(address)).toBe("metadata"));
  it.each(PUBLIC)("%s is public", (address) => expect(classifyAddress(address)).toBe("public"));
});

describe("assertHostAllowed", () => {
  it("refuses metadata names and addresses even when private URLs are allowed", () => {
    for (const host of [
      "metadata.google.internal",
      "METADATA.google.internal.",
      "metadata",
      "169.254.169.254",
      "[fd00:ec2::254]",
    ])
      expect(() => assertHostAllowed(host, { allowPrivate: true }), host).toThrow(AddressRefusedError);
  });
  it("refuses localhost names and private literals unless allowed", () => {
    for (const host of [
      "localhost",
      "app.localhost",
      "127.0.0.1",
      "[::1]",
      "[::ffff:127.0.0.1]",
      "10.1.2.3",
    ]) {
      expect(() => assertHostAllowed(host, { allowPrivate: false }), host).toThrow(/private network/);
      expect(() => assertHostAllowed(host, { allowPrivate: true }), host).not.toThrow();
    }
  });
  it("lets public literals and ordinary names through (names are checked at the lookup)", () => {
    expect(() => assertHostAllowed("8.8.8.8", { allowPrivate: false })).not.toThrow();
    expect(() => assertHostAllowed("example.test", { allowPrivate: false })).not.toThrow();
  });
});

/** A resolver with fixed answers that counts its calls. */
function stubResolver(answers: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve: Resolver = async (hostname) => {
    calls.push(hostname);
    const list = answers[hostname];
    if (!list) throw Object.assign(new Error(`no such host ${hostname}`), { code: "ENOTFOUND" });
    return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

describe("guardedLookup at connect time", () => {
  let server: http.Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end("hello"));
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function get(hostname: string, lookup: ReturnType<typeof guardedLookup>): Promise<string> {
    const agent = new http.Agent({ lookup });
    return new Promise<string>((resolve, reject) => {
      const request = http.get({ host: hostname, port, path: "/", agent }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve(body));
      });
      request.on("error", reject);
    }).finally(() => agent.destroy());
  }

  it("refuses a name resolving to a private address at the lookup, before any connection", async () => {
    const resolve = stubResolver({ "private.test": ["10.0.0.1"] });
    const before = connections;
    const error = await get("private.test", guardedLookup({ allowPrivate: false }, resolve)).catch(
      (e: unknown) => e,
    );
    expect(addressRefusal(error)?.address).toBe("10.0.0.1");
    expect(resolve.calls).toEqual(["private.test"]);
    expect(connections).toBe(before);
  });

  it("refuses a metadata address even with private URLs allowed", async () => {
    const resolve = stubResolver({ "meta.test": ["169.254.169.254"] });
    const error = await get("meta.test", guardedLookup({ allowPrivate: true }, resolve)).catch(
      (e: unknown) => e,
    );
    expect(addressRefusal(error)?.verdict).toBe("metadata");
  });

  it("refuses a name whose answers mix public and private addresses", async () => {
    const resolve = stubResolver({ "mixed.test": ["8.8.8.8", "127.0.0.1"] });
    const error = await get("mixed.test", guardedLookup({ allowPrivate: false }, resolve)).catch(
      (e: unknown) => e,
    );
    expect(addressRefusal(error)?.address).toBe("127.0.0.1");
  });

  it("checks the address of every connection: a rebinding answer is caught on the connect that uses it", async () => {
    // First answer public (a pre-flight check would have passed), then loopback for the connect.
    let answer = 0;
    const rebinding: Resolver = async () => [
      { address: answer++ === 0 ? "8.8.8.8" : "127.0.0.1", family: 4 },
    ];
    const lookup = guardedLookup({ allowPrivate: false }, rebinding);
    await new Promise<void>((resolve) => lookup("rebind.test", { all: true }, () => resolve()));
    const before = connections;
    const error = await get("rebind.test", lookup).catch((e: unknown) => e);
    expect(addressRefusal(error)?.address).toBe("127.0.0.1");
    expect(connections).toBe(before);
  });

  it("connects when the address is allowed (loopback with private URLs allowed)", async () => {
    const resolve = stubResolver({ "loop.test": ["127.0.0.1"] });
    expect(await get("loop.test", guardedLookup({ allowPrivate: true }, resolve))).toBe("hello");
  });

  it("answers in the form asked for (single address or all)", async () => {
    const lookup = guardedLookup(
      { allowPrivate: false },
      stubResolver({ "pub.test": ["8.8.8.8", "2606:4700::1111"] }),
    );
    const single = await new Promise<unknown[]>((resolve) =>
      lookup("pub.test", {}, (...args) => resolve(args)),
    );
    expect(single).toEqual([null, "8.8.8.8", 4]);
    const all = await new Promise<unknown[]>((resolve) =>
      lookup("pub.test", { all: true }, (...args) => resolve(args)),
    );
    expect(all[1]).toHaveLength(2);
  });
});
