import http from "node:http";
import https from "node:https";
import type { FileHandle } from "node:fs/promises";
import { FalApiError, FalMcpError, FalNetworkError, LocalFileError } from "../errors.js";
import { apiErrorFrom } from "../fal/http.js";
import { redirectUrl } from "../fal/redirect.js";
import type { Fal } from "../fal/index.js";
import type { PutAgents } from "../fal/proxy.js";
import { answerHeaders, type AnswerHeaders } from "../fal/transport.js";
import { backoffMs, withRetries } from "../util/retry.js";
import { sendRange, type ChunkPool } from "./send-range.js";

/**
 * The byte PUTs of an upload to fal's CDN: streamed from the open file with a Content-Length, a
 * stall timeout, and retries with backoff for what is worth another attempt.
 */

const MiB = 1024 * 1024;
/** The official client switches to multipart strictly above this size. */
export const MULTIPART_THRESHOLD = 90 * MiB;
export const PART_SIZE = 10 * MiB;
/** Parts in flight at once: enough to fill a link, small enough to keep memory flat. */
export const PART_CONCURRENCY = 3;
const ATTEMPTS = 3;

export interface PutContext {
  fal: Fal;
  handle: FileHandle;
  /** Direct or through the proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY), per target. */
  agents: PutAgents;
  /** Read buffers shared by the parts of this upload. */
  chunks: ChunkPool;
  fileName: string;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  stallMs: number;
}

/** `https://x.fal.media/upload/abc?token=t` + `/3` → `https://x.fal.media/upload/abc/3?token=t`. */
export function partUrl(uploadUrl: URL, suffix: string): string {
  return `${uploadUrl.origin}${uploadUrl.pathname.replace(/\/+$/, "")}/${suffix}${uploadUrl.search}`;
}

/** Failure of one attempt that is worth another (network, stall, 408/429/5xx, unreadable answer). */
export class RetryablePartError extends Error {
  constructor(readonly failure: FalMcpError) {
    super(failure.message);
  }
}

export async function withPartRetries<T>(
  context: PutContext,
  what: string,
  signal: AbortSignal,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  let last: FalMcpError | undefined;
  try {
    return await withRetries(() => attempt(signal), {
      attempts: ATTEMPTS,
      retryable: (error) => error instanceof RetryablePartError,
      // Capped exponential backoff with half jitter, so parallel parts do not retry in step.
      delayMs: (n) => backoffMs(n, 500, 4000) * (0.5 + Math.random() / 2),
      sleep: (ms) => context.sleep(ms, signal),
      signal,
    });
  } catch (error) {
    if (!(error instanceof RetryablePartError)) throw error;
    last = error.failure;
  }
  const reason = (last?.message ?? "unknown error").replace(/\.$/, "");
  if (last instanceof FalApiError) {
    throw new FalApiError({
      status: last.status,
      requestId: last.requestId,
      message: `Uploading ${context.fileName} to fal's CDN failed: ${what} failed ${ATTEMPTS} times (${reason}). The upload was abandoned; no file URL was created.`,
      nextStep:
        "Try again in a moment; if it keeps failing, fal's storage may be having an outage (https://status.fal.ai).",
    });
  }
  throw new FalNetworkError(
    `Uploading ${context.fileName} to fal's CDN failed: ${what} failed ${ATTEMPTS} times (${reason}). The upload was abandoned; no file URL was created.`,
    last instanceof FalNetworkError ? last.kind : "connection",
  );
}

export const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

interface PutAnswer {
  status: number;
  headers: AnswerHeaders;
  text: string;
}

function connectionCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : error instanceof Error ? error.message : String(error);
}

/**
 * PUTs bytes [start, end) of the file, streamed from disk as the socket drains (sendRange), with
 * a stall watchdog (no chunk taken by the socket and no answer for stallMs aborts the attempt).
 *
 * Sent with node:http(s) on the redirected URL rather than fetch: with undici's fetch the
 * garbage of its web-stream body handling grew the process by ~120 MB during a 1 GiB upload
 * (measured), twice what a piped read stream costs, and the issue caps peak RSS at 150 MB.
 */
export function putRange(
  context: PutContext,
  url: URL | string,
  start: number,
  end: number,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<PutAnswer> {
  return new Promise<PutAnswer>((resolve, reject) => {
    const cancelled = () =>
      signal.reason instanceof Error ? signal.reason : new Error("the upload was cancelled");
    if (signal.aborted) return reject(cancelled());
    const target = new URL(redirectUrl(typeof url === "string" ? url : url.href, context.fal.config.baseUrl));
    const secure = target.protocol === "https:";
    const request = (secure ? https : http).request(target, {
      method: "PUT",
      agent: context.agents.agentFor(target),
      // No Authorization: the signed URL is the credential, and fal's CDN must never see the key.
      headers: { ...headers, "content-length": String(end - start) },
    });
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    // Reads only from the checked, still-open handle (positional reads; never closed here).
    const send = sendRange(request, context.handle, start, end, {
      pool: context.chunks,
      fileName: context.fileName,
      onMoved: () => touch(),
    });
    const finish = (error: Error | undefined, answer?: PutAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      send.stop();
      if (error || !answer) {
        request.destroy();
        reject(error ?? new Error("no answer"));
      } else {
        // Answered before the whole body was sent (a refusal): this connection cannot be reused.
        if (!request.writableEnded) request.destroy();
        resolve(answer);
      }
    };
    const onStall = () =>
      finish(
        new RetryablePartError(
          new FalNetworkError(`no byte moved for ${Math.round(context.stallMs / 1000)} s`, "stalled"),
        ),
      );
    // Called for every chunk the socket takes and every chunk of the answer: one timer restarted
    // in place, not a new timer each time.
    const touch = () => {
      if (settled) return;
      if (timer) timer.refresh();
      else timer = setTimeout(onStall, context.stallMs);
    };
    const onAbort = () => finish(cancelled());
    signal.addEventListener("abort", onAbort, { once: true });
    send.done.catch((error: unknown) =>
      finish(
        error instanceof LocalFileError
          ? error
          : new RetryablePartError(new FalNetworkError(connectionCode(error), "connection")),
      ),
    );
    request.on("response", (response) => {
      touch();
      const chunks: Buffer[] = [];
      let length = 0;
      response.on("data", (chunk: Buffer) => {
        touch();
        if (length < 64 * 1024) {
          chunks.push(chunk);
          length += chunk.length;
        }
      });
      response.on("end", () =>
        finish(undefined, {
          status: response.statusCode ?? 0,
          headers: answerHeaders(response.headers),
          text: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      response.on("error", (error) =>
        finish(new RetryablePartError(new FalNetworkError(connectionCode(error), "connection"))),
      );
    });
    request.on("error", (error) =>
      finish(new RetryablePartError(new FalNetworkError(connectionCode(error), "connection"))),
    );
    touch();
  }).then((answer) => {
    if (answer.status >= 200 && answer.status < 300) return answer;
    const failure = apiErrorFrom(answer.status, answer.headers, answer.text, "an upload to fal's CDN");
    if (RETRYABLE(answer.status)) throw new RetryablePartError(failure);
    throw new FalApiError({
      status: answer.status,
      requestId: failure.requestId,
      message: `fal's CDN refused the upload of ${context.fileName} (HTTP ${answer.status}). No file URL was created.`,
      nextStep:
        "Try again; if it repeats, the signed upload may have expired (very slow link) or fal's storage changed: please report it.",
    });
  });
}
