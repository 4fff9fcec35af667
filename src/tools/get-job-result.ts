import { z } from "zod";
import { InvalidArgumentError } from "../errors.js";
import { getQueueStatus, isFailure } from "../fal/queue.js";
import { pollAfterSeconds } from "../jobs/generation.js";
import { recordStatus } from "../jobs/context.js";
import { reportRecordProblems } from "../jobs/submit.js";
import { failJob } from "../jobs/wait.js";
import { defineTool, READ_ONLY, type ToolContext } from "./define.js";
import { completedOutput } from "./job-result.js";
import { jobOutputSchema } from "./schemas.js";
import {
  jobReferenceFields,
  queueUrlSchema,
  resolveJob,
  saveFilesSchema,
  type ResolvedJob,
} from "./job-ref.js";

const inputSchema = z.strictObject({
  ...jobReferenceFields,
  response_url: queueUrlSchema("response"),
  save: saveFilesSchema,
});

export const getJobResult = defineTool({
  name: "get_job_result",
  title: "Get the result of a fal job",
  description:
    "Fetches the output of a COMPLETED job started by run_model or submit_job, with every generated file saved to the user's disk and an inline preview of the first image. Free: reading a result costs nothing. " +
    "Call it as soon as check_job says COMPLETED: fal deletes results after 6 minutes to 1 hour (this server keeps a copy once fetched, so calling it again later still works). " +
    "A job still running is reported as an error saying how long to wait; a job that failed on fal is an error with fal's reason. It never cancels or re-runs anything.",
  inputSchema,
  outputSchema: jobOutputSchema,
  annotations: READ_ONLY,
  async handler(args, context) {
    await reportRecordProblems(context);
    const job = await resolveJob(context, {
      tool: "get_job_result",
      requestId: args.request_id,
      endpointId: args.endpoint_id,
      queueUrl: args.response_url ? { raw: args.response_url, kind: "response" } : undefined,
    });
    return jobResult(context, job, args.save);
  },
});

/** The result of a job (from the record when it was fetched before), or an error while it is pending. */
export async function jobResult(context: ToolContext, job: ResolvedJob, save: boolean) {
  const { record } = job;
  const ref = { endpointId: job.endpointId, requestId: job.requestId };
  if (record?.status === "COMPLETED" && record.output !== undefined) {
    return completedOutput(context, { ...ref, save, record });
  }
  const status = await getQueueStatus(context.fal, { ...ref, logs: false, signal: context.signal });
  if (isFailure(status)) throw await failJob(context, ref, status);
  if (status.status !== "COMPLETED") {
    await recordStatus(context, job.requestId, status);
    const position =
      status.status === "IN_QUEUE" && status.queuePosition !== undefined
        ? ` (queue position ${status.queuePosition})`
        : "";
    throw new InvalidArgumentError(
      `Job ${job.requestId} on ${job.endpointId} is not complete yet: it is ${status.status}${position}, so it has no result.`,
      `Wait about ${pollAfterSeconds(status.status, status.queuePosition)} s, call check_job with request_id "${job.requestId}", and call get_job_result once it says COMPLETED. The job keeps running; do not submit it again.`,
    );
  }
  return completedOutput(context, { ...ref, save, record, status });
}
