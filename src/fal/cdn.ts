/**
 * fal's CDN hosts (fal-platform-api.md §10.4): `fal.media` and its subdomains (`v3.fal.media`, …).
 * No imports, so the results viewer (a browser bundle) shares it with the server.
 */
export function isFalCdnUrl(raw: string, options: { httpsOnly?: boolean } = {}): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  const host = url.hostname.toLowerCase();
  const protocolOk = url.protocol === "https:" || (!options.httpsOnly && url.protocol === "http:");
  return protocolOk && (host === "fal.media" || host.endsWith(".fal.media"));
}
