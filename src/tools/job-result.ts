import { collectResult, previewImage, type JobToCollect } from "../jobs/collect.js";
import type { JobContext } from "../jobs/context.js";
import { describeCost, type CostReport } from "../jobs/cost-report.js";
import type { JobRecord } from "../jobs/store.js";
import type { SubmitMoney } from "../jobs/submit.js";
import type { QueueLogLine, QueueStatus } from "../fal/queue.js";
import type { LocalInputUpload } from "../files/local-inputs.js";
import type { QueueUrls } from "../fal/queue-urls.js";
import { pollAfterSeconds, type Recipe } from "../jobs/generation.js";
import { isRecord } from "../util/json.js";
import type { ExtraContent, ToolOutput } from "./define.js";
import { completedText, madeLine, promptOf } from "./result-text.js";
import type { CostOutput, JobOutput } from "./schemas.js";

/**
 * The answers of run_model, submit_job, check_job and get_job_result about one job: structuredContent in the one
 * job output shape, a short text, and an optional inline image preview.
 */

/** Collects a COMPLETED job (see jobs/collect.ts) and answers with its files and output. */
export async function completedOutput(
  context: JobContext,
  job: JobToCollect & {
    status?: QueueStatus | undefined;
    /** The money notes of the submit in this same call (run_model). */
    money?: SubmitMoney | undefined;
    /** The input as sent in this same call (run_model); else the record's summary of it. */
    input?: unknown;
  },
): Promise<ToolOutput<JobOutput>> {
  const { output: compact, files, billableUnits, record, cost } = await collectResult(context, job);
  const structured: JobOutput = {
    request_id: job.requestId,
    endpoint_id: job.endpointId,
    status: "COMPLETED",
    output: isRecord(compact) ? compact : { value: compact },
    files,
    ...(job.save ? { output_dir: context.config.outputDir } : {}),
    billable_units: billableUnits,
    ...(record?.uploads.length
      ? {
          uploads: record.uploads.map(({ path, url, size, content_type }) => ({
            path,
            url,
            size,
            content_type,
          })),
        }
      : {}),
    ...(job.status?.metrics ? { metrics: job.status.metrics } : {}),
    cost: costOutput(cost, job.money, record),
    recorded: record !== undefined,
  };
  const summary = madeLine({
    files,
    prompt: promptOf(job.input ?? record?.input_summary, compact),
    cost,
    estimateUsd: structured.cost?.estimate_usd,
  });
  structured.summary = summary;
  let text = completedText(structured, files, compact, summary, context.config.mode);
  text += `\n${describeCost(cost)}${job.money && job.money.notes.length > 0 ? ` ${job.money.notes.join(" ")}` : ""}`;
  const extraContent: ExtraContent[] = [];
  const budget = context.config.inlinePreviewBytes;
  if (budget > 0) {
    const note = "\nAn inline preview of the first image is attached.";
    const used = Buffer.byteLength(text + note) + Buffer.byteLength(JSON.stringify(structured));
    const preview = await previewImage(context, files, budget - used - 256);
    if (preview) {
      text += note;
      extraContent.push({ type: "image", data: preview.data, mimeType: preview.mimeType });
    }
  }
  return { structuredContent: structured, text, extraContent };
}

/** The cost block of an answer: the estimate as recorded (or made in this call) and the cost after. */
export function costOutput(
  cost: CostReport | undefined,
  money: SubmitMoney | undefined,
  record: JobRecord | undefined,
): CostOutput {
  return {
    estimate_usd: money?.estimate_usd ?? record?.estimate_usd ?? cost?.estimate_usd ?? null,
    ...(money?.estimate || record?.estimate_basis
      ? { estimate: money?.estimate ?? record?.estimate_basis ?? undefined }
      : {}),
    ...(cost
      ? {
          cost_usd: cost.cost_usd,
          cost_source: cost.cost_source,
          units_cost_usd: cost.units_cost_usd,
          billed_cost_usd: cost.billed_cost_usd,
        }
      : {}),
    notes: [...(money?.notes ?? []), ...(cost?.notes ?? [])],
  };
}

/** The answer for a job that is not finished (yet): its id and how to come back for it. */
export function pendingOutput(
  job: {
    requestId: string;
    endpointId: string;
    status: string;
    queuePosition: number | undefined;
    uploads?: LocalInputUpload[];
    /** kept: in the job record; failed: the write failed; none: HTTP mode keeps no record by design. */
    record: RecordState;
    logs?: QueueLogLine[];
    money?: SubmitMoney | undefined;
    urls: QueueUrls;
    recipe: Recipe;
  },
  lead: string,
): ToolOutput<JobOutput> {
  const pollAfter = pollAfterSeconds(job.status, job.queuePosition);
  // Without a record (HTTP mode, or a failed write) the job tools find the job by endpoint_id too.
  const handle =
    job.record === "kept"
      ? `request_id "${job.requestId}"`
      : `request_id "${job.requestId}" and endpoint_id "${job.endpointId}"`;
  const nextStep = `Call check_job with ${handle} in about ${pollAfter} s, and get_job_result once it is COMPLETED to get and save the files. The job keeps running on fal; do not submit it again.`;
  const structured: JobOutput = {
    request_id: job.requestId,
    endpoint_id: job.endpointId,
    status: job.status,
    queue_position: job.queuePosition ?? null,
    poll_after_seconds: pollAfter,
    ...job.urls,
    recipe: job.recipe,
    ...(job.uploads && job.uploads.length > 0 ? { uploads: job.uploads } : {}),
    ...(job.logs ? { logs: job.logs.map(toLogLine) } : {}),
    ...(job.money ? { cost: costOutput(undefined, job.money, undefined) } : {}),
    recorded: job.record === "kept",
    next_step: nextStep,
  };
  const position =
    job.status === "IN_QUEUE" && job.queuePosition !== undefined
      ? ` (queue position ${job.queuePosition})`
      : "";
  const lines = [`${lead} Job ${job.requestId} on ${job.endpointId} is ${job.status}${position}.`, nextStep];
  if (job.uploads && job.uploads.length > 0)
    lines.push(`Uploaded first: ${job.uploads.map((upload) => `${upload.path} → ${upload.url}`).join("; ")}`);
  if (job.money) lines.push(moneyLine(job.money));
  if (job.record === "failed")
    lines.push(
      "Warning: the job could not be written to the local job record; keep this request_id (and the endpoint_id) to check it.",
    );
  if (job.record === "none")
    lines.push(
      "This HTTP server keeps no job record by design: the request_id (with the endpoint_id) is the only handle to this job, so keep both.",
    );
  return { structuredContent: structured, text: lines.join("\n") };
}

export type RecordState = "kept" | "failed" | "none";

/** Whether a submit's job is in the local record; HTTP mode keeps none by design. */
export function recordStateOf(
  context: { config: { mode: string } },
  submitted: { record: JobRecord | undefined },
): RecordState {
  if (context.config.mode === "http") return "none";
  return submitted.record ? "kept" : "failed";
}

/** "Estimated cost: about $0.05 (…). Spent today: …" */
export function moneyLine(money: SubmitMoney): string {
  return [`Estimated cost: ${money.estimate}.`, ...money.notes].join(" ");
}

export function toLogLine(line: QueueLogLine): {
  message: string;
  level: string | null;
  timestamp: string | null;
} {
  return { message: line.message, level: line.level ?? null, timestamp: line.timestamp ?? null };
}
