import { z } from "zod";
import { InvalidArgumentError } from "../errors.js";
import type { JobRecord } from "../jobs/store.js";
import { getQueueStatus, isFailure, type QueueStatus } from "../fal/queue.js";
import { keepOutputEarly } from "../jobs/collect.js";
import { recordStatus } from "../jobs/context.js";
import { pollAfterSeconds } from "../jobs/generation.js";
import { reportRecordProblems } from "../jobs/submit.js";
import { failJob } from "../jobs/wait.js";
import { defineTool, READ_ONLY, type ToolContext } from "./define.js";
import { jobResult } from "./get-job-result.js";
import { toLogLine } from "./job-result.js";
import {
  jobReferenceFields,
  queueUrlSchema,
  resolveJob,
  saveFilesSchema,
  type ResolvedJob,
} from "./job-ref.js";
import { jobOutputSchema, type JobOutput } from "./schemas.js";

const inputSchema = z.strictObject({
  ...jobReferenceFields,
  status_url: queueUrlSchema("status"),
  logs: z
    .boolean()
    .default(false)
    .describe("Include all of the job's log lines instead of the last few (default false)."),
  action: z
    .enum(["status", "result", "cancel"])
    .optional()
    .describe(
      'Deprecated; leave it out (check_job reports status). "result" still works in this release, but call get_job_result instead; "cancel" is refused: cancelling is cancel_job\'s alone.',
    ),
  save: saveFilesSchema.describe(
    'Only with the deprecated action "result": save the files (default true). get_job_result takes it too.',
  ),
});

const RECENT_LOGS = 5;
const MAX_LOGS = 200;

export const checkJob = defineTool({
  name: "check_job",
  title: "Check the status of a fal job",
  description:
    "Reports the state of a job started by run_model or submit_job, by its request_id: IN_QUEUE with queue position, IN_PROGRESS with recent logs, or COMPLETED (then call get_job_result for the files). Free: a status read costs nothing and never changes the job. " +
    "endpoint_id is optional for jobs this server submitted (they are in its job record, even after a restart). Respect poll_after_seconds (15–60 s for video and other long jobs) rather than polling in a tight loop, and do not resubmit a job to check on it: that pays twice. " +
    'A job that failed on fal is reported as an error with fal\'s reason. Deprecated: action "result" (use get_job_result; still works in this release); cancelling moved to cancel_job.',
  inputSchema,
  outputSchema: jobOutputSchema,
  annotations: READ_ONLY,
  async handler(args, context) {
    if (args.action === "cancel") {
      throw new InvalidArgumentError(
        'check_job no longer cancels jobs: action "cancel" was removed, so a status check can never stop a paid job.',
        `To cancel, call cancel_job with request_id "${args.request_id}" (only when the user asks to stop the job).`,
      );
    }
    await reportRecordProblems(context);
    const job = await resolveJob(context, {
      tool: "check_job",
      requestId: args.request_id,
      endpointId: args.endpoint_id,
      queueUrl: args.status_url ? { raw: args.status_url, kind: "status" } : undefined,
    });
    if (args.action === "result") {
      await context.log("info", 'check_job action "result" is deprecated: call get_job_result instead.');
      return jobResult(context, job, args.save);
    }
    return statusOf(context, job, args.logs);
  },
});

async function statusOf(context: ToolContext, job: ResolvedJob, allLogs: boolean) {
  const { record } = job;
  const ref = { endpointId: job.endpointId, requestId: job.requestId };
  const status = await getQueueStatus(context.fal, { ...ref, logs: true, signal: context.signal });
  if (isFailure(status)) throw await failJob(context, ref, status);
  if (status.status === "COMPLETED") await keepOutputEarly(context, ref, record);
  else await recordStatus(context, job.requestId, status);

  const logs = allLogs ? status.logs.slice(-MAX_LOGS) : status.logs.slice(-RECENT_LOGS);
  const pollAfter =
    status.status === "COMPLETED" ? undefined : pollAfterSeconds(status.status, status.queuePosition);
  const nextStep =
    status.status === "COMPLETED"
      ? `Call get_job_result with request_id "${job.requestId}" now to get and save the files (fal deletes results after 6 minutes to 1 hour).`
      : `Check again in about ${pollAfter} s with check_job (request_id "${job.requestId}"); the job keeps running. Do not submit it again.`;
  const structured: JobOutput = {
    request_id: job.requestId,
    endpoint_id: job.endpointId,
    status: status.status,
    queue_position: status.queuePosition ?? null,
    ...(pollAfter !== undefined ? { poll_after_seconds: pollAfter } : {}),
    logs: logs.map(toLogLine),
    ...(status.metrics ? { metrics: status.metrics } : {}),
    recorded: record !== undefined,
    next_step: nextStep,
  };
  const lines = [statusLine(job, status, record)];
  if (logs.length > 0)
    lines.push(`${allLogs ? "Logs" : "Recent logs"}:`, ...logs.map((line) => `  ${line.message}`));
  if (status.metrics && typeof status.metrics.inference_time === "number")
    lines.push(`Inference time: ${status.metrics.inference_time.toFixed(2)} s`);
  lines.push(nextStep);
  return { structuredContent: structured, text: lines.join("\n") };
}

function statusLine(job: ResolvedJob, status: QueueStatus, record: JobRecord | undefined): string {
  const position =
    status.status === "IN_QUEUE" && status.queuePosition !== undefined
      ? `, queue position ${status.queuePosition}`
      : "";
  const since = record ? ` (submitted ${record.submitted_at})` : "";
  return `Job ${job.requestId} on ${job.endpointId}: ${status.status}${position}${since}.`;
}
