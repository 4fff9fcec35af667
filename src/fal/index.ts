import type { FalClient } from "@fal-ai/client";
import type { Config } from "../config.js";
import { MissingKeyError } from "../errors.js";
import type { Secret } from "../secret.js";
import { createOfficialClient, submitOnceFetch } from "./client.js";
import { FalHttpClient } from "./http.js";
import { proxiedFetch } from "./proxy.js";
import { falRedirectsOnly, redirectingSend } from "./fal-redirects.js";
import {
  fetchOverSend,
  MAX_ANSWER_BYTES,
  sendOverFetch,
  sendOverNodeHttp,
  type FalSend,
  type NodeHttpSender,
} from "./transport.js";

/**
 * The connection to fal: the key, our typed JSON client, the official client, and the send with
 * the upstream redirect applied. HTTP only: the catalog, the job record and the logger are
 * services of their own (src/services.ts). Nothing here imports the MCP SDK.
 */
export interface Fal {
  readonly config: Config;
  /**
   * One request to fal's APIs or CDN (the multipart complete call): the upstream redirect applied,
   * redirects followed to fal's hosts only, the answer read whole under the cap the caller sets.
   * No platform Response is built: the first one loads undici, compiled from source under the
   * launcher's flags (measured 30–40 ms of CPU on a user's first multipart upload).
   */
  readonly send: FalSend;
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

/**
 * One set of keep-alive connections for the process, as fetch's global dispatcher was: HTTP mode
 * builds a Fal per request (each caller's key), and every one of them reuses these.
 */
let direct: NodeHttpSender | undefined;

export function createFal({ config, fetch: injected }: CreateFalOptions): Fal {
  // node:http unless a proxy (undici's agent) or a test's fetch is in the way.
  const transport: FalSend = injected
    ? sendOverFetch(injected)
    : config.proxy
      ? sendOverFetch(proxiedFetch(config.proxy))
      : (direct ??= sendOverNodeHttp()).send;
  // The upstream redirect first; redirects in fal's answers followed to fal's hosts only (never
  // to a private address).
  const send = redirectingSend(config.baseUrl, falRedirectsOnly(transport, config.baseUrl));
  const http = new FalHttpClient({ send, timeoutMs: config.requestTimeoutMs });
  let official: Promise<FalClient> | undefined;
  return {
    config,
    send,
    http,
    requireKey(what) {
      if (!config.falKey) throw new MissingKeyError(what);
      return config.falKey;
    },
    officialClient() {
      // The client wants a fetch; the submit guard wraps one that still sees fal's real host names.
      official ??= createOfficialClient({
        key: () => config.falKey,
        fetch: submitOnceFetch(fetchOverSend(send, { maxBytes: MAX_ANSWER_BYTES, what: "fal's answer" })),
      });
      return official;
    },
  };
}
