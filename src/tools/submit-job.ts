import { z } from "zod";
import { anyJson, defineTool, orNull } from "./define.js";
import { submitAndRecord } from "../jobs/submit.js";
import { costOutput, moneyLine } from "./job-result.js";
import { costSchema, endpointIdSchema, uploadSchema } from "./schemas.js";

const inputSchema = z.strictObject({
  endpoint_id: endpointIdSchema,
  input: z
    .record(z.string(), anyJson())
    .describe(
      'The model\'s input object, exactly as get_model_schema describes it, e.g. {"prompt": "a drone shot over a glacier", "image_url": "/Users/me/start.png", "duration": "5"}. ' +
        "Local files (absolute path, ~/path or file:// URL) are uploaded to fal's CDN first. Never paste base64.",
    ),
  confirm: z
    .boolean()
    .optional()
    .describe(
      "Set true ONLY when repeating a call that fal-mcp refused for the user's approval, after the user said yes to that exact call (same endpoint_id and input). Never set it on a first call.",
    ),
});

const outputSchema = z.object({
  request_id: z.string().describe("fal's request id: pass it to check_job."),
  endpoint_id: z.string(),
  status: z.string().describe('"IN_QUEUE" (fal\'s value) right after a submit.'),
  queue_position: orNull(z.number()).describe("Requests ahead of this one, when fal said."),
  uploads: z
    .array(uploadSchema)
    .describe("Local files from the input that were uploaded to fal's CDN first."),
  recorded: z
    .boolean()
    .describe(
      "Whether the job is in fal-mcp's durable job record (check_job then needs only the request_id, even after a restart).",
    ),
  cost: costSchema.describe("The estimate before the submit; check_job reports the cost once it completed."),
  next_step: z.string(),
});

export const submitJob = defineTool({
  name: "submit_job",
  title: "Submit a fal job (returns at once)",
  description:
    "Queues a job on any fal model and returns its request_id immediately, without waiting. Use it for long jobs (video, 3D, training, long audio) or several jobs at once; then call check_job with the request_id to follow it and to fetch and save the result. " +
    "Call get_model_schema first for the input fields and get_pricing for the cost: each call is a PAID job on the user's fal account, sent exactly once; do not resubmit to check on it. " +
    "The job is recorded locally, so check_job finds it by request_id even after a restart. Local file paths in the input are uploaded to fal's public CDN first. For quick jobs such as images, run_model waits and returns the files directly.",
  inputSchema,
  outputSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  paid: true,
  async handler(args, context) {
    const submitted = await submitAndRecord(context, {
      endpointId: args.endpoint_id,
      input: args.input,
      tool: "submit_job",
      confirm: args.confirm,
    });
    const nextStep = `Call check_job with request_id "${submitted.requestId}" to see its status; when it is COMPLETED, call check_job with action "result" to get and save the files.`;
    const lines = [
      `Submitted job ${submitted.requestId} to ${submitted.endpointId}: ${submitted.status}${submitted.queuePosition !== undefined ? `, queue position ${submitted.queuePosition}` : ""}.`,
      nextStep,
    ];
    if (submitted.uploads.length > 0)
      lines.push(
        `Uploaded first: ${submitted.uploads.map((upload) => `${upload.path} → ${upload.url}`).join("; ")}`,
      );
    lines.push(moneyLine(submitted.money));
    if (!submitted.record)
      lines.push(
        `Warning: the job could not be written to the local job record (${submitted.recordError ?? "unknown error"}); keep the request_id and endpoint_id to check it.`,
      );
    return {
      structuredContent: {
        request_id: submitted.requestId,
        endpoint_id: submitted.endpointId,
        status: submitted.status,
        queue_position: submitted.queuePosition ?? null,
        uploads: submitted.uploads,
        recorded: submitted.record !== undefined,
        cost: costOutput(undefined, submitted.money, undefined),
        next_step: nextStep,
      },
      text: lines.join("\n"),
    };
  },
});
