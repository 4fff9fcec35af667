/**
 * The one retry loop. Callers differ in what is worth another attempt and how long to wait
 * (the JSON client honours Retry-After inside a total budget; upload parts back off with jitter),
 * so each passes its policy; the loop itself is written once.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Whether a failure is worth another attempt. */
  retryable(error: unknown): boolean;
  /** Milliseconds to wait after failed attempt `attempt` (1-based); undefined gives up at once. */
  delayMs(attempt: number, error: unknown): number | undefined;
  sleep(ms: number): Promise<void>;
  /** When given: checked before each attempt, and its reason is thrown instead of a failure seen after it fired. */
  signal?: AbortSignal | undefined;
}

/** Runs `attempt` until it succeeds, fails with what is not retryable, or the policy gives up (the last failure is thrown). */
export async function withRetries<T>(
  attempt: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
): Promise<T> {
  for (let n = 1; ; n++) {
    policy.signal?.throwIfAborted();
    try {
      return await attempt(n);
    } catch (error) {
      if (policy.signal?.aborted) throw policy.signal.reason;
      if (!policy.retryable(error) || n >= policy.attempts) throw error;
      const delay = policy.delayMs(n, error);
      if (delay === undefined) throw error;
      await policy.sleep(delay);
    }
  }
}

/** Capped exponential backoff: `baseMs`, twice that, … up to `maxMs`, for failed attempt `attempt` (1-based). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** (attempt - 1));
}
