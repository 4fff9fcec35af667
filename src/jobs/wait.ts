import type { JobFailedError } from "../errors.js";
import { failureOf, type QueueLogLine, type QueueStatus } from "../fal/queue.js";
import { waitForJob, type WaitOutcome } from "../fal/queue-wait.js";
import { errorMessage } from "../util/errors.js";
import { recordStatus, type JobContext, type LogLevel, type ProgressCounter } from "./context.js";

/** Waiting for a job: polling fal's queue with progress, log mirroring, and the record kept current. */

/**
 * Waits for a job until `deadline`, sending progress (queue position, then the newest log line),
 * mirroring fal's log lines as MCP log messages, and keeping the record's status current.
 */
export async function waitWithProgress(
  context: JobContext,
  job: { endpointId: string; requestId: string; deadline: number; progress: ProgressCounter },
): Promise<WaitOutcome> {
  let lastStatus = "";
  const short = job.requestId.slice(0, 8);
  return waitForJob(context.fal, {
    endpointId: job.endpointId,
    requestId: job.requestId,
    deadline: job.deadline,
    signal: context.signal,
    onStatus: async (status, fresh) => {
      for (const line of fresh)
        await context.log(logLevel(line), `[${job.endpointId} ${short}] ${line.message}`);
      const key = `${status.status}:${status.queuePosition ?? ""}`;
      if (key !== lastStatus || fresh.length > 0) {
        await job.progress.step(progressMessage(status, fresh));
      }
      if (status.status !== lastStatus.split(":")[0] && status.status !== "COMPLETED") {
        await recordStatus(context, job.requestId, status);
      }
      lastStatus = key;
    },
    onTransientError: async (error) => {
      await context.log(
        "warning",
        `Reading the status of ${job.requestId} failed; trying again: ${errorMessage(error)}`,
      );
    },
  });
}

function progressMessage(status: QueueStatus, fresh: QueueLogLine[]): string {
  if (status.status === "IN_QUEUE")
    return `IN_QUEUE${status.queuePosition !== undefined ? `, position ${status.queuePosition}` : ""}`;
  const latest = fresh[fresh.length - 1]?.message ?? status.logs[status.logs.length - 1]?.message;
  return latest ? `${status.status}: ${latest.slice(0, 200)}` : status.status;
}

function logLevel(line: QueueLogLine): LogLevel {
  switch (line.level) {
    case "ERROR":
    case "STDERR":
      return "warning";
    case "WARN":
      return "warning";
    case "DEBUG":
      return "debug";
    default:
      return "info";
  }
}

/** Records a failed job and returns the error to throw (an isError result naming fal's reason). */
export async function failJob(
  context: JobContext,
  job: { endpointId: string; requestId: string },
  status: QueueStatus,
): Promise<JobFailedError> {
  const failure = await failureOf(context.fal, { ...job, signal: context.signal }, status);
  await recordFailure(context, job.requestId, failure);
  return failure;
}

export async function recordFailure(
  context: JobContext,
  requestId: string,
  failure: JobFailedError,
): Promise<void> {
  if (context.config.mode === "http") return;
  await context.jobs
    .update(requestId, {
      status: "FAILED",
      error: {
        message: failure.message,
        error_type: failure.errorType ?? null,
        field_errors: failure.fieldErrors,
      },
    })
    .catch((error: unknown) =>
      context.log("warning", `Could not record the failure of ${requestId}: ${errorMessage(error)}`),
    );
}
