import { Transform, type TransformCallback } from "node:stream";

/**
 * Time bounds for one transfer (a download or an upload): a stall timeout, reset by every chunk
 * that moves, and a total deadline that nothing resets. The stall timeout alone lets a peer that
 * trickles one byte just before each timeout hold a transfer forever; the deadline is what makes
 * each tool's documented time bound hold. Both abort one signal, which the fetch or socket uses, so
 * the connection is torn down when either fires.
 */

export type TransferTimeoutKind = "stall" | "deadline";

/** A transfer stopped by its stall timeout or its total deadline. */
export class TransferTimeoutError extends Error {
  override name = "TransferTimeoutError";
  readonly code = "ERR_FAL_MCP_TRANSFER_TIMEOUT";
  constructor(
    readonly kind: TransferTimeoutKind,
    message: string,
  ) {
    super(message);
  }
}

export interface TransferDeadlineOptions {
  /** Abort when nothing moves for this long (also the wait for the response headers). */
  stallMs: number;
  /** Abort when the whole transfer takes longer than this, however steadily it moves. */
  totalMs: number;
  /** The caller's own signal (a cancelled tool call): aborting it aborts the transfer. */
  signal?: AbortSignal | undefined;
  /** Names the transfer in messages ("the download", "the upload"). */
  what?: string | undefined;
  /** The settings behind the two bounds, named in messages. */
  stallSetting?: string | undefined;
  totalSetting?: string | undefined;
}

export interface TransferDeadline {
  /** Aborted on a stall, at the deadline, or when the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** Call whenever bytes move: restarts the stall timer. */
  touch(): void;
  /** Milliseconds left before the total deadline. */
  remainingMs(): number;
  /** The timeout that fired, if one did. */
  timedOut(): TransferTimeoutError | undefined;
  /** A TransferTimeoutError when a bound fired, else `error` unchanged. */
  explain(error: unknown): unknown;
  /** Clears both timers; call when the transfer is over, however it ended. */
  dispose(): void;
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

export function startTransferDeadline(options: TransferDeadlineOptions): TransferDeadline {
  const what = options.what ?? "the transfer";
  const controller = new AbortController();
  const started = Date.now();
  let fired: TransferTimeoutError | undefined;
  let stallTimer: NodeJS.Timeout | undefined;
  const fire = (error: TransferTimeoutError) => {
    if (controller.signal.aborted) return;
    fired = error;
    controller.abort(error);
    dispose();
  };
  const totalTimer = setTimeout(
    () =>
      fire(
        new TransferTimeoutError(
          "deadline",
          `${what} took longer than ${seconds(options.totalMs)}${options.totalSetting ? ` (${options.totalSetting})` : ""} and was stopped`,
        ),
      ),
    options.totalMs,
  );
  totalTimer.unref();
  const touch = () => {
    if (controller.signal.aborted) return;
    clearTimeout(stallTimer);
    stallTimer = setTimeout(
      () =>
        fire(
          new TransferTimeoutError(
            "stall",
            `${what} stalled: no data for ${seconds(options.stallMs)}${options.stallSetting ? ` (${options.stallSetting})` : ""}`,
          ),
        ),
      options.stallMs,
    );
    stallTimer.unref();
  };
  const onCallerAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) controller.abort(options.signal.reason);
  else options.signal?.addEventListener("abort", onCallerAbort, { once: true });
  function dispose() {
    clearTimeout(stallTimer);
    clearTimeout(totalTimer);
    options.signal?.removeEventListener("abort", onCallerAbort);
  }
  touch();
  return {
    signal: controller.signal,
    touch,
    remainingMs: () => Math.max(0, options.totalMs - (Date.now() - started)),
    timedOut: () => fired,
    explain: (error) => fired ?? error,
    dispose,
  };
}

/** A pass-through stream that touches `deadline` for every chunk, and fails once it has fired. */
export function meteredBy(deadline: TransferDeadline): Transform {
  const stream = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      const fired = deadline.timedOut();
      if (fired) {
        callback(fired);
        return;
      }
      deadline.touch();
      callback(null, chunk);
    },
  });
  const onAbort = () => stream.destroy(deadline.timedOut() ?? (deadline.signal.reason as Error));
  if (deadline.signal.aborted) setImmediate(onAbort);
  else deadline.signal.addEventListener("abort", onAbort, { once: true });
  stream.once("close", () => deadline.signal.removeEventListener("abort", onAbort));
  return stream;
}
