import { z } from "zod";
import { FalApiError, FalNetworkError, FalResponseError } from "../errors.js";
import { apiErrorFrom } from "../fal/http.js";
import { MAX_ANSWER_BYTES, type FalAnswer } from "../fal/transport.js";
import { networkCause } from "../util/errors.js";
import { parseJson } from "../util/json.js";
import { mapLimited } from "../util/limit.js";
import {
  PART_CONCURRENCY,
  PART_SIZE,
  RETRYABLE,
  RetryablePartError,
  partUrl,
  putRange,
  withPartRetries,
  type PutContext,
} from "./put.js";

/** Multipart uploads: parts a few at a time (one failure stops the rest), then `complete`. */

const partSchema = z.looseObject({ partNumber: z.number().nullish(), etag: z.string().nullish() });

export async function uploadParts(
  context: PutContext,
  uploadUrl: URL,
  size: number,
  parts: number,
  outerSignal: AbortSignal,
  onPartDone: (partSize: number) => void,
): Promise<{ partNumber: number; etag: string }[]> {
  // One failing part stops the others at once.
  const stopAll = new AbortController();
  const signal = AbortSignal.any([outerSignal, stopAll.signal]);
  let failure: Error | undefined;
  const partNumbers = Array.from({ length: parts }, (_, index) => index + 1);
  const etags = await mapLimited(partNumbers, PART_CONCURRENCY, async (partNumber) => {
    // Parts not started when one failed are never sent.
    if (failure !== undefined) return undefined;
    const start = (partNumber - 1) * PART_SIZE;
    const end = Math.min(size, start + PART_SIZE);
    try {
      const etag = await withPartRetries(
        context,
        `part ${partNumber} of ${parts}`,
        signal,
        async (attemptSignal) => {
          const answer = await putRange(
            context,
            partUrl(uploadUrl, String(partNumber)),
            start,
            end,
            {},
            attemptSignal,
          );
          const parsed = partSchema.safeParse(parseJson(answer.text));
          const value = (parsed.success ? parsed.data.etag : undefined) ?? answer.headers.get("etag");
          if (!value)
            throw new RetryablePartError(
              new FalResponseError(`fal's CDN acknowledged part ${partNumber} without an etag`),
            );
          return value;
        },
      );
      onPartDone(end - start);
      return { partNumber, etag };
    } catch (error) {
      failure ??= error instanceof Error ? error : new Error("a part upload failed");
      stopAll.abort(error);
      return undefined;
    }
  });
  if (failure !== undefined) {
    if (outerSignal.aborted) throw outerSignal.reason;
    throw failure;
  }
  return etags.filter((entry) => entry !== undefined);
}

export async function complete(
  context: PutContext,
  uploadUrl: URL,
  parts: { partNumber: number; etag: string }[],
  signal: AbortSignal,
): Promise<void> {
  await withPartRetries(context, "finishing the multipart upload", signal, async (attemptSignal) => {
    let answer: FalAnswer;
    try {
      answer = await context.fal.send(partUrl(uploadUrl, "complete"), {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ parts }),
        signal: AbortSignal.any([attemptSignal, AbortSignal.timeout(Math.max(context.stallMs, 30_000))]),
        maxBytes: MAX_ANSWER_BYTES,
        what: "fal's answer",
      });
    } catch (error) {
      if (attemptSignal.aborted) throw attemptSignal.reason;
      throw new RetryablePartError(new FalNetworkError(networkCause(error), "connection"));
    }
    if (answer.status >= 200 && answer.status < 300) return;
    const failure = apiErrorFrom(
      answer.status,
      answer.headers,
      answer.body.toString("utf8"),
      "finishing an upload to fal's CDN",
    );
    if (RETRYABLE(answer.status)) throw new RetryablePartError(failure);
    throw new FalApiError({
      status: answer.status,
      requestId: failure.requestId,
      message: `fal's CDN refused to assemble the uploaded parts of ${context.fileName} (HTTP ${answer.status}). No file URL was created.`,
      nextStep: "Upload the file again.",
    });
  });
}
