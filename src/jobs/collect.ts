import { JobFailedError } from "../errors.js";
import { getQueueResult } from "../fal/queue.js";
import { compactOutput, extractMedia, imagePreview, type ResultFile } from "../files/media.js";
import { recordEntries, saveFiles, unsavedFiles } from "../files/results.js";
import { errorMessage } from "../util/errors.js";
import type { JobContext } from "./context.js";
import type { CostReport } from "./cost-report.js";
import { settleJobCost } from "./settle.js";
import type { JobRecord } from "./store.js";
import { recordFailure } from "./wait.js";

/**
 * Collecting a COMPLETED job: its output (from the record when already fetched, since fal deletes
 * results after 6 minutes to 1 hour), kept in the record at once, the media saved, a preview.
 */
export interface CollectedResult {
  /** The output with long data: URIs shortened (see compactOutput). */
  output: unknown;
  files: ResultFile[];
  billableUnits: number | null;
  record: JobRecord | undefined;
  /** The estimate before and the cost after, in dollars. */
  cost: CostReport;
}

export async function collectResult(
  context: JobContext,
  job: { endpointId: string; requestId: string; save: boolean; record: JobRecord | undefined },
): Promise<CollectedResult> {
  const { fal } = context;
  // fal-mcp http saves nothing on its disk: fal URLs and an inline preview only.
  if (context.config.mode === "http") job = { ...job, save: false };
  let record = job.record;
  let output: unknown;
  let billableUnits: number | null | undefined;
  const kept = record && record.status === "COMPLETED" ? await context.jobs.outputOf(record) : undefined;
  if (record && kept !== undefined) {
    output = kept;
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
    await context.jobs
      .update(job.requestId, { files: recordEntries(files) })
      .catch((error: unknown) =>
        context.log(
          "warning",
          `Could not record the saved files of ${job.requestId}: ${errorMessage(error)}`,
        ),
      );
  }
  for (const file of files) {
    if (file.error)
      await context.log("warning", `Could not save ${file.field} of ${job.requestId}: ${file.error}`);
  }
  const cost = await settleJobCost(context, job, record, billableUnits ?? null);
  return { output: compactOutput(output, files), files, billableUnits: billableUnits ?? null, record, cost };
}

/** The first image of a result, inline, when it fits in `budgetBytes`. */
export function previewImage(
  context: JobContext,
  files: readonly ResultFile[],
  budgetBytes: number,
): Promise<{ data: string; mimeType: string } | undefined> {
  return imagePreview({ fal: context.fal, files, budgetBytes, signal: context.signal });
}

/** fal deletes results after 6 minutes to 1 hour: copy the output JSON into the record as soon as we see COMPLETED. */
export async function keepOutputEarly(
  context: JobContext,
  job: { endpointId: string; requestId: string },
  record: JobRecord | undefined,
): Promise<void> {
  if (!record || record.output !== undefined || record.output_file) return;
  try {
    const result = await getQueueResult(context.fal, { ...job, signal: context.signal });
    await context.jobs.update(job.requestId, {
      status: "COMPLETED",
      output: result.output,
      billable_units: result.billableUnits ?? null,
      queue_position: null,
    });
  } catch (error) {
    await context.log(
      "debug",
      `Could not fetch the result of ${job.requestId} early: ${errorMessage(error)}`,
    );
  }
}

async function keepOutput(
  context: JobContext,
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
    if (record) return (await context.jobs.update(job.requestId, patch)) ?? record;
    // A job submitted elsewhere (or before the record existed): keep it from now on.
    const created = await context.jobs.create({
      requestId: job.requestId,
      endpointId: job.endpointId,
      tool: "check_job",
      input: null,
      status: "COMPLETED",
    });
    return (await context.jobs.update(job.requestId, patch)) ?? created;
  } catch (error) {
    await context.log(
      "warning",
      `Could not keep the output of ${job.requestId} in the job record: ${errorMessage(error)}`,
    );
    return record;
  }
}
