import { AmbiguousSubmitError } from "../errors.js";
import { readPolicyFor, type ReadPolicy } from "../files/access.js";
import { checkLocalInputs, uploadLocalInputs, type LocalInputUpload } from "../files/local-inputs.js";
import { submitToQueue } from "../fal/queue.js";
import { jobUrls, type QueueUrls } from "../fal/queue-urls.js";
import { errorMessage } from "../util/errors.js";
import type { JobContext, ProgressCounter } from "./context.js";
import { describeEstimate } from "./estimate.js";
import { ApprovalElicitation, type Clearance } from "./money.js";
import { elicitationReallyShown, honoursRequiresUserInteraction } from "./spend-gate.js";
import { generationHeaders, recipeOf, type Recipe, type RetentionOptions } from "./generation.js";
import type { JobRecord, RecordOutcome } from "./store.js";
import { resolveUnconfirmed } from "./unconfirmed.js";
import type { Section } from "./in-flight.js";

/**
 * Submitting a job: the local files of its input uploaded first, one submit to fal's queue (never
 * retried once it may have been received), and the job recorded durably before anything returns.
 */

export interface Submitted extends RecordOutcome {
  requestId: string;
  endpointId: string;
  status: string;
  queuePosition: number | undefined;
  uploads: LocalInputUpload[];
  /** fal's URLs of the job (checked, else the app-root form). */
  urls: QueueUrls;
  /** fal's recipe: how to run the same job again. */
  recipe: Recipe;
  /** The estimate before the submit and the money notes for the answer. */
  money: SubmitMoney;
}

export interface SubmitMoney {
  estimate_usd: number | null;
  /** The estimate in words ("about $0.05 (…)" or "unknown: …"). */
  estimate: string;
  notes: string[];
}

/**
 * A submitted job whose durable record is still being written: `record` is what is being written
 * (undefined in HTTP mode). `recorded` settles once it is on disk, or its write failed; never
 * rejects. The tool must await it before it answers (shutdown waits for it too).
 */
export interface SubmittedRecording extends Omit<Submitted, keyof RecordOutcome> {
  record: JobRecord | undefined;
  recorded: Promise<RecordOutcome>;
}

/** What the caller asked for besides the input: they are part of what an approval covers. */
export interface PaidRequest {
  endpointId: string;
  input: Record<string, unknown>;
  tool: string;
  progress?: ProgressCounter;
  /** The model says the user approved this exact call (after an approval refusal). */
  confirm?: boolean | undefined;
  /** Other arguments that change what is bought. */
  options?: Record<string, unknown> | undefined;
  /** expiration_seconds and store_payload, sent as fal's generation headers. */
  retention: RetentionOptions;
}

/**
 * The money gate (schema, estimate, caps, approval) for one paid call. Throws when the call must
 * not be sent, or ApprovalElicitation when the client should show the approval form first.
 */
export async function clearPaidCall(context: JobContext, request: PaidRequest): Promise<Clearance> {
  const caller = context.caller;
  const decision = await context.money.clear(
    {
      endpointId: request.endpointId,
      input: request.input,
      options: { ...request.retention, ...request.options },
      signal: context.signal,
    },
    {
      confirm: request.confirm === true,
      canElicit: elicitationReallyShown(caller?.clientName, caller?.formElicitation ?? false),
      elicited: caller?.elicited,
      clientAsksEveryCall: honoursRequiresUserInteraction(caller?.clientName),
    },
  );
  if (decision.kind === "elicit") throw new ApprovalElicitation(decision.question, decision.fingerprint);
  return decision;
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
export async function submitAndRecord(context: JobContext, request: PaidRequest): Promise<Submitted> {
  const { recorded, ...submitted } = await submitAndStartRecord(context, request);
  return { ...submitted, ...(await recorded) };
}

/**
 * The same, returning as soon as fal answered the submit, with the record's durable write under
 * way: a caller overlaps it with reading the job's status and awaits `recorded` before answering.
 */
export async function submitAndStartRecord(
  context: JobContext,
  request: PaidRequest,
): Promise<SubmittedRecording> {
  const { fal } = context;
  fal.requireKey("Running a model");
  await reportRecordProblems(context);
  // Everything that can refuse the call runs before any upload or submit: first the local files
  // (no request at all), then the money gate (schema, price and estimate reads).
  const policy = readPolicyFor(context.config, await context.roots());
  await checkLocalInputs(request.input, { fal, policy });
  const clearance = await clearPaidCall(context, request);
  let submitted: SubmittedRecording;
  try {
    submitted = await sendAndRecord(context, request, clearance, policy);
  } catch (error) {
    await clearance.release();
    throw error;
  }
  // The record (or its absence after a failure) carries the estimate for the daily cap from when
  // it is written: the hold is released then, not before.
  const recorded = submitted.recorded.then(async (outcome) => {
    await clearance.release();
    return outcome;
  });
  return { ...submitted, recorded };
}

async function sendAndRecord(
  context: JobContext,
  request: PaidRequest,
  clearance: Clearance,
  policy: ReadPolicy,
): Promise<SubmittedRecording> {
  const { fal } = context;
  const estimate = { usd: clearance.estimateUsd, basis: describeEstimate(clearance.estimate) };
  const money: SubmitMoney = {
    estimate_usd: clearance.estimateUsd,
    estimate: estimate.basis,
    notes: clearance.notes,
  };

  const prepared = await uploadLocalInputs(request.input, {
    fal,
    policy,
    signal: context.signal,
    onNotice: (message) => void context.log("info", message),
    onProgress: (message) => {
      void context.log("info", message);
      void request.progress?.step(message);
    },
  });

  let answer;
  const sentAt = new Date();
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
          estimate,
          submittedAt: sentAt,
        });
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
    // fal-mcp http writes nothing to its disk: the attempt is looked up without a record.
    let attempt: JobRecord | undefined;
    // Say "recorded" only when it was: otherwise the user must keep the message.
    let recorded =
      context.config.mode === "http" ? " fal-mcp http keeps no job record: keep this message." : "";
    if (context.config.mode !== "http") {
      try {
        attempt = await context.jobs.recordUnconfirmed({
          endpointId: request.endpointId,
          tool: request.tool,
          input: prepared.input,
          uploads: prepared.uploads,
          reason: error.message,
          estimate,
          now: sentAt,
        });
        recorded = ` The attempt was recorded in fal-mcp's job record as ${attempt.attempt_id} (status SUBMIT_UNCONFIRMED, in ${context.jobs.directory}).`;
        await context.log(
          "warning",
          `Submit to ${request.endpointId} unconfirmed; recorded as attempt ${attempt.attempt_id} in ${context.jobs.directory}.`,
        );
      } catch (recordError) {
        recorded = ` It could NOT be recorded (${errorMessage(recordError)}): keep this message, it is the only trace of the attempt.`;
        await context.log(
          "error",
          `Could not record the unconfirmed submit to ${request.endpointId}: ${errorMessage(recordError)}`,
        );
      } finally {
        section?.end();
      }
    }
    // Before the user is sent to the dashboard: fal's request history may know the job.
    const resolved = await resolveUnconfirmed(
      context,
      { endpointId: request.endpointId, sentAt, record: attempt },
      prepared.input,
      new AmbiguousSubmitError(error.message + recorded, error.nextStep),
    );
    return {
      requestId: resolved.requestId,
      endpointId: request.endpointId,
      status: "IN_QUEUE",
      queuePosition: undefined,
      uploads: prepared.uploads,
      record: resolved.record,
      recorded: Promise.resolve({ record: resolved.record, recordError: undefined }),
      money: { ...money, notes: [...money.notes, resolved.note] },
      urls: jobUrls(request.endpointId, resolved.requestId, undefined),
      recipe: recipeOf(request.endpointId, prepared.input, request.retention.storePayload),
    };
  }
  section?.setRequestId(answer.requestId);

  // fal-mcp http writes nothing to its disk: the request id (and endpoint_id) are the only handle.
  const { record, recorded } =
    context.config.mode === "http"
      ? { record: undefined, recorded: Promise.resolve({ record: undefined, recordError: undefined }) }
      : startRecord(context, request, prepared, answer, estimate, section);
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
    recorded,
    money,
    urls: jobUrls(request.endpointId, answer.requestId, answer.urls),
    recipe: recipeOf(request.endpointId, prepared.input, request.retention.storePayload),
  };
}

/**
 * Starts the durable write of an accepted job's record, at once after fal's answer. The in-flight
 * section ends only once the write settled, so shutdown waits for it; a failed write is reported
 * and never fails the call (the job exists and is paid for: its request id is still returned).
 */
function startRecord(
  context: JobContext,
  request: PaidRequest,
  prepared: { input: unknown; uploads: LocalInputUpload[] },
  answer: { requestId: string; status: string; queuePosition: number | undefined },
  estimate: { usd: number | null; basis: string },
  section: Section | undefined,
): { record: JobRecord | undefined; recorded: Promise<RecordOutcome> } {
  let started: { record: JobRecord | undefined; written: Promise<JobRecord> };
  try {
    started = context.jobs.startCreate({
      requestId: answer.requestId,
      endpointId: request.endpointId,
      tool: request.tool,
      input: prepared.input,
      uploads: prepared.uploads,
      status: answer.status,
      queuePosition: answer.queuePosition,
      estimate,
    });
  } catch (error) {
    started = {
      record: undefined,
      written: Promise.reject(error instanceof Error ? error : new Error(String(error))),
    };
  }
  const recorded = started.written.then(
    (record): RecordOutcome => ({ record, recordError: undefined }),
    async (error: unknown): Promise<RecordOutcome> => {
      const recordError = errorMessage(error);
      await context.log(
        "error",
        `Job ${answer.requestId} was submitted but could not be recorded in ${context.jobs.directory}: ${recordError}`,
      );
      return { record: undefined, recordError };
    },
  );
  const end = () => section?.end();
  recorded.then(end, end);
  return { record: started.record, recorded };
}
