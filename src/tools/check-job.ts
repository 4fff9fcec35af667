import { z } from "zod";
import { InvalidArgumentError, LocalFileError, NotFoundError } from "../errors.js";
import type { JobRecord } from "../jobs/store.js";
import { appRoot, cancelQueueJob, getQueueStatus, isFailure, type QueueStatus } from "../fal/queue.js";
import { defineTool, type ToolContext } from "./define.js";
import { keepOutputEarly } from "../jobs/collect.js";
import { recordStatus } from "../jobs/context.js";
import { reportRecordProblems } from "../jobs/submit.js";
import { failJob } from "../jobs/wait.js";
import { completedOutput, toLogLine } from "./job-result.js";
import { endpointIdSchema, jobOutputSchema, type JobOutput } from "./schemas.js";

const inputSchema = z.strictObject({
  request_id: z
    .string()
    .min(1)
    .max(200)
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      "a request id such as 764cabcf-b745-4b3e-ae38-1200304cf45b (letters, digits, '-', '_', '.')",
    )
    .describe(
      "The request_id that run_model or submit_job returned, e.g. 764cabcf-b745-4b3e-ae38-1200304cf45b.",
    ),
  endpoint_id: endpointIdSchema
    .optional()
    .describe(
      "The endpoint the job was submitted to. Leave it out for jobs this server submitted (they are in its job record); needed for jobs submitted elsewhere.",
    ),
  action: z
    .enum(["status", "result", "cancel"])
    .default("status")
    .describe(
      '"status" (default): state, queue position, recent logs, timings. "result": the output with every file saved to disk (an error if not COMPLETED yet). "cancel": asks fal to stop the job (a PAID job: only when the user wants it stopped).',
    ),
  logs: z
    .boolean()
    .default(false)
    .describe(
      "With action status: include all of the job's log lines instead of the last few (default false).",
    ),
  save: z
    .boolean()
    .default(true)
    .describe(
      "With action result: save the files under FAL_MCP_OUTPUT_DIR (default true); false gives URLs only.",
    ),
});

const RECENT_LOGS = 5;
const MAX_LOGS = 200;

export const checkJob = defineTool({
  name: "check_job",
  title: "Check, fetch or cancel a fal job",
  description:
    "Follows a job started by run_model or submit_job, by its request_id (endpoint_id is optional for jobs this server submitted, even after a restart). " +
    'action "status" (default, free): IN_QUEUE with queue position, IN_PROGRESS with recent logs, or COMPLETED. ' +
    'action "result" (free): the output, with every generated file saved to the user\'s disk and an inline preview; call it as soon as the status is COMPLETED, because fal deletes results after 6 minutes to 1 hour (this server keeps a copy once fetched). ' +
    'action "cancel": CANCELS the paid job on fal (a queued job is removed; a running one may still finish and be billed). Use cancel only when the user asks to stop the job; a status check never cancels anything. ' +
    "Poll status every 15–60 s for video and other long jobs rather than in a tight loop. A job that failed on fal is reported as an error with fal's reason.",
  inputSchema,
  outputSchema: jobOutputSchema,
  // Not destructive in the sense of losing data, and mostly a read; the cancel action is spelled
  // out in the description instead, so clients do not ask for confirmation on every status poll.
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(args, context) {
    await reportRecordProblems(context);
    const { endpointId, record } = await resolveJob(context, args.request_id, args.endpoint_id);
    const job = { endpointId, requestId: args.request_id };
    switch (args.action) {
      case "status":
        return statusAction(context, job, record, args.logs);
      case "result":
        return resultAction(context, job, record, args.save);
      case "cancel":
        return cancelAction(context, job, record);
    }
  },
});

async function resolveJob(
  context: ToolContext,
  requestId: string,
  given: string | undefined,
): Promise<{ endpointId: string; record: JobRecord | undefined }> {
  const lookup = await context.jobs.get(requestId);
  if (lookup.kind === "found") {
    const recorded = lookup.record.endpoint_id;
    if (given && appRoot(given) !== appRoot(recorded)) {
      throw new InvalidArgumentError(
        `Job ${requestId} was submitted to ${recorded}, not ${given}.`,
        `Call check_job again without endpoint_id (or with endpoint_id "${recorded}").`,
      );
    }
    return { endpointId: given ?? recorded, record: lookup.record };
  }
  if (context.config.mode === "http") {
    if (given) return { endpointId: given, record: undefined };
    throw new InvalidArgumentError(
      `This fal-mcp runs as an HTTP server and keeps no job record, so it needs endpoint_id to find job ${requestId}.`,
      'Call check_job again with endpoint_id (the model the job was submitted to), e.g. endpoint_id: "fal-ai/flux/dev".',
    );
  }
  if (given) return { endpointId: given, record: undefined };
  if (lookup.kind === "unreadable") {
    throw new LocalFileError(
      `The local record of job ${requestId} could not be used: ${lookup.reason}${lookup.movedTo ? ` (kept aside as ${lookup.movedTo})` : ""}.`,
      "Pass endpoint_id (the model the job was submitted to) and check_job will ask fal directly.",
    );
  }
  throw new NotFoundError(
    `This server has no record of job ${requestId} (records are in ${context.jobs.directory}).`,
    'Pass endpoint_id too (the model the job was submitted to), e.g. endpoint_id: "fal-ai/flux/dev"; check_job then asks fal directly.',
  );
}

async function statusAction(
  context: ToolContext,
  job: { endpointId: string; requestId: string },
  record: JobRecord | undefined,
  allLogs: boolean,
) {
  const status = await getQueueStatus(context.fal, { ...job, logs: true, signal: context.signal });
  if (isFailure(status)) throw await failJob(context, job, status);
  if (status.status === "COMPLETED") await keepOutputEarly(context, job, record);
  else await recordStatus(context, job.requestId, status);

  const logs = allLogs ? status.logs.slice(-MAX_LOGS) : status.logs.slice(-RECENT_LOGS);
  const nextStep =
    status.status === "COMPLETED"
      ? `Call check_job with request_id "${job.requestId}" and action "result" now to get and save the files (fal deletes results after 6 minutes to 1 hour).`
      : `Check again later with check_job (request_id "${job.requestId}"); the job keeps running.`;
  const structured: JobOutput = {
    request_id: job.requestId,
    endpoint_id: job.endpointId,
    status: status.status,
    queue_position: status.queuePosition ?? null,
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

function statusLine(
  job: { endpointId: string; requestId: string },
  status: QueueStatus,
  record: JobRecord | undefined,
): string {
  const position =
    status.status === "IN_QUEUE" && status.queuePosition !== undefined
      ? `, queue position ${status.queuePosition}`
      : "";
  const since = record ? ` (submitted ${record.submitted_at})` : "";
  return `Job ${job.requestId} on ${job.endpointId}: ${status.status}${position}${since}.`;
}

async function resultAction(
  context: ToolContext,
  job: { endpointId: string; requestId: string },
  record: JobRecord | undefined,
  save: boolean,
) {
  if (record?.status === "COMPLETED" && record.output !== undefined) {
    return completedOutput(context, { ...job, save, record });
  }
  const status = await getQueueStatus(context.fal, { ...job, logs: false, signal: context.signal });
  if (isFailure(status)) throw await failJob(context, job, status);
  if (status.status !== "COMPLETED") {
    await recordStatus(context, job.requestId, status);
    const position =
      status.status === "IN_QUEUE" && status.queuePosition !== undefined
        ? ` (queue position ${status.queuePosition})`
        : "";
    throw new InvalidArgumentError(
      `Job ${job.requestId} on ${job.endpointId} is not complete yet: it is ${status.status}${position}, so it has no result.`,
      `Call check_job with request_id "${job.requestId}" (action "status") again in a little while, and ask for the result once it is COMPLETED. The job keeps running.`,
    );
  }
  return completedOutput(context, { ...job, save, record, status });
}

const CANCEL_MESSAGES = {
  CANCELLATION_REQUESTED:
    "fal accepted the cancellation. A job still in the queue is removed and not billed; a job already running gets a stop signal and may still finish (and be billed).",
  ALREADY_COMPLETED:
    'Too late to cancel: the job has already completed. Fetch it with check_job action "result".',
  NOT_FOUND:
    "fal knows no such job under this endpoint (wrong request_id or endpoint_id, or the job is long gone).",
} as const;

async function cancelAction(
  context: ToolContext,
  job: { endpointId: string; requestId: string },
  record: JobRecord | undefined,
) {
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
  const structured: JobOutput = {
    request_id: job.requestId,
    endpoint_id: job.endpointId,
    status: status?.status && outcome !== "CANCELLATION_REQUESTED" ? status.status : stateNow,
    queue_position: status?.queuePosition ?? null,
    cancel: { outcome, message },
    recorded: record !== undefined,
  };
  const after = status
    ? ` fal now reports the job as ${status.status}${status.error ? ` (${status.error})` : ""}.`
    : "";
  return {
    structuredContent: structured,
    text: `Cancel of job ${job.requestId} on ${job.endpointId}: ${outcome}. ${message}${after}`,
  };
}
