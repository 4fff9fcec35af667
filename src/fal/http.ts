import { FalRedirectRefusedError } from "./fal-redirects.js";
import type { z } from "zod";
import {
  FalApiError,
  FalNetworkError,
  FalResponseError,
  FalValidationError,
  type FalFieldError,
} from "../errors.js";
import type { Secret } from "../secret.js";
import { abortAfter, sleep } from "../util/abort.js";
import { backoffMs, withRetries } from "../util/retry.js";
import { networkCause } from "../util/errors.js";
import { formatSeconds } from "../util/format.js";
import { BodyTooLargeError } from "../util/bounded-body.js";
import { MAX_ANSWER_BYTES, type AnswerHeaders, type FalAnswer, type FalSend } from "./transport.js";
import { JsonTooDeepError } from "../util/json-bounds.js";
import { isRecord, parseJson, parseSseOrJson } from "../util/json.js";

/**
 * The network policy for fal's JSON APIs, in one place: a total time budget per call, retries
 * with capped exponential backoff and full jitter for idempotent reads (429, 5xx, network errors,
 * unreadable bodies), `Retry-After` and `X-Fal-needs-retry` honoured, and every failure mapped
 * once to a typed error with fal's request id and a next step. Non-idempotent calls are sent once.
 */
export interface HttpClientOptions {
  /** Sends one request and reads its answer (src/fal/transport.ts), redirect policy applied. */
  send: FalSend;
  /** Total budget of one call, retries included (FAL_MCP_REQUEST_TIMEOUT_MS). */
  timeoutMs: number;
  maxRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injectable for tests. */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface FalRequest<T> {
  method: "GET" | "POST" | "PUT" | "DELETE";
  url: string;
  /** What the call is, for messages ("the model catalog", "pricing"). */
  what: string;
  key?: Secret | undefined;
  query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Reads are retried; writes (submit) never are. */
  idempotent: boolean;
  schema: z.ZodType<T>;
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
  /** How the body is read: JSON (default), server-sent events whose first `data:` line is JSON, or plain text. */
  responseFormat?: "json" | "sse-or-json" | "text";
}

export interface FalResponse<T> {
  status: number;
  headers: AnswerHeaders;
  data: T;
  requestId: string | undefined;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export function buildUrl(base: string, query: FalRequest<unknown>["query"]): string {
  // No query: the URL as given (the send parses it anyway). A query is appended as
  // URLSearchParams would write it, without parsing the URL here as well.
  if (query === undefined) return base;
  const pairs: string[] = [];
  const add = (name: string, value: string) => pairs.push(`${formEncode(name)}=${formEncode(value)}`);
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value as readonly string[]) add(name, item);
    else add(name, String(value));
  }
  if (pairs.length === 0) return base;
  const hash = base.indexOf("#");
  const head = hash === -1 ? base : base.slice(0, hash);
  return `${head}${head.includes("?") ? "&" : "?"}${pairs.join("&")}`;
}

/** application/x-www-form-urlencoded, as URLSearchParams serialises it (space as `+`). */
function formEncode(text: string): string {
  // Letters, digits and *-._ are written as they are by both encodings (the usual case: logs=0).
  if (/^[\w*.-]*$/.test(text)) return text;
  return encodeURIComponent(text)
    .replace(/%20/g, "+")
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Seconds or an HTTP date in Retry-After, as milliseconds from now. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The call's budget ran out before another attempt could start. */
class BudgetSpent extends Error {}

class RetryableError extends Error {
  constructor(
    override readonly cause: Error,
    readonly retryAfterMs?: number,
  ) {
    super(cause.message);
  }
}

export class FalHttpClient {
  readonly #options: Required<HttpClientOptions>;

  constructor(options: HttpClientOptions) {
    this.#options = {
      maxRetries: 3,
      baseDelayMs: 250,
      maxDelayMs: 4000,
      random: Math.random,
      sleep,
      ...options,
    };
  }

  async request<T>(request: FalRequest<T>): Promise<FalResponse<T>> {
    const budgetMs = request.timeoutMs ?? this.#options.timeoutMs;
    const deadline = Date.now() + budgetMs;
    const maxAttempts = request.idempotent ? this.#options.maxRetries + 1 : 1;
    let lastError: Error | undefined;
    try {
      return await withRetries(
        () => {
          const remaining = deadline - Date.now();
          if (remaining <= 0) throw new BudgetSpent();
          return this.#attempt(request, remaining, budgetMs).catch((error: unknown) => {
            if (error instanceof RetryableError) lastError = error.cause;
            throw error;
          });
        },
        {
          attempts: maxAttempts,
          retryable: (error) => error instanceof RetryableError,
          // Full jitter under the cap, but never sooner than fal's Retry-After; no wait past the budget.
          delayMs: (attempt, error) => {
            const backoff = backoffMs(attempt, this.#options.baseDelayMs, this.#options.maxDelayMs);
            const retryAfter = error instanceof RetryableError ? (error.retryAfterMs ?? 0) : 0;
            const delay = Math.max(retryAfter, this.#options.random() * backoff);
            return Date.now() + delay >= deadline ? undefined : delay;
          },
          sleep: (ms) => this.#options.sleep(ms, request.signal),
        },
      );
    } catch (error) {
      if (!(error instanceof RetryableError) && !(error instanceof BudgetSpent)) throw error;
    }
    throw (
      lastError ??
      new FalNetworkError(`${request.what}: no answer from fal within ${formatSeconds(budgetMs)}.`, "timeout")
    );
  }

  async #attempt<T>(request: FalRequest<T>, remainingMs: number, budgetMs: number): Promise<FalResponse<T>> {
    const headers: Record<string, string> = {
      accept:
        request.responseFormat === "text" ? "text/plain, text/markdown;q=0.9, */*;q=0.1" : "application/json",
      ...request.headers,
    };
    if (request.key) headers.authorization = `Key ${request.key.reveal()}`;
    let body: string | undefined;
    if (request.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(request.body);
    }
    let response: FalAnswer;
    // One controller per attempt ends it at the budget or when the caller stops waiting; at the
    // body cap the send tears the connection down rather than draining it.
    const deadline = abortAfter(remainingMs, request.signal);
    try {
      // Capped by decoded bytes: a gzip answer's Content-Length says nothing about its size.
      response = await this.#options.send(buildUrl(request.url, request.query), {
        method: request.method,
        headers,
        body,
        signal: deadline.controller.signal,
        maxBytes: MAX_ANSWER_BYTES,
        what: "fal's answer",
      });
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason as Error;
      if (error instanceof FalRedirectRefusedError)
        throw new FalResponseError(`${request.what}: ${error.message}.`);
      if (error instanceof BodyTooLargeError)
        throw new FalResponseError(
          `${request.what}: fal's answer is unexpectedly large (more than ${MAX_ANSWER_BYTES} bytes once decoded); it was not read.`,
        );
      const failure = deadline.timedOut()
        ? new FalNetworkError(
            `${request.what}: fal did not answer within ${formatSeconds(budgetMs)}.`,
            "timeout",
          )
        : new FalNetworkError(
            `${request.what}: the connection to fal failed (${networkCause(error)}).`,
            "connection",
          );
      throw request.idempotent ? new RetryableError(failure) : failure;
    } finally {
      deadline.clear();
    }
    const text = response.body.toString("utf8");
    const requestId = response.headers.get("x-fal-request-id") ?? undefined;
    if (response.status < 200 || response.status > 299) {
      const failure = apiErrorFrom(response.status, response.headers, text, request.what);
      if (request.idempotent && isRetryableAnswer(response.status, response.headers)) {
        throw new RetryableError(failure, parseRetryAfter(response.headers.get("retry-after")));
      }
      throw failure;
    }
    let json: unknown;
    try {
      json = parseBody(text, request.responseFormat ?? "json");
    } catch (error) {
      if (!(error instanceof JsonTooDeepError)) throw error;
      // Not worth another try: the same answer would come back.
      throw new FalResponseError(
        `${request.what}: fal answered with JSON nested more than ${error.limit} levels deep, which fal-mcp does not read.${requestIdNote(response)}`,
      );
    }
    const parsed = json === undefined ? undefined : request.schema.safeParse(json);
    if (!parsed?.success) {
      const failure = new FalResponseError(
        json === undefined
          ? `${request.what}: fal answered with a body that is not valid JSON (${text.length} bytes, starting ${JSON.stringify(text.slice(0, 60))}).`
          : `${request.what}: fal answered in an unexpected shape (${parsed?.error.issues[0]?.message ?? "unknown"} at ${parsed?.error.issues[0]?.path.join(".") || "top level"}).`,
      );
      // A cut-off body is usually a dropped connection: worth another try for a read.
      throw request.idempotent ? new RetryableError(failure) : failure;
    }
    return { status: response.status, headers: response.headers, data: parsed.data, requestId };
  }
}

/**
 * Whether a failed answer of an idempotent call is worth another try. fal's own word wins:
 * `X-Fal-Needs-Retry: 0` never (even a 503), `1` always (even a status not in the list); without
 * it, 408, 429 and 5xx are, except a 504 for a start deadline the caller set.
 */
export function isRetryableAnswer(status: number, headers: Pick<AnswerHeaders, "get">): boolean {
  const falSays = headers.get("x-fal-needs-retry")?.trim();
  if (falSays === "0") return false;
  if (falSays === "1") return true;
  return (
    RETRYABLE_STATUS.has(status) && !(status === 504 && headers.get("x-fal-request-timeout-type") === "user")
  );
}

function requestIdNote(response: FalAnswer): string {
  const requestId = response.headers.get("x-fal-request-id");
  return requestId ? ` (fal's request id: ${requestId})` : "";
}

function parseBody(text: string, format: "json" | "sse-or-json" | "text"): unknown {
  if (format === "text") return text.slice(0, MAX_ANSWER_BYTES);
  return format === "sse-or-json" ? parseSseOrJson(text) : parseJson(text);
}

/**
 * Maps an error response to a typed error. Handles fal's three body forms: FastAPI `detail`
 * (array of field errors or a string), the flat `{detail, error_type}`, and the Platform
 * envelope `{error: {type, message}}`; HTML and empty bodies fall back to the status text.
 */
export function apiErrorFrom(
  status: number,
  headers: Pick<AnswerHeaders, "get">,
  text: string,
  what: string,
): FalApiError {
  const requestId = headers.get("x-fal-request-id") ?? undefined;
  const body = parseJson(text);
  let detail: string | undefined;
  let errorType = headers.get("x-fal-error-type") ?? undefined;
  let fieldErrors: FalFieldError[] | undefined;
  if (body && typeof body === "object") {
    const record = body as Record<string, unknown>;
    if (Array.isArray(record.detail)) {
      fieldErrors = record.detail.filter(isRecord).map((entry) => ({
        loc: Array.isArray(entry.loc)
          ? entry.loc.filter((p): p is string | number => typeof p === "string" || typeof p === "number")
          : [],
        msg: typeof entry.msg === "string" ? entry.msg : JSON.stringify(entry),
        type: typeof entry.type === "string" ? entry.type : "value_error",
        ctx: isRecord(entry.ctx) ? entry.ctx : undefined,
      }));
    } else if (typeof record.detail === "string") {
      detail = record.detail;
    }
    if (typeof record.error_type === "string") errorType = record.error_type;
    if (isRecord(record.error)) {
      if (typeof record.error.message === "string") detail = record.error.message;
      if (typeof record.error.type === "string") errorType = record.error.type;
    }
    if (!detail && typeof record.message === "string") detail = record.message;
    if (!detail && typeof record.status === "string") detail = record.status;
  } else if (text.trim() && !/^\s*</.test(text)) {
    detail = text.trim().slice(0, 300);
  }
  if (status === 422 || (fieldErrors && fieldErrors.length > 0)) {
    return new FalValidationError({
      message: `fal rejected the input (${what}): ${detail ?? (fieldErrors?.length ? `${fieldErrors.length} invalid field(s)` : "invalid input")}.`,
      fieldErrors: fieldErrors ?? (detail ? [{ loc: ["body"], msg: detail, type: "value_error" }] : []),
      requestId,
      errorType,
    });
  }
  const reason = detail ? `: ${detail}` : "";
  const base = { status, requestId, errorType };
  switch (true) {
    case status === 401:
      return new FalApiError({
        ...base,
        message: `fal refused the API key (HTTP 401) for ${what}${reason}.`,
        nextStep:
          "Check FAL_KEY in your MCP client config: it must be a current key from https://fal.ai/dashboard/keys (FAL_KEY_ID:FAL_KEY_SECRET form also works).",
      });
    case status === 403:
      return new FalApiError({
        ...base,
        message: `fal denied access (HTTP 403) for ${what}${reason}.`,
        nextStep: /lock|balance/i.test(detail ?? "")
          ? "The account is locked, usually for an exhausted balance: add credits at https://fal.ai/dashboard/billing."
          : "The key may lack the scope for this call (some need an ADMIN key), or the model is private.",
      });
    case status === 404:
      return new FalApiError({
        ...base,
        message: `fal found nothing (HTTP 404) for ${what}${reason}.`,
        nextStep: "Check the id; search_models finds endpoint ids.",
      });
    case status === 429:
      return new FalApiError({
        ...base,
        message: `fal is rate limiting this key (HTTP 429) for ${what}${reason}.`,
        nextStep:
          "fal limits how many jobs run at once per account (2 for new accounts, up to 40): wait for running jobs to finish, or raise the limit by adding credits. Then try again.",
      });
    case status === 504 && headers.get("x-fal-request-timeout-type") === "user":
      return new FalApiError({
        ...base,
        message: `The job did not start before its start deadline (HTTP 504) for ${what}${reason}.`,
        nextStep: "Try again later, or without a start timeout.",
      });
    case status >= 500:
      return new FalApiError({
        ...base,
        message: `fal had a server error (HTTP ${status}) for ${what}${reason}.`,
        nextStep:
          "This is on fal's side and is not billed; try again in a moment (see https://status.fal.ai).",
      });
    default:
      return new FalApiError({
        ...base,
        message: `fal answered HTTP ${status} for ${what}${reason}.`,
        nextStep: undefined,
      });
  }
}
