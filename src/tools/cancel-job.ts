import { z } from "zod";
import { cancelQueueJob, getQueueStatus, type QueueStatus } from "../fal/queue.js";
import { defineTool } from "./define.js";
import { reportRecordProblems } from "../jobs/submit.js";
import { jobOutputSchema, type JobOutput } from "./schemas.js";
import { jobReferenceFields, queueUrlSchema, resolveJob } from "./job-ref.js";

const inputSchema = z.strictObject({
  ...jobReferenceFields,
  cancel_url: queueUrlSchema("cancel"),
});

const CANCEL_MESSAGES = {
  CANCELLATION_REQUESTED:
    "fal accepted the cancellation. A job still in the queue is removed and not billed; a job already running gets a stop signal and may still finish (and be billed).",
  ALREADY_COMPLETED: "Too late to cancel: the job has already completed. Fetch it with get_job_result.",
  NOT_FOUND:
    "fal knows no such job under this endpoint (wrong request_id or endpoint_id, or the job is long gone).",
} as const;

export const cancelJob = defineTool({
  name: "cancel_job",
  title: "Cancel a fal job",
  description:
    "CANCELS a queued or running job on fal, by the request_id that run_model or submit_job returned. A queued job is removed and not billed; a running one gets a stop signal and may still finish and be billed. " +
    "Use it only when the user asks to stop a job: it cannot be undone, and the job's paid work is lost. Waiting, timeouts and status checks never cancel anything. " +
    "The answer says what fal did (CANCELLATION_REQUESTED, ALREADY_COMPLETED or NOT_FOUND) and the job's state afterwards.",
  inputSchema,
  outputSchema: jobOutputSchema,
  // The one tool that stops a paid job: destructive, so clients can ask before it runs. Asking
  // twice has the same effect as asking once.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, context) {
    await reportRecordProblems(context);
    const { record, ...job } = await resolveJob(context, {
      tool: "cancel_job",
      requestId: args.request_id,
      endpointId: args.endpoint_id,
      queueUrl: args.cancel_url ? { raw: args.cancel_url, kind: "cancel" } : undefined,
    });
    const outcome = await cancelQueueJob(context.fal, { ...job, signal: context.signal });
    let status: QueueStatus | undefined;
    if (outcome !== "NOT_FOUND") {
      // Confirm what fal did: a queued job disappears, a running one may still complete.
      status = await getQueueStatus(context.fal, { ...job, logs: false, signal: context.signal }).catch(
        () => undefined,
      );
    }
    const stateNow =
      outcome === "CANCELLATION_REQUESTED"
        ? "CANCELLATION_REQUESTED"
        : outcome === "ALREADY_COMPLETED"
          ? "COMPLETED"
          : "NOT_FOUND";
    if (record)
      await context.jobs
        .update(job.requestId, { status: outcome === "NOT_FOUND" ? record.status : stateNow })
        .catch(() => undefined);
    const message = CANCEL_MESSAGES[outcome];
    const nextStep =
      outcome === "ALREADY_COMPLETED"
        ? `Call get_job_result with request_id "${job.requestId}" to get and save the files.`
        : outcome === "CANCELLATION_REQUESTED"
          ? `Call check_job with request_id "${job.requestId}" to see whether it stopped or still completed.`
          : undefined;
    const structured: JobOutput = {
      request_id: job.requestId,
      endpoint_id: job.endpointId,
      status: status?.status && outcome !== "CANCELLATION_REQUESTED" ? status.status : stateNow,
      queue_position: status?.queuePosition ?? null,
      cancel: { outcome, message },
      recorded: record !== undefined,
      ...(nextStep ? { next_step: nextStep } : {}),
    };
    const after = status
      ? ` fal now reports the job as ${status.status}${status.error ? ` (${status.error})` : ""}.`
      : "";
    return {
      structuredContent: structured,
      text: `Cancel of job ${job.requestId} on ${job.endpointId}: ${outcome}. ${message}${after}${nextStep ? `\n${nextStep}` : ""}`,
    };
  },
});
