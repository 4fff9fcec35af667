import { collectResult, previewImage } from "../jobs/collect.js";
import type { JobContext } from "../jobs/context.js";
import type { JobRecord } from "../jobs/store.js";
import type { QueueLogLine, QueueStatus } from "../fal/queue.js";
import type { LocalInputUpload } from "../files/local-inputs.js";
import type { QueueUrls } from "../fal/queue-urls.js";
import { pollAfterSeconds, type Recipe } from "../jobs/generation.js";
import type { ResultFile } from "../files/media.js";
import { formatBytes } from "../util/format.js";
import { isRecord } from "../util/json.js";
import type { ExtraContent, ToolOutput } from "./define.js";
import type { JobOutput } from "./schemas.js";

/**
 * The answers of run_model, submit_job, check_job and get_job_result about one job: structuredContent in the one
 * job output shape, a short text, and an optional inline image preview.
 */

/** Collects a COMPLETED job (see jobs/collect.ts) and answers with its files and output. */
export async function completedOutput(
  context: JobContext,
  job: {
    endpointId: string;
    requestId: string;
    save: boolean;
    record: JobRecord | undefined;
    status?: QueueStatus | undefined;
  },
): Promise<ToolOutput<JobOutput>> {
  const { output: compact, files, billableUnits, record } = await collectResult(context, job);
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
    recorded: record !== undefined,
  };
  let text = completedText(structured, files, compact);
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

const MAX_OUTPUT_TEXT = 4000;

function completedText(structured: JobOutput, files: readonly ResultFile[], compact: unknown): string {
  const lines = [`fal job ${structured.request_id} (${structured.endpoint_id}) COMPLETED.`];
  if (files.length > 0) {
    lines.push(`Files (${files.length}):`);
    files.forEach((file, index) => {
      const about = [file.content_type, file.size !== null ? formatBytes(file.size) : undefined]
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
  if (isRecord(value)) {
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
    urls: QueueUrls;
    recipe: Recipe;
  },
  lead: string,
): ToolOutput<JobOutput> {
  const pollAfter = pollAfterSeconds(job.status, job.queuePosition);
  const nextStep = `Call check_job with request_id "${job.requestId}" in about ${pollAfter} s, and get_job_result once it is COMPLETED to get and save the files. The job keeps running on fal; do not submit it again.`;
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
