import { AmbiguousSubmitError } from "../errors.js";
import { readPolicyFor } from "../files/access.js";
import { uploadLocalInputs, type LocalInputUpload } from "../files/local-inputs.js";
import { submitToQueue } from "../fal/queue.js";
import { jobUrls, type QueueUrls } from "../fal/queue-urls.js";
import { errorMessage } from "../util/errors.js";
import type { JobContext, ProgressCounter } from "./context.js";
import { generationHeaders, recipeOf, type Recipe, type RetentionOptions } from "./generation.js";
import type { JobRecord } from "./store.js";

/**
 * Submitting a job: the local files of its input uploaded first, one submit to fal's queue (never
 * retried once it may have been received), and the job recorded durably before anything returns.
 */

export interface Submitted {
  requestId: string;
  endpointId: string;
  status: string;
  queuePosition: number | undefined;
  uploads: LocalInputUpload[];
  record: JobRecord | undefined;
  /** Why the record could not be written (the job still exists on fal). */
  recordError: string | undefined;
  /** fal's URLs of the job (checked, else the app-root form). */
  urls: QueueUrls;
  /** fal's recipe: how to run the same job again. */
  recipe: Recipe;
}

/** Reports unusable records once per process (they are kept aside, never dropped). */
export async function reportRecordProblems(context: JobContext): Promise<void> {
  if (context.config.mode === "http") return; // fal-mcp http keeps no job record
  const problems = await context.jobs.scanOnce();
  for (const problem of problems) {
    await context.log(
      "warning",
      `The job record ${problem.file} could not be used: ${problem.reason}.${problem.movedTo ? ` It was kept aside as ${problem.movedTo}.` : " It was left in place."}`,
    );
  }
}

/**
 * Uploads local files named in the input, submits the job once, and records it before returning.
 * An ambiguous submit is recorded as SUBMIT_UNCONFIRMED and rethrown.
 */
export async function submitAndRecord(
  context: JobContext,
  request: {
    endpointId: string;
    input: Record<string, unknown>;
    tool: string;
    /** expiration_seconds and store_payload, sent as fal's generation headers. */
    retention: RetentionOptions;
    progress?: ProgressCounter;
  },
): Promise<Submitted> {
  const { fal } = context;
  fal.requireKey("Running a model");
  await reportRecordProblems(context);

  const prepared = await uploadLocalInputs(request.input, {
    fal,
    policy: readPolicyFor(context.config, await context.roots()),
    signal: context.signal,
    onNotice: (message) => void context.log("info", message),
    onProgress: (message) => {
      void context.log("info", message);
      void request.progress?.step(message);
    },
  });

  // From here until the record is written, a paid job may exist that only this process knows:
  // shutdown waits for this section, and writes what it knows if time runs out (src/index.ts).
  const section =
    context.config.mode === "http"
      ? undefined
      : context.inFlight?.begin({
          endpointId: request.endpointId,
          tool: request.tool,
          input: prepared.input,
          uploads: prepared.uploads,
        });
  let answer;
  try {
    section?.markSent();
    // No abort signal: a submit cut off mid-flight (a cancelled call, shutdown) has an unknown
    // outcome, which costs the request id of a job that may be paid for. It runs to fal's answer
    // or its own timeout; shutdown waits for it (bounded) and records it either way.
    answer = await submitToQueue(fal, {
      endpointId: request.endpointId,
      input: prepared.input,
      headers: generationHeaders(request.retention),
    });
  } catch (error) {
    if (!(error instanceof AmbiguousSubmitError)) {
      section?.end();
      throw error;
    }
    // fal-mcp http writes nothing to its disk: the message itself is the only trace there.
    if (context.config.mode === "http")
      throw new AmbiguousSubmitError(
        `${error.message} fal-mcp http keeps no job record: keep this message.`,
        error.nextStep,
      );
    let recorded: string;
    try {
      const record = await context.jobs.recordUnconfirmed({
        endpointId: request.endpointId,
        tool: request.tool,
        input: prepared.input,
        uploads: prepared.uploads,
        reason: error.message,
      });
      recorded = ` The attempt was recorded in fal-mcp's job record as ${record.attempt_id} (status SUBMIT_UNCONFIRMED, in ${context.jobs.directory}).`;
      await context.log(
        "warning",
        `Submit to ${request.endpointId} unconfirmed; recorded as attempt ${record.attempt_id} in ${context.jobs.directory}.`,
      );
    } catch (recordError) {
      // Say "recorded" only when it was: here it was not, so the user must keep this message.
      recorded = ` It could NOT be recorded (${errorMessage(recordError)}): keep this message, it is the only trace of the attempt.`;
      await context.log(
        "error",
        `Could not record the unconfirmed submit to ${request.endpointId}: ${errorMessage(recordError)}`,
      );
    } finally {
      section?.end();
    }
    throw new AmbiguousSubmitError(error.message + recorded, error.nextStep);
  }
  section?.setRequestId(answer.requestId);

  let record: JobRecord | undefined;
  let recordError: string | undefined;
  // fal-mcp http writes nothing to its disk: the request id (and endpoint_id) are the only handle.
  if (context.config.mode !== "http") {
    try {
      record = await context.jobs.create({
        requestId: answer.requestId,
        endpointId: request.endpointId,
        tool: request.tool,
        input: prepared.input,
        uploads: prepared.uploads,
        status: answer.status,
        queuePosition: answer.queuePosition,
      });
    } catch (error) {
      // The job exists and is paid for: never fail the call over the local record, return its id.
      recordError = errorMessage(error);
      await context.log(
        "error",
        `Job ${answer.requestId} was submitted but could not be recorded in ${context.jobs.directory}: ${recordError}`,
      );
    } finally {
      section?.end();
    }
  }
  await context.log(
    "info",
    `Submitted ${request.endpointId}: request ${answer.requestId}${answer.queuePosition !== undefined ? `, queue position ${answer.queuePosition}` : ""}.`,
  );
  return {
    requestId: answer.requestId,
    endpointId: request.endpointId,
    status: answer.status,
    queuePosition: answer.queuePosition,
    uploads: prepared.uploads,
    record,
    recordError,
    urls: jobUrls(request.endpointId, answer.requestId, answer.urls),
    recipe: recipeOf(request.endpointId, prepared.input, request.retention.storePayload),
  };
}
