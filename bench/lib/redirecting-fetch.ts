import { redirectUrl } from "../../src/fal/redirect.js";

/**
 * The upstream redirect rule (src/fal/redirect.ts) as a fetch wrapper, for the bench's
 * in-process `@fal-ai/client` and raw-fetch paths and the SDK floor server: fal-mcp itself sends
 * through src/fal/transport.ts and applies the rule there.
 */
export function redirectingFetch(baseUrl: string | undefined, inner: typeof fetch): typeof fetch {
  if (!baseUrl) return inner;
  return (input, init) => {
    const target = redirectUrl(requestUrl(input), baseUrl);
    if (input instanceof Request) return inner(new Request(target, input), init);
    return inner(target, init);
  };
}

function requestUrl(input: string | URL | Request): string {
  if (typeof input === "string") return input;
  if (input instanceof URL) return input.href;
  return input.url;
}
