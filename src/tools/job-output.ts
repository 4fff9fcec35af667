import { z } from "zod";
import { AmbiguousSubmitError, JobFailedError } from "../errors.js";
import { allowedFolders } from "../fal/file-access.js";
import type { JobRecord } from "../fal/job-store.js";
import { uploadLocalInputs, type LocalInputUpload } from "../fal/local-inputs.js";
import {
  failureOf,
  getQueueResult,
  isFailure,
  submitToQueue,
  waitForJob,
  type QueueLogLine,
  type QueueStatus,
  type WaitOutcome,
} from "../fal/queue.js";
import {
  compactOutput,
  extractMedia,
  imagePreview,
  recordEntries,
  saveFiles,
  unsavedFiles,
  type ResultFile,
} from "../fal/results.js";
import type { ExtraContent, ToolContext, ToolOutput } from "./define.js";
import { orNull, anyJson } from "./define.js";

/**
 * What run_model, submit_job and check_job have in common: the submit with its local uploads and
 * its durable record, the waiting loop with progress and log mirroring, and the result shape
 * (structuredContent + a short text + an optional inline image preview).
 */

export const endpointIdSchema = z
  .string()
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
});

export const uploadSchema = z.object({
  path: z.string(),
  url: z.string(),
  size: z.number(),
  content_type: z.string(),
});

const logLineSchema = z.object({
  message: z.string(),
  level: orNull(z.string()),
  timestamp: orNull(z.string()),
});

/** One shape for a job in every state, so a model learns one thing. Loose where fal's payload varies. */
export const jobOutputSchema = z.object({
  request_id: z.string().describe("fal's request id: pass it to check_job."),
  endpoint_id: z.string(),
  status: z
    .string()
    .describe(
      "IN_QUEUE, IN_PROGRESS or COMPLETED (fal's values); CANCELLATION_REQUESTED after a cancel; anything else is fal's value verbatim.",
    ),
  queue_position: orNull(z.number()).optional().describe("Requests ahead of this one while IN_QUEUE."),
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
});

export type JobOutput = z.input<typeof jobOutputSchema>;

/** progress must increase strictly: one counter per call. */
export class ProgressCounter {
  #value = 0;
  constructor(private readonly context: ToolContext) {}
  async step(message: string): Promise<void> {
    this.#value += 1;
    await this.context.progress({ progress: this.#value, message });
  }
}

export interface Submitted {
  requestId: string;
  endpointId: string;
  status: string;
  queuePosition: number | undefined;
  uploads: LocalInputUpload[];
  record: JobRecord | undefined;
  /** Why the record could not be written (the job still exists on fal). */
  recordError: string | undefined;
}

/** Reports unusable records once per process (they are kept aside, never dropped). */
export async function reportRecordProblems(context: ToolContext): Promise<void> {
  if (context.config.mode === "http") return; // fal-mcp http keeps no job record
  const problems = await context.fal.jobs.scanOnce();
  for (const problem of problems) {
    await context.log(
      "warning",
      `The job record ${problem.file} could not be used: ${problem.reason}.${problem.movedTo ? ` It was kept aside as ${problem.movedTo}.` : " It was left in place."}`,
    );
  }
}

/**
 * Uploads local files named in the input, submits the job once, and records it before returning.
 * An ambiguous submit is recorded as SUBMIT_UNCONFIRMED and rethrown.
 */
export async function submitAndRecord(
  context: ToolContext,
  request: { endpointId: string; input: Record<string, unknown>; tool: string; progress?: ProgressCounter },
): Promise<Submitted> {
  const { fal } = context;
  fal.requireKey("Running a model");
  await reportRecordProblems(context);

  const folders = await allowedFolders(context.config, await context.roots());
  const prepared = await uploadLocalInputs(request.input, {
    fal,
    allowedDirs: folders,
    signal: context.signal,
    onProgress: (message) => {
      void context.log("info", message);
      void request.progress?.step(message);
    },
  });

  let answer;
  try {
    answer = await submitToQueue(fal, {
      endpointId: request.endpointId,
      input: prepared.input,
      signal: context.signal,
    });
  } catch (error) {
    if (error instanceof AmbiguousSubmitError && context.config.mode !== "http") {
      try {
        const record = await fal.jobs.recordUnconfirmed({
          endpointId: request.endpointId,
          tool: request.tool,
          input: prepared.input,
          uploads: prepared.uploads,
          reason: error.message,
        });
        await context.log(
          "warning",
          `Submit to ${request.endpointId} unconfirmed; recorded as attempt ${record.attempt_id} in ${fal.jobs.directory}.`,
        );
      } catch (recordError) {
        await context.log(
          "error",
          `Could not record the unconfirmed submit to ${request.endpointId}: ${describe(recordError)}`,
        );
      }
    }
    throw error;
  }

  let record: JobRecord | undefined;
  let recordError: string | undefined;
  // fal-mcp http writes nothing to its disk: the request id (and endpoint_id) are the only handle.
  if (context.config.mode !== "http")
    try {
      record = await fal.jobs.create({
        requestId: answer.requestId,
        endpointId: request.endpointId,
        tool: request.tool,
        input: prepared.input,
        uploads: prepared.uploads,
        status: answer.status,
        queuePosition: answer.queuePosition,
      });
    } catch (error) {
      // The job exists and is paid for: never fail the call over the local record, return its id.
      recordError = describe(error);
      await context.log(
        "error",
        `Job ${answer.requestId} was submitted but could not be recorded in ${fal.jobs.directory}: ${recordError}`,
      );
    }
  await context.log(
    "info",
    `Submitted ${request.endpointId}: request ${answer.requestId}${answer.queuePosition !== undefined ? `, queue position ${answer.queuePosition}` : ""}.`,
  );
  return {
    requestId: answer.requestId,
    endpointId: request.endpointId,
    status: answer.status,
    queuePosition: answer.queuePosition,
    uploads: prepared.uploads,
    record,
    recordError,
  };
}

/**
 * Waits for a job until `deadline`, sending progress (queue position, then the newest log line),
 * mirroring fal's log lines as MCP log messages, and keeping the record's status current.
 */
export async function waitWithProgress(
  context: ToolContext,
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
        await context.fal.jobs
          .update(job.requestId, { status: status.status, queue_position: status.queuePosition ?? null })
          .catch(() => undefined);
      }
      lastStatus = key;
    },
    onTransientError: async (error) => {
      await context.log(
        "warning",
        `Reading the status of ${job.requestId} failed; trying again: ${describe(error)}`,
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

function logLevel(line: QueueLogLine): "debug" | "info" | "warning" | "error" {
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
  context: ToolContext,
  job: { endpointId: string; requestId: string },
  status: QueueStatus,
): Promise<JobFailedError> {
  const failure = await failureOf(context.fal, { ...job, signal: context.signal }, status);
  await recordFailure(context, job.requestId, failure);
  return failure;
}

export async function recordFailure(
  context: ToolContext,
  requestId: string,
  failure: JobFailedError,
): Promise<void> {
  if (context.config.mode === "http") return;
  await context.fal.jobs
    .update(requestId, {
      status: "FAILED",
      error: {
        message: failure.message,
        error_type: failure.errorType ?? null,
        field_errors: failure.fieldErrors,
      },
    })
    .catch((error: unknown) =>
      context.log("warning", `Could not record the failure of ${requestId}: ${describe(error)}`),
    );
}

/**
 * The result of a COMPLETED job: the output (from the record when already fetched, since fal
 * deletes results after 6 minutes to 1 hour), kept in the record at once, then the media saved.
 */
export async function collectResult(
  context: ToolContext,
  job: {
    endpointId: string;
    requestId: string;
    save: boolean;
    record: JobRecord | undefined;
    status?: QueueStatus | undefined;
  },
): Promise<ToolOutput<JobOutput>> {
  const { fal } = context;
  // fal-mcp http saves nothing on its disk: fal URLs and an inline preview only.
  if (context.config.mode === "http") job = { ...job, save: false };
  let record = job.record;
  let output: unknown;
  let billableUnits: number | null | undefined;
  if (record && record.status === "COMPLETED" && record.output !== undefined) {
    output = record.output;
    billableUnits = record.billable_units;
  } else {
    let result;
    try {
      result = await getQueueResult(fal, {
        endpointId: job.endpointId,
        requestId: job.requestId,
        signal: context.signal,
      });
    } catch (error) {
      if (error instanceof JobFailedError) await recordFailure(context, job.requestId, error);
      throw error;
    }
    output = result.output;
    billableUnits = result.billableUnits ?? null;
    if (context.config.mode !== "http")
      record = await keepOutput(context, job, record, output, billableUnits);
  }

  const media = extractMedia(output);
  const files: ResultFile[] = job.save
    ? await saveFiles({
        fal,
        endpointId: job.endpointId,
        requestId: job.requestId,
        files: media,
        signal: context.signal,
        previous: record?.files,
      })
    : unsavedFiles(media);
  if (job.save && files.length > 0) {
    await fal.jobs
      .update(job.requestId, { files: recordEntries(files) })
      .catch((error: unknown) =>
        context.log("warning", `Could not record the saved files of ${job.requestId}: ${describe(error)}`),
      );
  }
  for (const file of files) {
    if (file.error)
      await context.log("warning", `Could not save ${file.field} of ${job.requestId}: ${file.error}`);
  }

  const compact = compactOutput(output, files);
  const structured: JobOutput = {
    request_id: job.requestId,
    endpoint_id: job.endpointId,
    status: "COMPLETED",
    output: isPlainObject(compact) ? compact : { value: compact },
    files,
    ...(job.save ? { output_dir: fal.config.outputDir } : {}),
    billable_units: billableUnits ?? null,
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
    recorded: record !== undefined,
  };
  let text = completedText(structured, files, compact);
  const extraContent: ExtraContent[] = [];
  const budget = fal.config.inlinePreviewBytes;
  if (budget > 0) {
    const note = "\nAn inline preview of the first image is attached.";
    const used = Buffer.byteLength(text + note) + Buffer.byteLength(JSON.stringify(structured));
    const preview = await imagePreview({
      fal,
      files,
      budgetBytes: budget - used - 256,
      signal: context.signal,
    });
    if (preview) {
      text += note;
      extraContent.push({ type: "image", data: preview.data, mimeType: preview.mimeType });
    }
  }
  return { structuredContent: structured, text, extraContent };
}

async function keepOutput(
  context: ToolContext,
  job: { endpointId: string; requestId: string },
  record: JobRecord | undefined,
  output: unknown,
  billableUnits: number | null,
): Promise<JobRecord | undefined> {
  const patch = {
    status: "COMPLETED",
    output,
    billable_units: billableUnits,
    error: null,
    queue_position: null,
  };
  try {
    if (record) return (await context.fal.jobs.update(job.requestId, patch)) ?? record;
    // A job submitted elsewhere (or before the record existed): keep it from now on.
    const created = await context.fal.jobs.create({
      requestId: job.requestId,
      endpointId: job.endpointId,
      tool: "check_job",
      input: null,
      status: "COMPLETED",
    });
    return (await context.fal.jobs.update(job.requestId, patch)) ?? created;
  } catch (error) {
    await context.log(
      "warning",
      `Could not keep the output of ${job.requestId} in the job record: ${describe(error)}`,
    );
    return record;
  }
}

const MAX_OUTPUT_TEXT = 4000;

function completedText(structured: JobOutput, files: readonly ResultFile[], compact: unknown): string {
  const lines = [`fal job ${structured.request_id} (${structured.endpoint_id}) COMPLETED.`];
  if (files.length > 0) {
    lines.push(`Files (${files.length}):`);
    files.forEach((file, index) => {
      const about = [file.content_type, file.size !== null ? formatSize(file.size) : undefined]
        .filter(Boolean)
        .join(", ");
      const url = file.url.startsWith("data:") ? "(inline data)" : file.url;
      const where = file.path
        ? `\n   saved: ${file.path}`
        : file.error
          ? `\n   NOT saved: ${file.error}`
          : "";
      lines.push(`${index + 1}. ${file.field}${about ? ` (${about})` : ""}: ${url}${where}`);
    });
  }
  if (structured.billable_units !== null && structured.billable_units !== undefined)
    lines.push(`Billed units: ${structured.billable_units}`);
  const rest = withoutFiles(compact, new Set(files.map((file) => file.url)));
  const json = JSON.stringify(rest);
  if (json && json !== "{}" && json !== "null") {
    lines.push(
      `Output: ${json.length > MAX_OUTPUT_TEXT ? `${json.slice(0, MAX_OUTPUT_TEXT)}… (truncated; the full output is in structuredContent)` : json}`,
    );
  }
  if (files.some((file) => file.path === null && file.error === null))
    lines.push("Files were not saved (save: false); the URLs expire under the account's media settings.");
  return lines.join("\n");
}

/** The output without the file objects already listed, so the text shows seeds, prompts, texts. */
function withoutFiles(value: unknown, urls: Set<string>): unknown {
  if (Array.isArray(value)) {
    const kept = value.map((item) => withoutFiles(item, urls)).filter((item) => item !== undefined);
    return kept.length > 0 ? kept : undefined;
  }
  if (isPlainObject(value)) {
    if (typeof value.url === "string" && urls.has(value.url)) return undefined;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const kept = withoutFiles(item, urls);
      if (kept !== undefined) out[key] = kept;
    }
    return out;
  }
  if (typeof value === "string" && urls.has(value)) return undefined;
  return value;
}

/** The answer for a job that is not finished (yet): its id and how to come back for it. */
export function pendingOutput(
  job: {
    requestId: string;
    endpointId: string;
    status: string;
    queuePosition: number | undefined;
    uploads?: LocalInputUpload[];
    recorded: boolean;
    logs?: QueueLogLine[];
  },
  lead: string,
): ToolOutput<JobOutput> {
  const nextStep = `Call check_job with request_id "${job.requestId}" later (action "status" to see progress, "result" once it is COMPLETED to get and save the files). The job keeps running on fal either way.`;
  const structured: JobOutput = {
    request_id: job.requestId,
    endpoint_id: job.endpointId,
    status: job.status,
    queue_position: job.queuePosition ?? null,
    ...(job.uploads && job.uploads.length > 0 ? { uploads: job.uploads } : {}),
    ...(job.logs ? { logs: job.logs.map(toLogLine) } : {}),
    recorded: job.recorded,
    next_step: nextStep,
  };
  const position =
    job.status === "IN_QUEUE" && job.queuePosition !== undefined
      ? ` (queue position ${job.queuePosition})`
      : "";
  const lines = [`${lead} Job ${job.requestId} on ${job.endpointId} is ${job.status}${position}.`, nextStep];
  if (job.uploads && job.uploads.length > 0)
    lines.push(`Uploaded first: ${job.uploads.map((upload) => `${upload.path} → ${upload.url}`).join("; ")}`);
  if (!job.recorded)
    lines.push(
      "Warning: the job could not be written to the local job record; keep this request_id (and the endpoint_id) to check it.",
    );
  return { structuredContent: structured, text: lines.join("\n") };
}

export function toLogLine(line: QueueLogLine): {
  message: string;
  level: string | null;
  timestamp: string | null;
} {
  return { message: line.message, level: line.level ?? null, timestamp: line.timestamp ?? null };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Re-exported for the tools: is this COMPLETED status a failure? */
export { isFailure };
