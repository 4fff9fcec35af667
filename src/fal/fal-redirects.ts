import { isFalHost, redirectUrl } from "./redirect.js";
import type { FalSend } from "./transport.js";

/**
 * Redirects in answers of fal's APIs are followed only to fal's own hosts (or within the origin
 * just asked, FAL_MCP_BASE_URL's included). fetch follows any redirect by default, so fal, or
 * anything between us and fal, could answer a catalog or status call with `302 Location:
 * http://169.254.169.254/…` and have fal-mcp fetch the cloud's metadata service or a private
 * address and hand what it said to the model. Everything that is not a fal API call goes through
 * the guarded GET (src/files/guarded-get.ts) instead.
 */

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/** A redirect of a fal API answer that fal-mcp refused to follow. */
export class FalRedirectRefusedError extends Error {
  override name = "FalRedirectRefusedError";
  readonly code = "ERR_FAL_MCP_REDIRECT_REFUSED";
}

/** Wraps the send of fal's API calls (after the upstream redirect rule was applied). */
export function falRedirectsOnly(inner: FalSend, baseUrl: string | undefined): FalSend {
  return async (url, init) => {
    let answer = await inner(url, init);
    let location = answer.headers.get("location");
    if (!REDIRECTS.has(answer.status) || location === null) return answer;
    let { method, body } = init;
    method = method.toUpperCase();
    const headers = { ...init.headers };
    let current = new URL(url);
    for (let hop = 1; REDIRECTS.has(answer.status) && location !== null; hop++) {
      const next = new URL(location, current);
      const fal = isFalHost(next.hostname);
      if (!fal && next.origin !== current.origin)
        throw new FalRedirectRefusedError(
          `fal's API answered with a redirect to ${next.host}, which is not fal's; fal-mcp does not follow it`,
        );
      if (hop > MAX_REDIRECTS)
        throw new FalRedirectRefusedError(`fal's API answered with more than ${MAX_REDIRECTS} redirects`);
      if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === "POST")) {
        if (method !== "HEAD") method = "GET";
        body = undefined;
        dropHeaders(headers, /^content-(type|length)$/i);
      }
      const target = new URL(fal ? redirectUrl(next.href, baseUrl) : next.href);
      // As fetch does: the key never follows a redirect to another origin.
      if (target.origin !== current.origin) dropHeaders(headers, /^authorization$/i);
      current = target;
      answer = await inner(target.href, { ...init, method, headers, body });
      location = answer.headers.get("location");
    }
    return answer;
  };
}

/** Removes the headers whose names match, in whatever case the caller wrote them. */
function dropHeaders(headers: Record<string, string>, names: RegExp): void {
  for (const name of Object.keys(headers)) if (names.test(name)) delete headers[name];
}

/** The upstream redirect rule (redirect.ts) for a send of fal's JSON APIs. */
export function redirectingSend(baseUrl: string | undefined, inner: FalSend): FalSend {
  if (!baseUrl) return inner;
  return (url, init) => inner(redirectUrl(url, baseUrl), init);
}
