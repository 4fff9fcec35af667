import dns from "node:dns";
import net from "node:net";
import ipaddr from "ipaddr.js";

/**
 * Which network addresses fal-mcp may connect to for anything that is not a call to fal's APIs
 * (result media on other hosts, URLs re-hosted by upload_file, every redirect hop). A model can be
 * talked into asking for http://localhost:8080/admin, a router page or the cloud's metadata
 * service; fetching that and saving, inlining or publishing it would leak the user's network.
 *
 * Three verdicts: "public" (fetchable), "private" (this machine, a private network, link-local,
 * CGNAT, multicast, reserved, or an IPv6 form that embeds such an IPv4 address; fetchable only
 * when the user allows private URLs) and "metadata" (cloud-metadata services; never fetchable,
 * whatever the setting). Anything the classifier does not recognise as public is private:
 * the policy fails closed.
 *
 * The check runs where the connection is made: `guardedLookup` is the `lookup` of the socket
 * (node:http/https agents, undici's `connect.lookup`), so the address checked is the address
 * connected to and a DNS answer that changes between a check and the connection (rebinding)
 * has nothing to slip through. Sockets skip `lookup` for IP literals, so `assertHostAllowed`
 * checks the URL's host first; callers use both.
 */

export type AddressVerdict = "public" | "private" | "metadata";

export interface AddressPolicy {
  /** FAL_MCP_ALLOW_PRIVATE_URLS: private addresses become fetchable; metadata never does. */
  allowPrivate: boolean;
}

/** A connection fal-mcp refused to make; `code` lets callers tell it from network failures. */
export class AddressRefusedError extends Error {
  override name = "AddressRefusedError";
  readonly code = "ERR_FAL_MCP_ADDRESS_REFUSED";
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly verdict: Exclude<AddressVerdict, "public">,
  ) {
    super(
      verdict === "metadata"
        ? `${describeTarget(hostname, address)} is a cloud-metadata address, which fal-mcp never fetches`
        : `${describeTarget(hostname, address)} is on this machine or a private network, which fal-mcp fetches only when FAL_MCP_ALLOW_PRIVATE_URLS=1`,
    );
  }
}

export function isAddressRefused(error: unknown): error is AddressRefusedError {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof AddressRefusedError) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The refusal inside `error` (fetch wraps it in "fetch failed"), if any. */
export function addressRefusal(error: unknown): AddressRefusedError | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof AddressRefusedError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeTarget(hostname: string, address: string): string {
  return hostname === address ? address : `${hostname} (${address})`;
}

/** Instance-metadata services of the clouds, by address. Link-local as a whole is below. */
const METADATA_V4 = ["100.100.100.200/32", "192.0.0.192/32"].map((cidr) => ipaddr.IPv4.parseCIDR(cidr));
const METADATA_V6 = ["fd00:ec2::254/128", "fd00:ec2::23/128"].map((cidr) => ipaddr.IPv6.parseCIDR(cidr));

/** Names that reach a metadata service without DNS or through a resolver of the cloud. */
const METADATA_NAMES = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "metadata.azure.internal",
  "instance-data",
  "instance-data.ec2.internal",
  "metadata.tencentyun.com",
  "metadata.platformequinix.com",
]);

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR("2000::/3");

/** Normalises a URL host or DNS name: lower case, no brackets, no trailing dot. */
export function normalizeHost(host: string): string {
  return host
    .trim()
    .replace(/^\[|\]$/g, "")
    .replace(/\.+$/, "")
    .toLowerCase();
}

/** True for names that always mean a metadata service. */
export function isMetadataName(host: string): boolean {
  return METADATA_NAMES.has(normalizeHost(host));
}

/** Classifies one IP address (any textual form ipaddr.js parses). Not an IP address: private. */
export function classifyAddress(address: string): AddressVerdict {
  const plain = normalizeHost(address).replace(/%.*$/, ""); // zone id (fe80::1%eth0)
  if (!ipaddr.isValid(plain)) return "private";
  const parsed = ipaddr.parse(plain);
  return parsed.kind() === "ipv4" ? classifyV4(parsed as ipaddr.IPv4) : classifyV6(parsed as ipaddr.IPv6);
}

function classifyV4(address: ipaddr.IPv4): AddressVerdict {
  const range = address.range();
  if (range === "linkLocal" || METADATA_V4.some((cidr) => address.match(cidr))) return "metadata";
  return range === "unicast" ? "public" : "private";
}

function classifyV6(address: ipaddr.IPv6): AddressVerdict {
  if (METADATA_V6.some((cidr) => address.match(cidr))) return "metadata";
  const embedded = embeddedV4(address);
  if (embedded) {
    const inner = embedded.addresses.map(classifyV4);
    if (inner.includes("metadata")) return "metadata";
    // Tunnels (6to4, Teredo) are never needed to fetch media: private whatever they carry.
    if (embedded.tunnel) return "private";
    return inner.every((verdict) => verdict === "public") ? "public" : "private";
  }
  const range = address.range();
  if (range === "linkLocal") return "metadata";
  return range === "unicast" && address.match(GLOBAL_UNICAST_V6) ? "public" : "private";
}

interface Embedded {
  addresses: ipaddr.IPv4[];
  tunnel: boolean;
}

function v4(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * The IPv4 address(es) an IPv6 address carries: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
 * (::a.b.c.d), SIIT (::ffff:0:a.b.c.d), NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48),
 * 6to4 (2002:aabb:ccdd::/48) and Teredo (2001:0::/32, server and obfuscated client).
 */
function embeddedV4(address: ipaddr.IPv6): Embedded | undefined {
  const p = address.parts;
  const at = (i: number) => p[i] ?? 0;
  const zeros = (from: number, to: number) => p.slice(from, to).every((part) => part === 0);
  const last = v4(at(6), at(7));
  if (zeros(0, 5) && at(5) === 0xffff) return { addresses: [last], tunnel: false }; // mapped
  if (zeros(0, 4) && at(4) === 0xffff && at(5) === 0) return { addresses: [last], tunnel: false }; // SIIT
  if (zeros(0, 6) && !(at(6) === 0 && at(7) <= 1)) return { addresses: [last], tunnel: false }; // compatible
  if (at(0) === 0x64 && at(1) === 0xff9b) {
    // The well-known prefix carries the address in the last 32 bits; the local-use /48 is a
    // private deployment with no fixed position: treated as private via a private placeholder.
    if (zeros(2, 6)) return { addresses: [last], tunnel: false };
    if (at(2) === 1) return { addresses: [new ipaddr.IPv4([10, 0, 0, 0])], tunnel: false };
  }
  if (at(0) === 0x2002) return { addresses: [v4(at(1), at(2))], tunnel: true };
  if (at(0) === 0x2001 && at(1) === 0)
    return { addresses: [v4(at(2), at(3)), v4(at(6) ^ 0xffff, at(7) ^ 0xffff)], tunnel: true };
  return undefined;
}

/** Throws AddressRefusedError unless `address` (reached as `hostname`) may be connected to. */
export function assertAddressAllowed(hostname: string, address: string, policy: AddressPolicy): void {
  const verdict = classifyAddress(address);
  if (verdict === "public") return;
  if (verdict === "private" && policy.allowPrivate) return;
  throw new AddressRefusedError(hostname, address, verdict);
}

/** True when `host` (a URL host or name) is an IP address in any form ipaddr.js parses. */
export function isIpLiteral(host: string): boolean {
  const name = normalizeHost(host);
  return net.isIP(name) !== 0 || ipaddr.isValid(name);
}

/**
 * Checks a URL's host before any connection: IP literals (which sockets connect to without a
 * lookup), metadata names and localhost names. Other names are checked by `guardedLookup`.
 */
export function assertHostAllowed(host: string, policy: AddressPolicy): void {
  const name = normalizeHost(host);
  if (isMetadataName(name)) throw new AddressRefusedError(name, name, "metadata");
  if (isIpLiteral(name)) {
    assertAddressAllowed(name, name, policy);
    return;
  }
  if ((name === "localhost" || name.endsWith(".localhost")) && !policy.allowPrivate)
    throw new AddressRefusedError(name, name, "private");
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves every address of a name; the system resolver unless a test passes its own. */
export type Resolver = (hostname: string, family: number) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname, family) =>
  new Promise((resolve, reject) => {
    dns.lookup(hostname, { all: true, family, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    );
  });

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/** The shape of `dns.lookup` that net.connect, tls.connect, http(s).Agent and undici call. */
export type LookupFunction = (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

/**
 * A `lookup` for sockets that resolves the name and refuses the connection when ANY address the
 * name resolves to is not allowed (a name that answers both a public and a private address is
 * refused rather than raced). The refusal reaches the caller as the socket's error, before any
 * connection attempt.
 */
export function guardedLookup(policy: AddressPolicy, resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    const family = typeof options === "number" ? options : (options?.family ?? 0);
    const all = typeof options === "object" && options?.all === true;
    const fail = (error: NodeJS.ErrnoException) => callback(error, all ? [] : "", undefined);
    try {
      assertHostAllowed(hostname, policy);
    } catch (error) {
      fail(error as NodeJS.ErrnoException);
      return;
    }
    resolve(hostname, family === "IPv4" ? 4 : family === "IPv6" ? 6 : Number(family) || 0).then(
      (addresses) => {
        try {
          if (addresses.length === 0) {
            const error: NodeJS.ErrnoException = new Error(`${hostname} has no address`);
            error.code = "ENOTFOUND";
            throw error;
          }
          for (const entry of addresses) assertAddressAllowed(hostname, entry.address, policy);
        } catch (error) {
          fail(error as NodeJS.ErrnoException);
          return;
        }
        if (all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => fail(error),
    );
  };
}
