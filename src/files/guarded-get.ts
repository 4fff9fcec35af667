import http from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import { decodedBody } from "../util/bounded-body.js";
import type { TransferDeadline } from "../util/transfer-deadline.js";
import { assertHostAllowed, guardedLookup, type AddressPolicy, type Resolver } from "./address-policy.js";

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

function requestOnce(
  target: URL,
  options: GuardedGetOptions,
  checked: boolean,
): Promise<http.IncomingMessage> {
  const lookup = checked ? guardedLookup(options.policy, options.resolve) : undefined;
  const client = target.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      target,
      {
        method: "GET",
        agent: false,
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
    if (!rewritten) assertHostAllowed(url.hostname, options.policy);
    const response = await requestOnce(rewritten ?? url, options, rewritten === undefined);
    const status = response.statusCode ?? 0;
    const close = () => {
      response.destroy();
      response.socket?.destroy();
    };
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
