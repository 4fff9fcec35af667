import { FalApiError, FalNetworkError, FalResponseError } from "../errors.js";
import { sleep as defaultSleep } from "../util/abort.js";
import type { Fal } from "./index.js";
import { backoffMs } from "../util/retry.js";
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
  let failures = 0;
  let seenLogs = 0;
  let last: QueueStatus | undefined;
  let lastKey = "";
  for (;;) {
    if (options.signal?.aborted) return { reason: "aborted", status: last };
    const remaining = options.deadline - now();
    if (remaining <= 0) return { reason: "deadline", status: last };
    try {
      const status = await getQueueStatus(fal, {
        endpointId: options.endpointId,
        requestId: options.requestId,
        logs: true,
        signal: options.signal,
        timeoutMs: Math.max(250, Math.min(fal.config.requestTimeoutMs, 10_000, remaining)),
      });
      failures = 0;
      // fal sends every log line so far on each read; pass on only the new ones.
      const fresh = status.logs.length >= seenLogs ? status.logs.slice(seenLogs) : status.logs;
      seenLogs = status.logs.length;
      last = status;
      await options.onStatus?.(status, fresh);
      if (isFinished(status)) return { reason: "completed", status };
      const key = `${status.status}:${status.queuePosition ?? ""}:${seenLogs}`;
      interval = key === lastKey ? Math.min(maxInterval, Math.round(interval * 1.5)) : minInterval;
      lastKey = key;
    } catch (error) {
      if (options.signal?.aborted) return { reason: "aborted", status: last };
      if (!isTransient(error)) throw error;
      failures++;
      await options.onTransientError?.(error);
      // A poll that failed is retried like any other call: the shared capped backoff.
      interval = backoffMs(failures, minInterval, maxInterval);
    }
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
