import type { FalClient } from "@fal-ai/client";
import type { Secret } from "../secret.js";
import {
  BodyTooLargeError,
  bufferedResponse,
  isBuffered,
  readResponseBody,
  readResponseText,
} from "../util/bounded-body.js";
import { networkCause } from "../util/errors.js";
import { JsonTooDeepError } from "../util/json-bounds.js";
import { parseJson } from "../util/json.js";
import type { AnswerHeaders } from "./transport.js";

/**
 * The official @fal-ai/client, created per server (never the global singleton), on our own
 * fetch so that the upstream redirect, timeouts and the submit guard apply to every call.
 * Loaded lazily: start-up and discovery never pay for it.
 */

/** Raised by the submit guard instead of the client's own retryable errors. Deliberately not
 * a TypeError, has no `code` and no `status`, so the client's dispatcher will not resend. */
export class SubmitNotConfirmedError extends Error {
  override name = "SubmitNotConfirmedError";
  constructor(
    message: string,
    /** HTTP status fal answered with, or undefined when the connection failed. */
    readonly status: number | undefined,
    /** fal's body text, for messages (never contains the key). */
    readonly bodyText: string | undefined,
    /** fal's answer headers (X-Fal-Needs-Retry, the request id), when it answered. */
    readonly headers?: Pick<AnswerHeaders, "get">,
  ) {
    super(message);
  }
}

const RESENT_BY_CLIENT = new Set([429, 502, 503, 504]);

/** A submit answer is a few hundred bytes (request id and three URLs). */
const MAX_SUBMIT_ANSWER_BYTES = 1024 * 1024;

function isQueueSubmit(input: string | URL | Request, init: RequestInit | undefined): boolean {
  // Never `instanceof Request` for the client's string URLs: the first touch loads undici.
  const method = (
    init?.method ?? (typeof input === "string" || input instanceof URL ? "GET" : input.method)
  ).toUpperCase();
  if (method !== "POST") return false;
  const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
  return url.hostname === "queue.fal.run";
}

/**
 * Wraps `inner` so that a queue submit is sent exactly once: the official client would resend a
 * POST after a transport error or a 429/502/503/504, which can create a second paid job.
 * Must wrap the fetch *before* the redirect, while it still sees fal's real host names.
 */
export function submitOnceFetch(inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    if (!isQueueSubmit(input, init)) return inner(input, init);
    let response: Response;
    try {
      response = await inner(input, init);
    } catch (error) {
      throw new SubmitNotConfirmedError(
        `the connection broke during the submit (${networkCause(error)})`,
        undefined,
        undefined,
      );
    }
    if (RESENT_BY_CLIENT.has(response.status)) {
      const bodyText = await readResponseText(response, { maxBytes: MAX_SUBMIT_ANSWER_BYTES }).catch(
        () => "",
      );
      throw new SubmitNotConfirmedError(
        `fal answered the submit with HTTP ${response.status}`,
        response.status,
        bodyText,
        response.headers,
      );
    }
    // Read the whole body here: a connection reset mid-body would otherwise surface later, in
    // the client's own body read, as a "terminated" TypeError that its dispatcher resends.
    // Capped by decoded bytes: a submit answer is a few hundred bytes; a bomb is not read.
    let body: Buffer;
    try {
      body = await readResponseBody(response, {
        maxBytes: MAX_SUBMIT_ANSWER_BYTES,
        what: "fal's answer to the submit",
      });
      if (response.headers.get("content-type")?.includes("json")) parseJson(body.toString("utf8"));
    } catch (error) {
      if (error instanceof BodyTooLargeError || error instanceof JsonTooDeepError)
        throw new SubmitNotConfirmedError(
          `fal answered the submit with an answer fal-mcp does not read (${error.message})`,
          undefined,
          undefined,
          response.headers,
        );
      throw new SubmitNotConfirmedError(
        `the connection broke while fal answered the submit (${networkCause(error)})`,
        undefined,
        undefined,
      );
    }
    // An answer in memory already (the transport's) is handed on as it is: no second Response.
    return isBuffered(response) ? response : bufferedResponse(body, response);
  };
}

export async function createOfficialClient(options: {
  key: () => Secret | undefined;
  fetch: typeof fetch;
}): Promise<FalClient> {
  const { createFalClient } = await import("@fal-ai/client");
  // `fetch` reads every answer whole under a cap (Fal.fetch): the client would read any body whole.
  return createFalClient({
    credentials: () => options.key()?.reveal() ?? "",
    fetch: options.fetch,
  });
}
