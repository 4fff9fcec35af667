import type { FalClient } from "@fal-ai/client";
import type { Config } from "../config.js";
import { MissingKeyError } from "../errors.js";
import type { Secret } from "../secret.js";
import { createOfficialClient, submitOnceFetch } from "./client.js";
import { FalHttpClient } from "./http.js";
import { proxiedFetch } from "./proxy.js";
import { falRedirectsOnly } from "./fal-redirects.js";
import { redirectingFetch } from "./redirect.js";

/**
 * The connection to fal: the key, our typed JSON client, the official client, and the fetch with
 * the upstream redirect applied. HTTP only: the catalog, the job record and the logger are
 * services of their own (src/services.ts). Nothing here imports the MCP SDK.
 */
export interface Fal {
  readonly config: Config;
  /** fetch with the upstream redirect applied, following redirects to fal's hosts only: fal's APIs and CDN. */
  readonly fetch: typeof fetch;
  /** Our typed JSON client for the APIs the official client does not cover. */
  readonly http: FalHttpClient;
  /** The key, or a MissingKeyError naming `what` needs it. */
  requireKey(what: string): Secret;
  /** The official client (queue, storage), created on first use. */
  officialClient(): Promise<FalClient>;
}

export interface CreateFalOptions {
  config: Config;
  /** The fetch to send requests with; defaults to the platform's (through the proxy when one is set). Tests inject their own. */
  fetch?: typeof fetch | undefined;
}

export function createFal({ config, fetch: injected }: CreateFalOptions): Fal {
  // Redirects in fal's answers are followed to fal's hosts only (never to a private address).
  const baseFetch = falRedirectsOnly(
    injected ?? (config.proxy ? proxiedFetch(config.proxy) : globalThis.fetch),
    config.baseUrl,
  );
  const fetch = redirectingFetch(config.baseUrl, baseFetch);
  const http = new FalHttpClient({ fetch, timeoutMs: config.requestTimeoutMs });
  let official: Promise<FalClient> | undefined;
  return {
    config,
    fetch,
    http,
    requireKey(what) {
      if (!config.falKey) throw new MissingKeyError(what);
      return config.falKey;
    },
    officialClient() {
      official ??= createOfficialClient({
        key: () => config.falKey,
        fetch: submitOnceFetch(redirectingFetch(config.baseUrl, baseFetch)),
      });
      return official;
    },
  };
}
