import { z } from "zod";
import { AfterSubmitError, JobFailedError } from "../errors.js";
import { anyJson, defineTool } from "./define.js";
import { isFailure } from "../fal/queue.js";
import { ProgressCounter } from "../jobs/context.js";
import { retentionOf } from "../jobs/generation.js";
import { submitAndStartRecord } from "../jobs/submit.js";
import { failJob, waitWithProgress } from "../jobs/wait.js";
import { completedOutput, pendingOutput, recordStateOf } from "./job-result.js";
import { endpointIdSchema, jobOutputSchema, retentionArgs } from "./schemas.js";

const inputSchema = z.strictObject({
  endpoint_id: endpointIdSchema,
  input: z
    .record(z.string(), anyJson())
    .describe(
      'The model\'s input object, exactly as get_model_schema describes it, e.g. {"prompt": "a red fox in snow", "image_size": "landscape_4_3"}. ' +
        "Local files: give an absolute path (/Users/me/cat.png, ~/cat.png) or a file:// URL as the value of a URL field (image_url, …); it is uploaded to fal's CDN first. Never paste base64.",
    ),
  wait_seconds: z
    .number()
    .int()
    .min(0)
    .max(600)
    .optional()
    .describe(
      "How long to wait for the job before returning its request_id instead (seconds, 0–600). Default: FAL_MCP_WAIT_SECONDS (45), which stays under the ~60 s limit most clients put on a tool call. 0 returns right after the submit.",
    ),
  save: z
    .boolean()
    .default(true)
    .describe(
      "Save every generated file under FAL_MCP_OUTPUT_DIR and report its path (default true). false: URLs only (they expire).",
    ),
  ...retentionArgs,
  confirm: z
    .boolean()
    .optional()
    .describe(
      "Set true ONLY when repeating a call that fal-mcp refused for the user's approval, after the user said yes to that exact call (same endpoint_id and input). Never set it on a first call.",
    ),
});

export const runModel = defineTool({
  name: "run_model",
  title: "Run a fal model",
  description:
    "Runs any fal model (image, video, audio, speech, 3D, LLM, training) through fal's queue and returns its output, with every generated file saved to the user's disk and an inline preview of the first image. " +
    "Call get_model_schema first to learn the endpoint's input fields, and get_pricing to know the cost: every call is a PAID job on the user's fal account (billed when it completes; it is never sent twice). " +
    "It waits up to wait_seconds (default 45). Images usually finish in time; video, 3D and training take minutes: then it returns status IN_QUEUE/IN_PROGRESS with a request_id and poll_after_seconds, the job keeps running, and you call check_job with that request_id after that long, then get_job_result to fetch and save the result. Do not call run_model again to check on it: that pays twice. " +
    "Local file paths in the input are uploaded to fal's public CDN first. For jobs you know are long, submit_job returns at once.",
  inputSchema,
  outputSchema: jobOutputSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  paid: true,
  async handler(args, context) {
    const started = Date.now();
    const waitSeconds = args.wait_seconds ?? context.config.waitSeconds;
    const progress = new ProgressCounter(context);
    // The record's durable write runs while the job's status and result are read; nothing is
    // answered before it is on disk (the finally below), and shutdown waits for it.
    const submitted = await submitAndStartRecord(context, {
      endpointId: args.endpoint_id,
      input: args.input,
      tool: "run_model",
      confirm: args.confirm,
      retention: retentionOf(context.config, args),
      progress,
    });
    await progress.step(
      `Submitted: ${submitted.status}${submitted.queuePosition !== undefined ? `, position ${submitted.queuePosition}` : ""}`,
    );
    const job = { endpointId: submitted.endpointId, requestId: submitted.requestId };
    // Waiting, reading and saving: everything after the submit, once the job is paid for.
    async function afterSubmit() {
      const outcome =
        waitSeconds > 0
          ? await waitWithProgress(context, { ...job, deadline: started + waitSeconds * 1000, progress })
          : { reason: "deadline" as const, status: undefined };

      if (outcome.reason === "completed" && outcome.status) {
        if (isFailure(outcome.status)) throw await failJob(context, job, outcome.status);
        const result = await completedOutput(context, {
          ...job,
          save: args.save,
          record: submitted.record,
          recorded: submitted.recorded,
          status: outcome.status,
          money: submitted.money,
          input: args.input,
        });
        if (submitted.uploads.length > 0) result.structuredContent.uploads = submitted.uploads;
        result.structuredContent.recipe = submitted.recipe;
        return result;
      }
      const status = outcome.status;
      const recorded = await submitted.recorded;
      const lead =
        outcome.reason === "aborted"
          ? "Stopped waiting because the call was cancelled; the job was NOT cancelled."
          : waitSeconds > 0
            ? `Not finished after waiting ${Math.round((Date.now() - started) / 1000)} s.`
            : "Submitted without waiting.";
      return pendingOutput(
        {
          requestId: job.requestId,
          endpointId: job.endpointId,
          status: status?.status ?? submitted.status,
          queuePosition: status ? status.queuePosition : submitted.queuePosition,
          uploads: submitted.uploads,
          record: recordStateOf(context, recorded),
          money: submitted.money,
          urls: submitted.urls,
          recipe: submitted.recipe,
        },
        lead,
      );
    }
    try {
      return await afterSubmit();
    } catch (error) {
      // fal's verdict on the job (it failed) says itself what to do; anything else after the
      // submit must never suggest repeating the paid call.
      if (error instanceof JobFailedError || error instanceof AfterSubmitError) throw error;
      throw new AfterSubmitError(error, { ...job, tool: "run_model" });
    } finally {
      await submitted.recorded;
    }
  },
});
