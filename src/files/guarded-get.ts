import http from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import { decodedBody } from "../util/bounded-body.js";
import type { ProxyConfig } from "../config.js";
import { proxyFor, tunnelAgent } from "../fal/proxy.js";
import { isFalHost } from "../fal/redirect.js";
import type { TransferDeadline } from "../util/transfer-deadline.js";
import {
  assertHostAllowed,
  guardedLookup,
  isAddressRefused,
  isIpLiteral,
  type AddressPolicy,
  type ResolvedAddress,
  type Resolver,
} from "./address-policy.js";

/**
 * The one way fal-mcp GETs a URL that is not a fal API call: result media, URLs re-hosted by
 * upload_file, previews. Every hop (redirects are followed by hand) has its host checked and its
 * connection made through the address policy's lookup, so the address connected to is the address
 * checked. Each request has its own connection (no pool): when a request is refused, capped or
 * timed out, its socket is destroyed, never left open. The body is decoded and capped by decoded
 * bytes, and the transfer runs under the caller's stall timeout and total deadline.
 *
 * With FAL_MCP_BASE_URL set, fal's hosts are sent to that base like every other fal request (the
 * documented redirect rule); the base is the user's own setting, so those hops skip the address
 * check (a loopback fake of fal is the usual base).
 *
 * Behind a proxy (HTTPS_PROXY / HTTP_PROXY, unless NO_PROXY names the host) a hop goes through a
 * CONNECT tunnel, after its host was checked here: an IP literal as it is, a name by resolving
 * every address it has (a name that does not resolve here is refused: fail closed), except fal's
 * own hosts, which the proxy alone may be able to resolve. The proxy
 * then resolves the name itself, so a name whose answer changes between our lookup and the
 * proxy's can still reach a private address the proxy can reach: the residual risk of any
 * client-side guard behind a proxy, documented in the README. Without a proxy the socket
 * connects to the very address the lookup vetted (no second lookup, no rebinding).
 */

export interface GuardedGetOptions {
  url: string;
  policy: AddressPolicy;
  deadline: TransferDeadline;
  /** Largest decoded body accepted. */
  maxBytes: number;
  /** Names the transfer in errors ("the download of image 1"). */
  what?: string | undefined;
  /** FAL_MCP_BASE_URL and the rule that maps a fal URL onto it. */
  rewrite?: ((url: URL) => URL | undefined) | undefined;
  /** Injectable DNS for tests (a test must never connect to a non-loopback address). */
  resolve?: Resolver | undefined;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY: hops the proxy applies to go through it. */
  proxy?: ProxyConfig | undefined;
  maxRedirects?: number | undefined;
}

export interface GuardedResponse {
  /** The URL that answered (after redirects), as fal or the model wrote it (not the rewrite). */
  url: URL;
  status: number;
  contentType: string | undefined;
  /** Declared length of the decoded body, when the server sent one and no encoding. */
  contentLength: number | undefined;
  /** The decoded, capped body; errors with BodyTooLargeError past the cap. */
  body: Readable;
  /** Destroys the connection (safe to call more than once). */
  close(): void;
}

/** A GET that answered with a status that is not a success or a followable redirect. */
export class HttpStatusError extends Error {
  override name = "HttpStatusError";
  constructor(
    readonly status: number,
    readonly url: URL,
  ) {
    super(`${url.host} answered HTTP ${status}`);
  }
}

/** A redirect fal-mcp does not follow (too many, or to a scheme other than http/https). */
export class RedirectRefusedError extends Error {
  override name = "RedirectRefusedError";
}

const DEFAULT_MAX_REDIRECTS = 5;

/** How one hop connects: directly (through the guarded lookup when checked) or through a tunnel. */
type Route = { kind: "direct"; checked: boolean } | { kind: "tunnel"; agent: http.Agent };

/**
 * Checks every address `hostname` resolves to, for a hop about to be handed to a proxy (which
 * would otherwise resolve it unchecked). The same lookup the direct sockets use, run here.
 */
function vetBeforeProxy(hostname: string, options: GuardedGetOptions): Promise<void> {
  const lookup = guardedLookup(options.policy, options.resolve);
  return new Promise((resolve, reject) => {
    const signal = options.deadline.signal;
    const onAbort = () => {
      const reason = options.deadline.explain(signal.reason);
      reject(reason instanceof Error ? reason : new Error("the transfer was stopped"));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    lookup(hostname, { all: true, family: 0 }, (error, addresses) => {
      signal.removeEventListener("abort", onAbort);
      if (error && isAddressRefused(error)) reject(error);
      else if (error)
        reject(
          new Error(
            `${hostname} could not be resolved here (${error.code ?? error.message}), so its address could not be checked before sending the request through the proxy`,
          ),
        );
      else if ((addresses as ResolvedAddress[]).length === 0) reject(new Error(`${hostname} has no address`));
      else resolve();
    });
  });
}

function requestOnce(target: URL, options: GuardedGetOptions, route: Route): Promise<http.IncomingMessage> {
  const lookup =
    route.kind === "direct" && route.checked ? guardedLookup(options.policy, options.resolve) : undefined;
  const client = target.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      target,
      {
        method: "GET",
        agent: route.kind === "tunnel" ? route.agent : false,
        signal: options.deadline.signal,
        headers: { "accept-encoding": "gzip, deflate, br", "user-agent": "fal-mcp", accept: "*/*" },
        ...(lookup ? { lookup } : {}),
      },
      (response) => {
        options.deadline.touch();
        resolve(response);
      },
    );
    request.on("error", (error) => {
      request.destroy();
      const explained = options.deadline.explain(error);
      reject(explained instanceof Error ? explained : error);
    });
    request.end();
  });
}

export async function guardedGet(options: GuardedGetOptions): Promise<GuardedResponse> {
  let url = new URL(options.url);
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  for (let hop = 0; ; hop++) {
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new RedirectRefusedError(
        hop === 0
          ? `only http(s) URLs are fetched, not "${url.protocol}"`
          : `a redirect led to a "${url.protocol}" URL, which is refused`,
      );
    if (url.username || url.password)
      throw new RedirectRefusedError("URLs with a user name or password are refused");
    const rewritten = options.rewrite?.(url);
    const target = rewritten ?? url;
    const via = proxyFor(target, options.proxy);
    if (!rewritten) {
      assertHostAllowed(url.hostname, options.policy);
      // An IP literal was checked as it is; a name is resolved and every address checked. fal's
      // own hosts (its CDN) are not a prompt's to point anywhere, and behind a proxy this machine
      // may have no DNS of its own: they go to the proxy without a local lookup.
      if (via && !isIpLiteral(url.hostname) && !isFalHost(url.hostname))
        await vetBeforeProxy(url.hostname, options);
    }
    const route: Route = via
      ? { kind: "tunnel", agent: await tunnelAgent(via) }
      : { kind: "direct", checked: rewritten === undefined };
    const dropAgent = () => {
      if (route.kind === "tunnel") route.agent.destroy();
    };
    let response: http.IncomingMessage;
    try {
      response = await requestOnce(target, options, route);
    } catch (error) {
      dropAgent();
      throw error;
    }
    const close = () => {
      response.destroy();
      response.socket?.destroy();
      dropAgent();
    };
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      close();
      if (hop >= maxRedirects) throw new RedirectRefusedError(`more than ${maxRedirects} redirects`);
      url = new URL(response.headers.location, url);
      continue;
    }
    if (status < 200 || status >= 300) {
      close();
      throw new HttpStatusError(status, url);
    }
    const encoding = String(response.headers["content-encoding"] ?? "identity").toLowerCase();
    const declared = Number(response.headers["content-length"] ?? Number.NaN);
    const body = decodedBody(response, {
      maxBytes: options.maxBytes,
      what: options.what,
      onChunk: () => options.deadline.touch(),
    });
    return {
      url,
      status,
      contentType: response.headers["content-type"]?.split(";")[0]?.trim().toLowerCase() || undefined,
      contentLength:
        encoding === "identity" && Number.isFinite(declared) && declared >= 0 ? declared : undefined,
      body,
      close: () => {
        body.destroy();
        close();
      },
    };
  }
}
