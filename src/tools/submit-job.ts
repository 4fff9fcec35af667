import { z } from "zod";
import { anyJson, defineTool } from "./define.js";
import { retentionOf } from "../jobs/generation.js";
import { submitAndRecord } from "../jobs/submit.js";
import { pendingOutput, recordStateOf } from "./job-result.js";
import { endpointIdSchema, jobOutputSchema, retentionArgs } from "./schemas.js";

const inputSchema = z.strictObject({
  endpoint_id: endpointIdSchema,
  input: z
    .record(z.string(), anyJson())
    .describe(
      'The model\'s input object, exactly as get_model_schema describes it, e.g. {"prompt": "a drone shot over a glacier", "image_url": "/Users/me/start.png", "duration": "5"}. ' +
        "Local files (absolute path, ~/path or file:// URL) are uploaded to fal's CDN first. Never paste base64.",
    ),
  ...retentionArgs,
  confirm: z
    .boolean()
    .optional()
    .describe(
      "Set true ONLY when repeating a call that fal-mcp refused for the user's approval, after the user said yes to that exact call (same endpoint_id and input). Never set it on a first call.",
    ),
});

export const submitJob = defineTool({
  name: "submit_job",
  title: "Submit a fal job (returns at once)",
  description:
    "Queues a job on any fal model and returns its request_id immediately, without waiting. Use it for long jobs (video, 3D, training, long audio) or several jobs at once; then call check_job with the request_id after poll_after_seconds to follow it, and get_job_result to fetch and save the files once it is COMPLETED. " +
    "Call get_model_schema first for the input fields and get_pricing for the cost: each call is a PAID job on the user's fal account, sent exactly once; do not resubmit to check on it. " +
    "The job is recorded locally, so check_job finds it by request_id even after a restart. Local file paths in the input are uploaded to fal's public CDN first. For quick jobs such as images, run_model waits and returns the files directly.",
  inputSchema,
  outputSchema: jobOutputSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  paid: true,
  async handler(args, context) {
    const submitted = await submitAndRecord(context, {
      endpointId: args.endpoint_id,
      input: args.input,
      tool: "submit_job",
      confirm: args.confirm,
      retention: retentionOf(context.config, args),
    });
    const output = pendingOutput(
      {
        requestId: submitted.requestId,
        endpointId: submitted.endpointId,
        status: submitted.status,
        queuePosition: submitted.queuePosition,
        uploads: submitted.uploads,
        record: recordStateOf(context, submitted),
        money: submitted.money,
        urls: submitted.urls,
        recipe: submitted.recipe,
      },
      "Submitted.",
    );
    if (!submitted.record && submitted.recordError) output.text += ` (${submitted.recordError})`;
    return output;
  },
});
