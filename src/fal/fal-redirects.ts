import { isFalHost, redirectUrl } from "./redirect.js";

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

function urlOf(input: string | URL | Request): string {
  if (typeof input === "string") return input;
  if (input instanceof URL) return input.href;
  return input.url;
}

/** Wraps the fetch that sends fal's API calls (after the upstream redirect rule was applied). */
export function falRedirectsOnly(inner: typeof fetch, baseUrl: string | undefined): typeof fetch {
  return async (input, init) => {
    const first = await inner(input, { ...init, redirect: "manual" });
    if (!REDIRECTS.has(first.status) || !first.headers.has("location")) return first;
    const original = input instanceof Request ? input : undefined;
    let method = (init?.method ?? original?.method ?? "GET").toUpperCase();
    let body = init?.body ?? undefined;
    const headers = new Headers(init?.headers ?? original?.headers);
    const signal = init?.signal ?? original?.signal ?? undefined;
    let current = new URL(urlOf(input));
    let response = first;
    for (let hop = 1; REDIRECTS.has(response.status) && response.headers.has("location"); hop++) {
      await response.body?.cancel().catch(() => undefined);
      const next = new URL(response.headers.get("location") ?? "", current);
      const fal = isFalHost(next.hostname);
      if (!fal && next.origin !== current.origin)
        throw new FalRedirectRefusedError(
          `fal's API answered with a redirect to ${next.host}, which is not fal's; fal-mcp does not follow it`,
        );
      if (hop > MAX_REDIRECTS)
        throw new FalRedirectRefusedError(`fal's API answered with more than ${MAX_REDIRECTS} redirects`);
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === "POST")
      ) {
        if (method !== "HEAD") method = "GET";
        body = undefined;
        headers.delete("content-type");
        headers.delete("content-length");
      } else if (body !== undefined && typeof body !== "string") {
        throw new FalRedirectRefusedError("fal's API redirected a request whose body cannot be sent again");
      }
      const target = new URL(fal ? redirectUrl(next.href, baseUrl) : next.href);
      // As fetch does: the key never follows a redirect to another origin.
      if (target.origin !== current.origin) headers.delete("authorization");
      current = target;
      response = await inner(target.href, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(signal ? { signal } : {}),
        redirect: "manual",
      });
    }
    return response;
  };
}
