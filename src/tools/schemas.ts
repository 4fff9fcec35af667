import { z } from "zod";
import { MAX_EXPIRATION_SECONDS } from "../config.js";
import { anyJson, orNull } from "./define.js";

/** Tool schemas shared by several tools: one endpoint id, one job output, fal's retention arguments. */

/**
 * The one endpoint-id check, for every tool that takes one (run_model, submit_job, check_job,
 * get_model_schema, get_pricing).
 */
export const endpointIdSchema = z
  .string()
  .max(300)
  // "." and ".." segments are refused: URL parsing would resolve them and send the job to another endpoint.
  .regex(
    /^[A-Za-z0-9][\w.-]*(\/(?!\.{1,2}(\/|$))[\w.-]+)+$/,
    "an endpoint id such as fal-ai/flux/dev (owner/app[/path], no . or .. parts)",
  )
  .describe(
    "fal endpoint id (owner/app[/path]), e.g. fal-ai/flux/dev or fal-ai/kling-video/v2.1/master/image-to-video. search_models finds them.",
  );

export const fileSchema = z.object({
  url: z
    .string()
    .describe("Where fal serves the file (public CDN URL; it expires under the account's media settings)."),
  field: z.string().describe('Where the file is in the output, e.g. "images[0]" or "video".'),
  content_type: orNull(z.string()),
  size: orNull(z.number()).describe("Bytes."),
  path: orNull(z.string()).describe(
    "Absolute path of the saved copy under FAL_MCP_OUTPUT_DIR; null when not saved.",
  ),
  error: orNull(z.string()).describe("Why the file was not saved; null when it was (or saving was off)."),
  width: z.number().int().optional().describe("Pixels, when fal stated them or the saved image tells."),
  height: z.number().int().optional(),
  duration_seconds: z
    .number()
    .optional()
    .describe("Seconds of audio or video, when fal stated it or the saved file tells."),
});

export const uploadSchema = z.object({
  path: z.string(),
  url: z.string(),
  size: z.number(),
  content_type: z.string(),
});

/** fal's two retention arguments of run_model and submit_job (defaults from settings). */
export const retentionArgs = {
  expiration_seconds: z
    .number()
    .int()
    .min(1)
    .max(MAX_EXPIRATION_SECONDS)
    .optional()
    .describe(
      "How long fal's CDN keeps the generated media, in seconds (e.g. 86400 for a day); saved copies on disk are not affected. Default: FAL_MCP_MEDIA_EXPIRATION_SECONDS, else the fal account's setting.",
    ),
  store_payload: z
    .boolean()
    .optional()
    .describe(
      "false: fal keeps no copy of this job's input and output (fal's result then stays readable only 1 hour, 6 minutes when 10 KB or more; this server keeps what it fetches). Default: FAL_MCP_STORE_PAYLOAD (true, fal's default of 30 days).",
    ),
};

export const recipeSchema = z
  .object({
    endpoint_id: z.string(),
    input: z
      .record(z.string(), anyJson())
      .optional()
      .describe("The input as sent (local files as their CDN URLs)."),
    input_omitted: z.literal(true).optional(),
    reason: z
      .enum(["store_payload_false", "too_large"])
      .optional()
      .describe(
        "Why the input is left out: store_payload false, or over 2 KB (it is in the local job record).",
      ),
  })
  .describe("fal's recipe: endpoint_id + input run the same job again (a new, paid job).");

const logLineSchema = z.object({
  message: z.string(),
  level: orNull(z.string()),
  timestamp: orNull(z.string()),
});

/** The money of one paid call: the estimate before, and the cost after once the job completed. */
export const costSchema = z.object({
  estimate_usd: orNull(z.number()).describe(
    "USD estimated before the submit; null when it could not be estimated.",
  ),
  estimate: z.string().optional().describe("How the estimate was made, or why it is unknown."),
  cost_usd: orNull(z.number())
    .optional()
    .describe(
      "What the job cost in USD: fal's billing record (cost_total) when the key may read it, else billed units × unit price; null when not known yet.",
    ),
  cost_source: orNull(z.enum(["billing-event", "billed-units"])).optional(),
  units_cost_usd: orNull(z.number()).optional().describe("Billed units × the unit price."),
  billed_cost_usd: orNull(z.number()).optional().describe("fal's billing-event cost_total."),
  notes: z
    .array(z.string())
    .describe("Spending today against the cap, approvals, unchecked schemas, and why a figure is missing."),
});

export type CostOutput = z.input<typeof costSchema>;

/** One shape for a job in every state, so a model learns one thing. Loose where fal's payload varies. */
export const jobOutputSchema = z.object({
  request_id: z.string().describe("fal's request id: pass it to check_job, get_job_result or cancel_job."),
  endpoint_id: z.string(),
  status: z
    .string()
    .describe(
      "IN_QUEUE, IN_PROGRESS or COMPLETED (fal's values); CANCELLATION_REQUESTED after a cancel; anything else is fal's value verbatim.",
    ),
  queue_position: orNull(z.number()).optional().describe("Requests ahead of this one while IN_QUEUE."),
  poll_after_seconds: z
    .number()
    .optional()
    .describe("For a pending job: wait this long before the next check_job (the job keeps running)."),
  status_url: z.string().optional().describe("fal's status URL of the job (check_job takes it)."),
  response_url: z.string().optional().describe("fal's result URL of the job (get_job_result takes it)."),
  cancel_url: z.string().optional().describe("fal's cancel URL of the job (cancel_job takes it)."),
  recipe: recipeSchema.optional(),
  output: z
    .record(z.string(), anyJson())
    .optional()
    .describe("The model's own output JSON (long data: URIs shortened)."),
  files: z.array(fileSchema).optional().describe("Every media file in the output, with its saved path."),
  output_dir: z.string().optional().describe("The folder files are saved in."),
  billable_units: orNull(z.number())
    .optional()
    .describe(
      "Units fal billed (x-fal-billable-units), in the endpoint's priced unit; null when fal did not say.",
    ),
  uploads: z
    .array(uploadSchema)
    .optional()
    .describe("Local files from the input that were uploaded to fal's CDN first."),
  cost: costSchema
    .optional()
    .describe("The estimate before the submit and, once completed, the cost in USD."),
  logs: z.array(logLineSchema).optional(),
  metrics: z
    .record(z.string(), anyJson())
    .optional()
    .describe("fal's timings, e.g. inference_time in seconds."),
  cancel: z
    .object({
      outcome: z.enum(["CANCELLATION_REQUESTED", "ALREADY_COMPLETED", "NOT_FOUND"]),
      message: z.string(),
    })
    .optional(),
  recorded: z
    .boolean()
    .optional()
    .describe("Whether the job is in fal-mcp's durable job record (survives restarts)."),
  next_step: z.string().optional(),
  summary: z
    .string()
    .optional()
    .describe(
      "What was made, in one line: how many files of each kind, dimensions or duration, the prompt's first words, the cost.",
    ),
});

export type JobOutput = z.input<typeof jobOutputSchema>;
