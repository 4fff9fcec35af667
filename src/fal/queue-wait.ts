import { FalApiError, FalNetworkError, FalResponseError } from "../errors.js";
import { sleep as defaultSleep } from "../util/abort.js";
import type { Fal } from "./index.js";
import { backoffMs, withRetries } from "../util/retry.js";
import { getQueueStatus, isFinished, type JobRef, type QueueLogLine, type QueueStatus } from "./queue.js";

/** Waiting for a queued job: polling its status until it finishes, the deadline passes or the caller stops waiting. */

export interface WaitOptions extends JobRef {
  /** Epoch ms after which waiting stops (the job keeps running). */
  deadline: number;
  /** Called after every successful status read, with only the log lines not seen before. */
  onStatus?: (status: QueueStatus, newLogs: QueueLogLine[]) => void | Promise<void>;
  /** Called when a status read fails and waiting goes on. */
  onTransientError?: (error: unknown) => void | Promise<void>;
  /** Poll interval bounds (ms). */
  minIntervalMs?: number;
  maxIntervalMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export interface WaitOutcome {
  /** "completed": fal finished (success or failure); "deadline": time is up; "aborted": the caller stopped waiting. */
  reason: "completed" | "deadline" | "aborted";
  /** The last status read, if any succeeded. */
  status: QueueStatus | undefined;
}

/**
 * Polls a job's status until it completes, the deadline passes or `signal` fires. Never cancels
 * the job (unlike subscribe's `timeout`). Transient failures of a status read are retried with
 * backoff until the deadline; definite ones (401, 403, 404) are thrown.
 */
export async function waitForJob(fal: Fal, options: WaitOptions): Promise<WaitOutcome> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const minInterval = options.minIntervalMs ?? 500;
  const maxInterval = options.maxIntervalMs ?? 2000;
  let interval = minInterval;
  let seenLogs = 0;
  let last: QueueStatus | undefined;
  let lastKey = "";
  const readStatus = async () => {
    try {
      return await getQueueStatus(fal, {
        endpointId: options.endpointId,
        requestId: options.requestId,
        logs: true,
        signal: options.signal,
        timeoutMs: Math.max(250, Math.min(fal.config.requestTimeoutMs, 10_000, options.deadline - now())),
      });
    } catch (error) {
      if (isTransient(error) && !options.signal?.aborted) await options.onTransientError?.(error);
      throw error;
    }
  };
  for (;;) {
    if (options.signal?.aborted) return { reason: "aborted", status: last };
    if (options.deadline - now() <= 0) return { reason: "deadline", status: last };
    let status: QueueStatus;
    try {
      // A failed read is retried like any other call: the one retry loop and the shared capped
      // backoff, for as long as the deadline leaves time.
      status = await withRetries(readStatus, {
        attempts: Number.POSITIVE_INFINITY,
        retryable: isTransient,
        delayMs: (failures) => {
          const wait = Math.min(backoffMs(failures, minInterval, maxInterval), options.deadline - now());
          return wait > 0 ? wait : undefined;
        },
        sleep: (ms) => sleep(ms, options.signal),
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) return { reason: "aborted", status: last };
      // Still transient here means the deadline came first: time is up, the job keeps running.
      if (isTransient(error)) return { reason: "deadline", status: last };
      throw error;
    }
    // fal sends every log line so far on each read; pass on only the new ones.
    const fresh = status.logs.length >= seenLogs ? status.logs.slice(seenLogs) : status.logs;
    seenLogs = status.logs.length;
    last = status;
    await options.onStatus?.(status, fresh);
    if (isFinished(status)) return { reason: "completed", status };
    const key = `${status.status}:${status.queuePosition ?? ""}:${seenLogs}`;
    interval = key === lastKey ? Math.min(maxInterval, Math.round(interval * 1.5)) : minInterval;
    lastKey = key;
    const wait = Math.min(interval, options.deadline - now());
    if (wait <= 0) return { reason: "deadline", status: last };
    try {
      await sleep(wait, options.signal);
    } catch {
      return { reason: "aborted", status: last };
    }
  }
}

/** Errors worth another status read: network trouble, timeouts, 429, 5xx, unreadable bodies. */
export function isTransient(error: unknown): boolean {
  if (error instanceof FalNetworkError || error instanceof FalResponseError) return true;
  if (error instanceof FalApiError)
    return error.status === 408 || error.status === 429 || error.status >= 500;
  return false;
}
