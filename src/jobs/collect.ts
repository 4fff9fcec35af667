import { JobFailedError } from "../errors.js";
import { getQueueResult } from "../fal/queue.js";
import { compactOutput, extractMedia, imagePreview, type ResultFile } from "../files/media.js";
import { recordEntries, saveFiles, unsavedFiles } from "../files/results.js";
import { errorMessage } from "../util/errors.js";
import type { JobContext } from "./context.js";
import type { CostReport } from "./cost-report.js";
import { costSources, lookupJobCost } from "./settle.js";
import type { JobRecord, JobRecordPatch, RecordOutcome } from "./store.js";
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

/** The job a result is collected for. */
export interface JobToCollect {
  endpointId: string;
  requestId: string;
  save: boolean;
  record: JobRecord | undefined;
  /** The record's write when it is still under way (run_model): awaited once the result is read. */
  recorded?: Promise<RecordOutcome> | undefined;
}

export async function collectResult(context: JobContext, job: JobToCollect): Promise<CollectedResult> {
  const { fal } = context;
  // fal-mcp http saves nothing on its disk: fal URLs and an inline preview only.
  if (context.config.mode === "http") job = { ...job, save: false };
  let record = job.record;
  let output: unknown;
  let billableUnits: number | null | undefined;
  let costLookup: Promise<CostReport>;
  const kept = record && record.status === "COMPLETED" ? await context.jobs.outputOf(record) : undefined;
  if (record && kept !== undefined) {
    output = kept;
    billableUnits = record.billable_units;
    costLookup = lookupJobCost(context, job, record, billableUnits ?? null);
  } else {
    // The cost's reads need only the job's id: they run beside the result fetch, not after it.
    const sources = costSources(context, job, record);
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
    // The record's write overlapped the status and result reads; the output goes into it once it is on disk.
    if (job.recorded) record = (await job.recorded).record;
    output = result.output;
    billableUnits = result.billableUnits ?? null;
    costLookup = lookupJobCost(context, job, record ?? job.record, billableUnits, sources);
    if (context.config.mode !== "http") {
      // The answer waits for the cost anyway, so a cost that comes quickly is kept in the same
      // durable write as the output (one fsync, not two); a slow one does not hold the output back.
      const early = await within(costLookup, COST_WITH_OUTPUT_MS);
      record = await keepOutput(context, job, record, output, billableUnits, early ? costFields(early) : {});
    }
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
  for (const file of files) {
    if (file.error)
      await context.log("warning", `Could not save ${file.field} of ${job.requestId}: ${file.error}`);
  }
  const cost = await costLookup;
  // The saved paths and the cost go into the record in one durable write.
  const patch: JobRecordPatch = {};
  if (job.save && files.length > 0) patch.files = recordEntries(files);
  const costPatch = costFields(cost);
  if (record && (record.cost_usd !== costPatch.cost_usd || record.cost_source !== costPatch.cost_source))
    Object.assign(patch, costPatch);
  if (Object.keys(patch).length > 0) {
    await context.jobs
      .update(job.requestId, patch)
      .catch((error: unknown) =>
        context.log(
          "warning",
          `Could not record the saved files and cost of ${job.requestId}: ${errorMessage(error)}`,
        ),
      );
  }
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

/** How long the output's record write waits for the cost to join it. */
const COST_WITH_OUTPUT_MS = 1_000;

/** The promise's value if it settles within `ms`, else undefined (it goes on either way). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The record fields of a known cost (none when it is not known). */
function costFields(cost: CostReport): JobRecordPatch {
  return cost.cost_usd === null ? {} : { cost_usd: cost.cost_usd, cost_source: cost.cost_source };
}

async function keepOutput(
  context: JobContext,
  job: { endpointId: string; requestId: string },
  record: JobRecord | undefined,
  output: unknown,
  billableUnits: number | null,
  cost: JobRecordPatch,
): Promise<JobRecord | undefined> {
  const patch: JobRecordPatch = {
    status: "COMPLETED",
    output,
    billable_units: billableUnits,
    error: null,
    queue_position: null,
    ...cost,
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
