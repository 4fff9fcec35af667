import http from "node:http";
import https from "node:https";
import { VERSION } from "../version.js";
import {
  BodyTooLargeError,
  bufferedResponse,
  readIncomingBody,
  readResponseBody,
  UnsupportedEncodingError,
} from "../util/bounded-body.js";

/**
 * How fal-mcp sends one request to fal's JSON APIs and reads its answer whole, under a cap on the
 * decoded bytes. Two ways, one contract:
 * - `sendOverNodeHttp`: node:http(s) on keep-alive agents, the default. On Node 20 one `fetch` of
 *   a small JSON answer cost 0.6–0.7 ms of CPU (a Request, Headers validated header by header, an
 *   AbortSignal, a transferable web stream for the body), and a run_model makes four.
 * - `sendOverFetch`: a fetch function, for a proxy (undici's EnvHttpProxyAgent) and for tests that
 *   inject one.
 * Redirects are never followed here: the caller's policy (fal-redirects.ts) decides each hop.
 */

/** No answer of fal's APIs is near this; a larger one is refused rather than held in memory. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The header reads fal-mcp makes of an answer; the platform's Headers fits it too. */
export interface AnswerHeaders {
  get(name: string): string | null;
  entries(): IterableIterator<[string, string]>;
}

export interface FalAnswer {
  status: number;
  statusText: string;
  headers: AnswerHeaders;
  /** The decoded body, read whole (at most the request's maxBytes). */
  body: Buffer;
}

export interface FalSendInit {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | undefined;
  /** Stops the request; a send rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Decoded bytes read at most; past it the connection is torn down and BodyTooLargeError thrown. */
  maxBytes: number;
  /** Names the body in errors ("fal's answer"). */
  what: string;
}

/** Sends one request (no redirect followed) and reads the whole answer. */
export type FalSend = (url: string, init: FalSendInit) => Promise<FalAnswer>;

/**
 * The connection failed (refused, reset, DNS, TLS): the node error is the cause, so its code
 * (ECONNREFUSED, ECONNRESET…) reaches the message as it did from fetch.
 */
export class FalConnectionError extends Error {
  override name = "FalConnectionError";
  constructor(cause: Error) {
    super(`the connection to fal failed (${(cause as NodeJS.ErrnoException).code ?? cause.message})`, {
      cause,
    });
  }
}

/** A fetch function as a FalSend: redirects left to the caller, the body read under the cap. */
export function sendOverFetch(fetchFn: typeof fetch): FalSend {
  return async (url, init) => {
    // Its own controller: at the cap the body read aborts it, which tears the connection down.
    const stop = new AbortController();
    const follow = () => stop.abort(init.signal?.reason);
    if (init.signal?.aborted) follow();
    else init.signal?.addEventListener("abort", follow, { once: true });
    try {
      const response = await fetchFn(url, {
        method: init.method,
        headers: init.headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
        signal: stop.signal,
        redirect: "manual",
      });
      const body = await readResponseBody(response, {
        maxBytes: init.maxBytes,
        what: init.what,
        abort: stop,
      });
      return { status: response.status, statusText: response.statusText, headers: response.headers, body };
    } catch (error) {
      if (init.signal?.aborted) throw init.signal.reason;
      throw error;
    } finally {
      init.signal?.removeEventListener("abort", follow);
    }
  };
}

/** An IncomingMessage's headers as AnswerHeaders (node lower-cases names and joins repeats already). */
export function answerHeaders(raw: http.IncomingHttpHeaders): AnswerHeaders {
  const text = (value: string | string[] | undefined) =>
    value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
  return {
    get: (name) => text(raw[name.toLowerCase()]),
    *entries() {
      for (const [name, value] of Object.entries(raw)) if (value !== undefined) yield [name, text(value)!];
    },
  };
}

/**
 * Request headers in any of fetch's forms, as a plain record (a plain record, the official
 * client's form, is copied as it is without touching the platform's Headers).
 */
function headerRecord(init: ConstructorParameters<typeof Headers>[0] | undefined): Record<string, string> {
  if (init === undefined) return {};
  const prototype: unknown = Object.getPrototypeOf(init);
  if (prototype !== Object.prototype && prototype !== null)
    return Object.fromEntries(new Headers(init as ConstructorParameters<typeof Headers>[0]).entries());
  const record: Record<string, string> = {};
  for (const [name, value] of Object.entries(init as Record<string, string | readonly string[]>))
    record[name] = typeof value === "string" ? value : value.join(", ");
  return record;
}

/**
 * A fetch function over a FalSend, for code that wants one (the official client's submit and
 * cancel): the answer is read whole under `maxBytes` and handed back as a HeldResponse, its body in
 * memory. Redirects are the send's business, never fetch's. A string or URL input with a string or
 * byte body, the client's calls, never touches the platform's Request, Headers or Response, whose
 * first use loads undici (see HeldResponse).
 */
export function fetchOverSend(send: FalSend, limit: { maxBytes: number; what: string }): typeof fetch {
  return async (input, init) => {
    const request = typeof input === "string" || input instanceof URL ? undefined : input;
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const rawBody = init?.body ?? (request?.body ? await request.arrayBuffer() : undefined);
    const body =
      rawBody === undefined || rawBody === null
        ? undefined
        : typeof rawBody === "string" || rawBody instanceof Uint8Array
          ? rawBody
          : new Uint8Array(await new Response(rawBody).arrayBuffer());
    const answer = await send(url, {
      method: (init?.method ?? request?.method ?? "GET").toUpperCase(),
      headers: headerRecord(init?.headers ?? request?.headers),
      body,
      signal: init?.signal ?? request?.signal ?? undefined,
      maxBytes: limit.maxBytes,
      what: limit.what,
    });
    // A Response has a status of 200-599 only: anything else is no answer fal-mcp can read.
    if (answer.status < 200 || answer.status > 599)
      throw new TypeError(`fal answered with HTTP status ${answer.status}, which is not a valid answer`);
    const headers = [...answer.headers.entries()].filter(
      // The body is decoded and whole: the answer must not claim otherwise.
      ([name]) => name !== "content-encoding" && name !== "content-length" && name !== "transfer-encoding",
    );
    return bufferedResponse(answer.body, { status: answer.status, statusText: answer.statusText, headers });
  };
}

export interface NodeHttpSender {
  send: FalSend;
  /** Closes the idle keep-alive connections (they are unref'd and never hold the process open). */
  readonly destroy: () => void;
}

/** fal's JSON APIs over node:http(s), one keep-alive agent per scheme. */
export function sendOverNodeHttp(): NodeHttpSender {
  const agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  const send: FalSend = (url, init) =>
    new Promise<FalAnswer>((resolve, reject) => {
      const signal = init.signal;
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const target = new URL(url);
      const secure = target.protocol === "https:";
      if (!secure && target.protocol !== "http:") {
        reject(new TypeError(`fal's API is reached over http(s) only, not ${target.protocol}`));
        return;
      }
      const headers: Record<string, string | number> = {
        "user-agent": `fal-mcp/${VERSION}`,
        "accept-encoding": "gzip, deflate, br",
        ...init.headers,
      };
      const body = typeof init.body === "string" ? Buffer.from(init.body) : init.body;
      if (body) headers["content-length"] = body.byteLength;
      let settled = false;
      const finish = (error: Error | undefined, answer?: FalAnswer) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        if (error === undefined) resolve(answer!);
        else {
          request.destroy();
          reject(error);
        }
      };
      const onAbort = () => finish(signal?.reason as Error);
      const request = (secure ? https : http).request(target, {
        method: init.method,
        headers,
        agent: secure ? agents.https : agents.http,
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      let answered = false;
      // Once the answer has begun, its body reader settles the send (a cap's teardown errors the
      // request too, and must not read as a failed connection).
      request.on("error", (error) => {
        if (!answered) finish(new FalConnectionError(error));
      });
      request.on("response", (message) => {
        answered = true;
        readIncomingBody(message, { maxBytes: init.maxBytes, what: init.what }).then(
          (bytes) =>
            finish(undefined, {
              status: message.statusCode ?? 0,
              statusText: message.statusMessage ?? "",
              headers: answerHeaders(message.headers),
              body: bytes,
            }),
          (error: Error) =>
            finish(
              error instanceof BodyTooLargeError || error instanceof UnsupportedEncodingError || settled
                ? error
                : signal?.aborted
                  ? (signal.reason as Error)
                  : new FalConnectionError(error),
            ),
        );
      });
      request.end(body);
    });
  return {
    send,
    destroy() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
