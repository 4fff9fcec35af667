import dns from "node:dns/promises";
import net from "node:net";
import { AccessDeniedError, FalNetworkError } from "../errors.js";
import { isFalHost } from "../fal/redirect.js";

/**
 * Which web URLs upload_file may fetch and re-host on fal's public CDN. A model can be talked
 * into asking for http://localhost:8080/admin or a router page; fetching that and publishing it
 * would leak the user's private network. So a URL (and every redirect hop) must resolve to public
 * addresses only, unless FAL_MCP_ALLOW_PRIVATE_URLS=1. Cloud-metadata addresses are refused always.
 * (A DNS answer that changes between this check and the connection is not covered: this guards
 * against mistakes and prompt injection, not against an attacker who controls DNS.)
 */

const privateRanges = new net.BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  privateRanges.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
] as const) {
  privateRanges.addSubnet(network, prefix, "ipv6");
}

/** True for an IP address of this machine, a private network, link-local or multicast. */
export function isPrivateAddress(address: string): boolean {
  const plain = address.replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain);
  if (mapped?.[1]) return isPrivateAddress(mapped[1]);
  const family = net.isIP(plain);
  if (family === 0) return false;
  return privateRanges.check(plain, family === 4 ? "ipv4" : "ipv6");
}

function isMetadataHost(host: string): boolean {
  return (
    /^169\.254\./.test(host) ||
    /^fe[89ab][0-9a-f]:/i.test(host) ||
    host === "metadata.google.internal" ||
    host === "metadata"
  );
}

export type Resolver = (hostname: string) => Promise<string[]>;

const systemResolver: Resolver = async (hostname) =>
  (await dns.lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * Throws AccessDeniedError when `url` may not be fetched: a metadata address (always), or a host
 * that is or resolves to a private address (unless `allowPrivate`). fal's own hosts are trusted.
 */
export async function assertFetchableUrl(
  url: URL,
  allowPrivate: boolean,
  resolve: Resolver = systemResolver,
): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (isMetadataHost(host)) {
    throw new AccessDeniedError(
      `fal-mcp does not fetch link-local or cloud-metadata addresses (${host}).`,
      "Download the file yourself and pass it as a `path`.",
    );
  }
  if (allowPrivate || isFalHost(host)) return;
  const refuse = (address: string) =>
    new AccessDeniedError(
      `fal-mcp does not fetch ${url.origin}: ${address === host ? "it is" : `it resolves to ${address}, which is`} on this machine or a private network, and upload_file would publish what it returns on fal's public CDN.`,
      "Download the file yourself and pass it as a `path`, or set FAL_MCP_ALLOW_PRIVATE_URLS=1 in this server's env block to allow private addresses.",
    );
  if (host === "localhost" || host.endsWith(".localhost")) throw refuse(host);
  if (net.isIP(host)) {
    if (isPrivateAddress(host)) throw refuse(host);
    return;
  }
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    const code =
      (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
    throw new FalNetworkError(
      `Could not look up ${host} (${code}).`,
      "connection",
      "Check the URL's host name, or download the file yourself and pass a `path`.",
    );
  }
  const blocked = addresses.find(isPrivateAddress);
  if (blocked) throw refuse(blocked);
}
