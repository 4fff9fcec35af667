import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import type { Redactor } from "../util/redact-deep.js";
import { summarizeInput } from "./input-summary.js";

/** The job record's shape (one JSON file per job, written by store.ts) and how a new one is made. */

export const JOB_RECORD_VERSION = 1;

const fileSchema = z.looseObject({
  url: z.string(),
  content_type: z.string().nullish(),
  size: z.number().nullish(),
  field: z.string().nullish(),
  path: z.string().nullish(),
  error: z.string().nullish(),
});

const uploadSchema = z.looseObject({
  path: z.string(),
  url: z.string(),
  size: z.number(),
  content_type: z.string(),
});

export const recordSchema = z.looseObject({
  version: z.literal(JOB_RECORD_VERSION),
  /** fal's request id; null for a submit whose outcome is unknown. */
  request_id: z.string().nullable(),
  /** Local id of this submit attempt (the record's file name when there is no request id). */
  attempt_id: z.string(),
  endpoint_id: z.string(),
  tool: z.string(),
  submitted_at: z.string(),
  updated_at: z.string(),
  /** IN_QUEUE | IN_PROGRESS | COMPLETED | FAILED | CANCELLATION_REQUESTED | SUBMIT_UNCONFIRMED, or fal's verbatim value. */
  status: z.string(),
  input_summary: z.unknown(),
  uploads: z.array(uploadSchema).default([]),
  queue_position: z.number().nullish(),
  error: z
    .looseObject({
      message: z.string(),
      error_type: z.string().nullish(),
      field_errors: z.array(z.unknown()).nullish(),
    })
    .nullish(),
  /** The model's output JSON, kept because fal deletes results after 6 minutes to 1 hour. */
  output: z.unknown().optional(),
  output_omitted: z.string().nullish(),
  /** Where a large output is kept in full (beside the record). */
  output_file: z.string().nullish(),
  billable_units: z.number().nullish(),
  /** USD estimated before the submit (null: it could not be estimated); counted by the daily cap. */
  estimate_usd: z.number().nullish(),
  /** How the estimate was reached. */
  estimate_basis: z.string().nullish(),
  /** USD the job cost, once known: fal's billing event, else billed units × unit price. */
  cost_usd: z.number().nullish(),
  cost_source: z.string().nullish(),
  files: z.array(fileSchema).nullish(),
  note: z.string().nullish(),
});

export type JobRecord = z.output<typeof recordSchema>;

/** A job record after its write: written, or why not (the job still exists on fal). */
export interface RecordOutcome {
  record: JobRecord | undefined;
  /** Why the record could not be written. */
  recordError: string | undefined;
}

/** The estimate made before a submit, as the record keeps it. */
export interface RecordEstimate {
  usd: number | null;
  basis: string;
}

export function estimateFields(estimate: RecordEstimate | undefined): Partial<JobRecord> {
  return estimate ? { estimate_usd: estimate.usd, estimate_basis: estimate.basis } : {};
}
export type JobFileEntry = z.output<typeof fileSchema>;
export type JobUpload = z.output<typeof uploadSchema>;

/** A local file uploaded before the submit (what local-inputs reports). */
export interface UploadInput {
  path: string;
  url: string;
  size: number;
  content_type: string;
}

export function uploadEntries(uploads: readonly UploadInput[] | undefined): JobUpload[] {
  return (uploads ?? []).map(({ path: file, url, size, content_type }) => ({
    path: file,
    url,
    size,
    content_type,
  }));
}

export type JobLookup =
  | { kind: "found"; record: JobRecord }
  | { kind: "missing" }
  | { kind: "unreadable"; reason: string; file: string; movedTo?: string | undefined };

export interface RecordProblem {
  /** The record file as found. */
  file: string;
  reason: string;
  /** Where a corrupt record was moved; undefined for a newer-version record left in place. */
  movedTo?: string | undefined;
}

/** What an update may change in a record. */
export type JobRecordPatch = Partial<Omit<JobRecord, "version" | "request_id" | "attempt_id">>;

/** A new record: a job fal accepted (with its request id) or a submit whose outcome is unknown. */
export function newRecord(entry: {
  requestId: string | null;
  attemptId?: string | undefined;
  endpointId: string;
  tool: string;
  input: unknown;
  uploads?: readonly UploadInput[] | undefined;
  status: string;
  queuePosition?: number | undefined;
  note?: string | undefined;
  estimate?: RecordEstimate | undefined;
  submittedAt?: Date | undefined;
}): JobRecord {
  const now = new Date().toISOString();
  return {
    version: JOB_RECORD_VERSION,
    request_id: entry.requestId,
    attempt_id: entry.attemptId ?? newAttemptId(),
    endpoint_id: entry.endpointId,
    tool: entry.tool,
    submitted_at: entry.submittedAt?.toISOString() ?? now,
    updated_at: now,
    status: entry.status,
    input_summary: summarizeInput(entry.input),
    uploads: uploadEntries(entry.uploads),
    ...(entry.queuePosition !== undefined || entry.requestId !== null
      ? { queue_position: entry.queuePosition ?? null }
      : {}),
    ...(entry.note !== undefined ? { note: entry.note } : {}),
    ...estimateFields(entry.estimate),
  };
}

/**
 * The file name of a request id's record: the id itself when it is a plain token that holds no
 * form of the key, else a hash (a hostile fal could answer `../../x`, or the key, as a request id).
 */
export function recordFileName(requestId: string, redactor?: Redactor): string {
  if (/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(requestId) && !redactor?.leaks(requestId))
    return `${requestId}.json`;
  return `h-${createHash("sha256").update(requestId).digest("hex").slice(0, 40)}.json`;
}

export function newAttemptId(): string {
  return `${Date.now().toString(36)}-${randomBytes(5).toString("hex")}`;
}
