import { AmbiguousSubmitError } from "../errors.js";
import { requestHistory } from "../fal/billing.js";
import { errorMessage } from "../util/errors.js";
import type { JobContext } from "./context.js";
import { summarizeInput } from "./input-summary.js";
import { resolveAttempt } from "./resolve-submit.js";
import type { JobRecord } from "./store.js";

/**
 * An unconfirmed submit, looked up in fal's request history before the user is told to check the
 * dashboard. Found: the attempt's record becomes that request's record and the job goes on like
 * any other. Otherwise the AmbiguousSubmitError is thrown again, saying what the history showed.
 */
export async function resolveUnconfirmed(
  context: JobContext,
  attempt: { endpointId: string; sentAt: Date; record: JobRecord | undefined },
  sentInput: Record<string, unknown>,
  error: AmbiguousSubmitError,
  options: { retryDelayMs?: number } = {},
): Promise<{ requestId: string; record: JobRecord | undefined; note: string }> {
  const { fal } = context;
  const key = fal.requireKey("Looking up a submit in fal's request history");
  let resolution;
  try {
    resolution = await resolveAttempt({
      attempt: { submittedAt: attempt.sentAt, inputSummary: summarizeInput(sentInput) },
      history: (start, end) =>
        requestHistory(
          { http: fal.http, key, signal: context.signal },
          { endpointId: attempt.endpointId, start, end },
        ),
      summarize: summarizeInput,
      retryDelayMs: options.retryDelayMs ?? 1000,
    });
  } catch (lookupError) {
    throw new AmbiguousSubmitError(
      `${error.message} fal-mcp could not look it up in fal's request history: ${errorMessage(lookupError)}`,
      error.nextStep,
    );
  }
  if (resolution.kind === "found") {
    const note = `The submit's answer was lost, but fal's request history shows the job (request ${resolution.requestId}, matched by ${resolution.matchedBy === "input" ? "its input and time" : "its time"}); it is followed like any other.`;
    let record: JobRecord | undefined;
    if (attempt.record) {
      try {
        record = await context.jobs.resolveUnconfirmed(attempt.record, resolution.requestId, note);
      } catch (recordError) {
        await context.log(
          "error",
          `Could not record job ${resolution.requestId}: ${errorMessage(recordError)}`,
        );
      }
    }
    await context.log("info", note);
    return { requestId: resolution.requestId, record, note };
  }
  if (resolution.kind === "several") {
    throw new AmbiguousSubmitError(
      `${error.message} fal's request history shows ${resolution.requestIds.length} requests to ${attempt.endpointId} with this input at that time: ${resolution.requestIds.join(", ")}.`,
      `Do NOT resubmit: one of them is this job. Call check_job with each request_id (and endpoint_id "${attempt.endpointId}") to follow them.`,
    );
  }
  throw new AmbiguousSubmitError(
    `${error.message} fal's request history shows no such request to ${attempt.endpointId} (looked twice), so fal most likely never received it.`,
    `Do NOT resubmit blindly: the history can lag. Check https://fal.ai/dashboard/requests to be sure, then submit again if it is not there.${attempt.record ? " The attempt stays in fal-mcp's job record as SUBMIT_UNCONFIRMED." : ""}`,
  );
}
