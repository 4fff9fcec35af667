import { z } from "zod";
import {
  AmbiguousSubmitError,
  FalApiError,
  FalNetworkError,
  FalValidationError,
  JobFailedError,
  NotFoundError,
  type FalFieldError,
} from "../errors.js";
import { SubmitNotConfirmedError } from "./client.js";
import { apiErrorFrom } from "./http.js";
import { networkCause } from "../util/errors.js";
import type { Fal } from "./index.js";
import { abortAfter, untilAborted } from "../util/abort.js";
import { heldHeaders } from "../util/bounded-body.js";

/**
 * fal's queue, on the official client: submit exactly once, status, result (with billed units),
 * cancel, and a waiting loop that never cancels the job. Nothing here imports the MCP SDK.
 */

const NAMESPACES = new Set(["workflows", "comfy"]);

/** The app root that status, result and cancel URLs use: `owner/app`, or three segments for `workflows/` and `comfy/`. */
export function appRoot(endpointId: string): string {
  const parts = endpointId.split("/");
  return parts.slice(0, NAMESPACES.has(parts[0] ?? "") ? 3 : 2).join("/");
}

export interface QueueLogLine {
  message: string;
  level?: string | undefined;
  timestamp?: string | undefined;
}

/** A job's state as fal reports it. `status` is fal's value verbatim (IN_QUEUE, IN_PROGRESS, COMPLETED, or anything new). */
export interface QueueStatus {
  status: string;
  queuePosition: number | undefined;
  logs: QueueLogLine[];
  metrics: Record<string, unknown> | undefined;
  /** Set on a COMPLETED job that failed. */
  error: string | undefined;
  errorType: string | undefined;
}

export interface SubmitAnswer {
  requestId: string;
  status: string;
  queuePosition: number | undefined;
  /** The job's URLs as fal's answer gave them (unchecked; see queue-urls.ts). */
  urls: { status_url?: string; response_url?: string; cancel_url?: string };
}

export interface ResultAnswer {
  output: unknown;
  /** x-fal-billable-units, when fal sent it. */
  billableUnits: number | undefined;
}

export type CancelOutcome = "CANCELLATION_REQUESTED" | "ALREADY_COMPLETED" | "NOT_FOUND";

const submitSchema = z.looseObject({
  request_id: z.string().min(1),
  status: z.string().nullish(),
  queue_position: z.number().nullish(),
  status_url: z.string().nullish().catch(undefined),
  response_url: z.string().nullish().catch(undefined),
  cancel_url: z.string().nullish().catch(undefined),
});

const logSchema = z.looseObject({
  message: z.unknown(),
  level: z.string().nullish(),
  timestamp: z.string().nullish(),
});

const statusSchema = z.looseObject({
  status: z.string(),
  queue_position: z.number().nullish(),
  logs: z.array(z.unknown()).nullish(),
  metrics: z.record(z.string(), z.unknown()).nullish(),
  error: z.unknown().optional(),
  error_type: z.string().nullish(),
});

/** An @fal-ai/client ApiError, read without importing the (lazily loaded) client. */
const clientApiErrorSchema = z.object({
  status: z.number(),
  body: z.unknown().optional(),
  requestId: z.string().nullish(),
  message: z.string().optional(),
});

export interface SubmitOptions {
  endpointId: string;
  input: Record<string, unknown>;
  /** Extra request headers (X-Fal-Store-IO, X-Fal-Object-Lifecycle-Preference), lower-cased. */
  headers?: Record<string, string> | undefined;
  /** Stops the local HTTP call only; an abort during the submit makes its outcome unknown. */
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

/**
 * Sends the job to fal's queue once. A broken connection, a timeout or a 502/503/504 after the
 * request was sent throws AmbiguousSubmitError (the job may exist): the caller records the attempt
 * and must not resubmit blindly. A 422 throws FalValidationError with fal's field errors.
 */
export async function submitToQueue(fal: Fal, options: SubmitOptions): Promise<SubmitAnswer> {
  fal.requireKey("Running a model");
  const client = await fal.officialClient();
  // Cleared once fal answered.
  const deadline = abortAfter(options.timeoutMs ?? fal.config.requestTimeoutMs, options.signal);
  let answer: unknown;
  try {
    answer = await client.queue.submit(options.endpointId, {
      input: options.input,
      abortSignal: deadline.controller.signal,
      ...(options.headers && Object.keys(options.headers).length > 0 ? { headers: options.headers } : {}),
    });
  } catch (error) {
    throw submitError(error, options.endpointId, deadline.timedOut());
  } finally {
    deadline.clear();
  }
  const parsed = submitSchema.safeParse(answer);
  if (!parsed.success) {
    // fal accepted something, but we cannot tell which job: as ambiguous as a dropped connection.
    throw new AmbiguousSubmitError(
      `fal accepted the submit to ${options.endpointId} but its answer had no request id, so the job may be running without us knowing it.`,
      AMBIGUOUS_NEXT_STEP,
    );
  }
  return {
    requestId: parsed.data.request_id,
    status: parsed.data.status ?? "IN_QUEUE",
    queuePosition: parsed.data.queue_position ?? undefined,
    urls: {
      ...(parsed.data.status_url ? { status_url: parsed.data.status_url } : {}),
      ...(parsed.data.response_url ? { response_url: parsed.data.response_url } : {}),
      ...(parsed.data.cancel_url ? { cancel_url: parsed.data.cancel_url } : {}),
    },
  };
}

const AMBIGUOUS_NEXT_STEP =
  "Do NOT resubmit blindly: that could pay for the same job twice. " +
  "Look for the job in fal's request history (https://fal.ai/dashboard/requests) first; submit again only if it is not there.";

function submitError(error: unknown, endpointId: string, timedOut: boolean): Error {
  if (error instanceof SubmitNotConfirmedError) {
    const headers = error.headers ?? heldHeaders([]);
    // fal's own word that it did not take the job (X-Fal-Needs-Retry: 1): not ambiguous, and the
    // user may submit again without paying twice. fal-mcp still never resends a submit itself.
    if (
      error.status === 429 ||
      (error.status !== undefined && headers.get("x-fal-needs-retry")?.trim() === "1")
    ) {
      const failure = apiErrorFrom(
        error.status,
        headers,
        error.bodyText ?? "",
        `the submit to ${endpointId}`,
      );
      return headers.get("x-fal-needs-retry")?.trim() === "1"
        ? new FalApiError({
            status: failure.status,
            requestId: failure.requestId,
            errorType: failure.errorType,
            message: `${failure.message} fal answered X-Fal-Needs-Retry: 1, so it did not create the job and nothing was billed.`,
            nextStep: `Submitting again is safe. ${failure.nextStep ?? ""}`.trim(),
          })
        : failure;
    }
    const what = timedOut ? "fal did not answer the submit in time" : error.message;
    return new AmbiguousSubmitError(
      `The job for ${endpointId} may or may not have been created: ${what}.`,
      AMBIGUOUS_NEXT_STEP,
    );
  }
  const mapped = mapClientError(error, `the submit to ${endpointId}`);
  if (mapped) return mapped;
  return new AmbiguousSubmitError(
    `The job for ${endpointId} may or may not have been created: the submit failed (${networkCause(error)}).`,
    AMBIGUOUS_NEXT_STEP,
  );
}

/** Maps an @fal-ai/client ApiError/ValidationError to our typed errors; undefined for anything else. */
export function mapClientError(error: unknown, what: string): FalApiError | undefined {
  if (!(error instanceof Error)) return undefined;
  const parsed = clientApiErrorSchema.safeParse(error);
  if (!parsed.success) return undefined;
  const headers = heldHeaders(parsed.data.requestId ? [["x-fal-request-id", parsed.data.requestId]] : []);
  const body = parsed.data.body;
  const text =
    body === undefined ? (parsed.data.message ?? "") : typeof body === "string" ? body : JSON.stringify(body);
  return apiErrorFrom(parsed.data.status, headers, text, what);
}

export interface JobRef {
  endpointId: string;
  requestId: string;
  signal?: AbortSignal | undefined;
}

/**
 * One status read (with logs when asked). Sent with our own HTTP client, not the official one:
 * the official client retries a status read for up to ~30 s on its own schedule (5 times, also
 * on 500), which overran run_model's wait budget and hid fal's real answer behind a timeout. Ours
 * applies the one network policy (budget, backoff with jitter, Retry-After) and keeps the cause.
 */
export async function getQueueStatus(
  fal: Fal,
  ref: JobRef & { logs?: boolean; timeoutMs?: number },
): Promise<QueueStatus> {
  const key = fal.requireKey("Checking a job");
  const what = `the status of job ${ref.requestId}`;
  try {
    const response = await fal.http.request({
      method: "GET",
      url: `https://queue.fal.run/${appRoot(ref.endpointId)}/requests/${encodeURIComponent(ref.requestId)}/status`,
      query: { logs: ref.logs ? 1 : 0 },
      what,
      key,
      idempotent: true,
      schema: statusSchema,
      signal: ref.signal,
      timeoutMs: ref.timeoutMs ?? fal.config.requestTimeoutMs,
    });
    // Parsed by the request already: read, not parsed again.
    return statusFrom(response.data);
  } catch (error) {
    if (error instanceof FalApiError && error.status === 404) {
      throw new NotFoundError(
        `fal knows no job ${ref.requestId} under ${appRoot(ref.endpointId)} (HTTP 404).`,
        "Check the request_id, and that endpoint_id is the model the job was submitted to.",
      );
    }
    throw error;
  }
}

/** A status answer (parsed by the request) as a QueueStatus. */
function statusFrom(data: z.output<typeof statusSchema>): QueueStatus {
  const logs: QueueLogLine[] = [];
  for (const entry of data.logs ?? []) {
    const line = logSchema.safeParse(entry);
    if (!line.success) continue;
    const message =
      typeof line.data.message === "string" ? line.data.message : JSON.stringify(line.data.message);
    logs.push({ message, level: line.data.level ?? undefined, timestamp: line.data.timestamp ?? undefined });
  }
  const error =
    data.error === undefined || data.error === null
      ? undefined
      : typeof data.error === "string"
        ? data.error
        : JSON.stringify(data.error);
  return {
    status: data.status,
    queuePosition: data.queue_position ?? undefined,
    logs,
    metrics: data.metrics ?? undefined,
    error: error === "" ? undefined : error,
    errorType: data.error_type ?? undefined,
  };
}

/** True for a status that means fal has finished with the job (successfully or not). */
export function isFinished(status: QueueStatus): boolean {
  return status.status === "COMPLETED";
}

/** True when a COMPLETED status says the job failed (fal's rule: `error` or `error_type` present). */
export function isFailure(status: QueueStatus): boolean {
  return status.status === "COMPLETED" && (status.error !== undefined || status.errorType !== undefined);
}

/**
 * Fetches a completed job's output. Uses our own HTTP client rather than the official one so that
 * `x-fal-billable-units` is not lost. A failed job (422 with `detail`, or an error with an
 * `error_type`) throws JobFailedError with fal's reason and field errors.
 */
export async function getQueueResult(fal: Fal, ref: JobRef): Promise<ResultAnswer> {
  const key = fal.requireKey("Fetching a job result");
  const url = `https://queue.fal.run/${appRoot(ref.endpointId)}/requests/${encodeURIComponent(ref.requestId)}`;
  try {
    const response = await fal.http.request({
      method: "GET",
      url,
      what: `the result of job ${ref.requestId}`,
      key,
      idempotent: true,
      schema: z.unknown(),
      signal: ref.signal,
    });
    const units = Number(response.headers.get("x-fal-billable-units") ?? "");
    const header = response.headers.get("x-fal-billable-units");
    return {
      output: response.data,
      billableUnits: header !== null && header.trim() !== "" && Number.isFinite(units) ? units : undefined,
    };
  } catch (error) {
    throw resultError(error, ref);
  }
}

function resultError(error: unknown, ref: JobRef): unknown {
  if (error instanceof FalValidationError) {
    return new JobFailedError({
      message: `The job ${ref.requestId} on ${ref.endpointId} failed: fal rejected its input${firstMessage(error.fieldErrors, error.message)}.`,
      requestId: ref.requestId,
      endpointId: ref.endpointId,
      errorType: error.errorType ?? error.fieldErrors[0]?.type,
      fieldErrors: error.fieldErrors,
    });
  }
  if (!(error instanceof FalApiError)) return error;
  if (error.status === 401 || error.status === 403 || error.status === 429) return error;
  if (error.status === 404) {
    return new NotFoundError(
      `fal no longer has (or never had) a result for job ${ref.requestId} under ${appRoot(ref.endpointId)} (HTTP 404).`,
      "fal keeps a result for 1 hour (6 minutes when it is 10 KB or more). If the job finished earlier, its output may still be in fal's request history (https://fal.ai/dashboard/requests).",
    );
  }
  if (
    error.status === 400 &&
    error.errorType === undefined &&
    /not\s*(yet\s*)?(completed|finished|ready)|in.?progress|in.?queue/i.test(error.message)
  ) {
    return new FalApiError({
      status: 400,
      requestId: ref.requestId,
      message: `Job ${ref.requestId} has not completed yet, so it has no result.`,
      nextStep:
        'Call check_job with action "status" to see how far it is, and ask for the result once it says COMPLETED.',
    });
  }
  // A 5xx without a model error type is fal's infrastructure, not the job: report it as such.
  if (error.status >= 500 && error.errorType === undefined) return error;
  return new JobFailedError({
    message: `The job ${ref.requestId} on ${ref.endpointId} failed: ${error.message.replace(/^fal (answered|had)[^:]*: ?/, "")}`,
    requestId: ref.requestId,
    endpointId: ref.endpointId,
    errorType: error.errorType,
  });
}

function firstMessage(fields: FalFieldError[], fallback: string): string {
  const first = fields[0];
  if (!first) return `: ${fallback}`;
  const name = first.loc.filter((part) => part !== "body").join(".");
  return `: ${name ? `${name}: ` : ""}${first.msg}`;
}

/** Builds the failure of a job whose COMPLETED status carried an error, with details from its result when fal has them. */
export async function failureOf(fal: Fal, ref: JobRef, status: QueueStatus): Promise<JobFailedError> {
  let fromResult: JobFailedError | undefined;
  try {
    await getQueueResult(fal, ref);
  } catch (error) {
    if (error instanceof JobFailedError) fromResult = error;
  }
  const reason = status.error ?? fromResult?.message ?? "fal reported an error without details";
  return new JobFailedError({
    message: `The job ${ref.requestId} on ${ref.endpointId} failed${status.errorType ? ` (${status.errorType})` : ""}: ${reason.replace(/^The job \S+ on \S+ failed: /, "")}`,
    requestId: ref.requestId,
    endpointId: ref.endpointId,
    errorType: status.errorType ?? fromResult?.errorType,
    fieldErrors: fromResult?.fieldErrors,
  });
}

/** Asks fal to cancel a job. Any 2xx means the request was accepted; 400/404 come back as outcomes. */
export async function cancelQueueJob(fal: Fal, ref: JobRef): Promise<CancelOutcome> {
  fal.requireKey("Cancelling a job");
  const client = await fal.officialClient();
  const timeout = AbortSignal.timeout(fal.config.requestTimeoutMs);
  const signal = ref.signal ? AbortSignal.any([ref.signal, timeout]) : timeout;
  try {
    await untilAborted(
      client.queue.cancel(ref.endpointId, { requestId: ref.requestId, abortSignal: signal }),
      signal,
    );
    return "CANCELLATION_REQUESTED";
  } catch (error) {
    const parsed = clientApiErrorSchema.safeParse(error);
    if (parsed.success) {
      const body = z.looseObject({ status: z.string().nullish() }).safeParse(parsed.data.body);
      const said = body.success ? body.data.status : undefined;
      if (said === "ALREADY_COMPLETED" || (parsed.data.status === 400 && said !== "NOT_FOUND"))
        return "ALREADY_COMPLETED";
      if (said === "NOT_FOUND" || parsed.data.status === 404) return "NOT_FOUND";
    }
    const mapped = mapClientError(error, `cancelling job ${ref.requestId}`);
    if (mapped) throw mapped;
    if (timeout.aborted)
      throw new FalNetworkError(`Cancelling job ${ref.requestId}: fal did not answer in time.`, "timeout");
    throw new FalNetworkError(
      `Cancelling job ${ref.requestId}: the connection to fal failed (${networkCause(error)}).`,
      "connection",
    );
  }
}
