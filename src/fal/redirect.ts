/**
 * The upstream redirect (FAL_MCP_BASE_URL). A documented, public rule that tools outside this
 * repository rely on: every request to a host that is, or ends in, `fal.run`, `fal.ai` or
 * `fal.media` goes to `${base}/${host}${path}${query}` with method, headers and body unchanged.
 * Other hosts are left alone.
 */
const FAL_HOST_SUFFIXES = ["fal.run", "fal.ai", "fal.media"];

export function isFalHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return FAL_HOST_SUFFIXES.some((suffix) => host === suffix || host.endsWith("." + suffix));
}

/** The URL a request for `url` is really sent to. */
export function redirectUrl(url: string, baseUrl: string | undefined): string {
  if (!baseUrl) return url;
  const parsed = new URL(url);
  if (!isFalHost(parsed.hostname)) return url;
  // `host` keeps an explicit port, so https://fal.run:8443/x maps to /fal.run:8443/x.
  return `${baseUrl.replace(/\/+$/, "")}/${parsed.host}${parsed.pathname}${parsed.search}`;
}
