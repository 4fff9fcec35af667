/**
 * Settles with `promise`, or rejects as soon as `signal` fires (at once if it already has), then
 * calls `onAbort`. For work that does not watch a signal itself (the official client sleeps
 * between its retries without looking at it), or that other callers still share (the catalog's
 * in-flight requests), so one caller can stop waiting without ending the work for the others.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, onAbort?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort?.();
      reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    };
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", abort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Waits `ms`, or rejects with the signal's reason as soon as it fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A signal that fires when any of `sources` does, for joining a short-lived signal (one call's)
 * with a long-lived one (the process's stop signal); `release()` unhooks it once the short-lived
 * work is done. Not AbortSignal.any: on Node 20 that keeps a WeakRef to every signal it makes in
 * each source's set for the source's whole life, so one per call grew the stop signal without
 * bound (~50 bytes a call, 15,700 entries after 5,000 calls of the bench's mix).
 */
export function joinSignals(sources: readonly AbortSignal[]): { signal: AbortSignal; release(): void } {
  const fired = sources.find((source) => source.aborted);
  if (fired) return { signal: AbortSignal.abort(fired.reason), release: () => undefined };
  const controller = new AbortController();
  const hooks = sources.map((source) => {
    const onAbort = () => {
      release();
      controller.abort(source.reason);
    };
    source.addEventListener("abort", onAbort, { once: true });
    return () => source.removeEventListener("abort", onAbort);
  });
  const release = () => {
    for (const unhook of hooks) unhook();
  };
  return { signal: controller.signal, release };
}

/**
 * An AbortController that aborts itself with a TimeoutError after `ms`, and with `follow`'s reason
 * when `follow` aborts; `clear()` stops the timer and unhooks `follow` once the work is done. One
 * unref'd timer and one listener: on Node 20, AbortSignal.timeout (a weak timer with a finalizer)
 * and AbortSignal.any (a signal set per source) were among the costlier calls of a request.
 */
export function abortAfter(
  ms: number,
  follow?: AbortSignal,
): { controller: AbortController; timedOut(): boolean; clear(): void } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
  }, ms);
  timer.unref();
  const followed = () => controller.abort(follow?.reason);
  if (follow?.aborted) followed();
  else follow?.addEventListener("abort", followed, { once: true });
  return {
    controller,
    timedOut: () => timedOut,
    clear() {
      clearTimeout(timer);
      follow?.removeEventListener("abort", followed);
    },
  };
}
