import { z } from "zod";
import { InvalidArgumentError, LocalFileError, NotFoundError } from "../errors.js";
import type { JobRecord } from "../jobs/store.js";
import { appRoot } from "../fal/queue.js";
import { checkQueueUrl, type QueueUrlKind } from "../fal/queue-urls.js";
import type { ToolContext } from "./define.js";
import { endpointIdSchema } from "./schemas.js";

/**
 * How check_job, get_job_result and cancel_job name a job: fal's `request_id` and
 * `endpoint_id` (optional here for jobs in this server's record), plus fal's optional queue URL
 * (`status_url`, `response_url`, `cancel_url`), checked before anything is sent.
 */

export const requestIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    "a request id such as 764cabcf-b745-4b3e-ae38-1200304cf45b (letters, digits, '-', '_', '.')",
  )
  .describe(
    "The request_id that run_model or submit_job returned, e.g. 764cabcf-b745-4b3e-ae38-1200304cf45b.",
  );

export const jobEndpointIdSchema = endpointIdSchema
  .optional()
  .describe(
    "The endpoint the job was submitted to, e.g. fal-ai/flux/dev. Optional for jobs this server submitted over stdio (they are in its job record, even after a restart); needed for jobs submitted elsewhere and always in HTTP mode.",
  );

export function queueUrlSchema(kind: QueueUrlKind) {
  return z
    .string()
    .max(1000)
    .optional()
    .describe(
      `fal's ${kind === "response" ? "response_url" : `${kind}_url`} from run_model or submit_job (https://queue.fal.run/…/requests/<request_id>${kind === "response" ? "" : `/${kind}`}). Optional: checked against request_id and used only when it names this job on fal's queue.`,
    );
}

/** The arguments every job tool takes: the request id, and the endpoint where the record lacks it. */
export const jobReferenceFields = { request_id: requestIdSchema, endpoint_id: jobEndpointIdSchema };

export const saveFilesSchema = z
  .boolean()
  .default(true)
  .describe(
    "Save every generated file under FAL_MCP_OUTPUT_DIR and report its path (default true). false: URLs only (they expire).",
  );

export interface ResolvedJob {
  endpointId: string;
  requestId: string;
  record: JobRecord | undefined;
}

/**
 * Finds the endpoint of a job: the record's (checked against what the caller gave), else the given
 * endpoint_id, else the app root named by a checked queue URL. HTTP mode keeps no record, so
 * there endpoint_id is required.
 */
export async function resolveJob(
  context: ToolContext,
  request: {
    tool: string;
    requestId: string;
    endpointId: string | undefined;
    queueUrl?: { raw: string; kind: QueueUrlKind } | undefined;
  },
): Promise<ResolvedJob> {
  const { requestId, endpointId: given } = request;
  const rootOf = (endpointId: string | undefined) =>
    request.queueUrl
      ? checkQueueUrl(request.queueUrl.raw, request.queueUrl.kind, { requestId, endpointId }).root
      : undefined;
  if (context.config.mode === "http") {
    if (!given)
      throw new InvalidArgumentError(
        `This fal-mcp runs as an HTTP server and keeps no job record, so it needs endpoint_id to find job ${requestId}.`,
        `Call ${request.tool} again with endpoint_id (the model the job was submitted to), e.g. endpoint_id: "fal-ai/flux/dev".`,
      );
    rootOf(given);
    return { endpointId: given, requestId, record: undefined };
  }
  const lookup = await context.jobs.get(requestId);
  if (lookup.kind === "found") {
    const recorded = lookup.record.endpoint_id;
    if (given && appRoot(given) !== appRoot(recorded)) {
      throw new InvalidArgumentError(
        `Job ${requestId} was submitted to ${recorded}, not ${given}.`,
        `Call ${request.tool} again without endpoint_id (or with endpoint_id "${recorded}").`,
      );
    }
    rootOf(recorded);
    return { endpointId: given ?? recorded, requestId, record: lookup.record };
  }
  const fromUrl = rootOf(given);
  const endpointId = given ?? fromUrl;
  if (endpointId) return { endpointId, requestId, record: undefined };
  if (lookup.kind === "unreadable") {
    throw new LocalFileError(
      `The local record of job ${requestId} could not be used: ${lookup.reason}${lookup.movedTo ? ` (kept aside as ${lookup.movedTo})` : ""}.`,
      `Pass endpoint_id (the model the job was submitted to) and ${request.tool} will ask fal directly.`,
    );
  }
  throw new NotFoundError(
    `This server has no record of job ${requestId} (records are in ${context.jobs.directory}).`,
    `Pass endpoint_id too (the model the job was submitted to), e.g. endpoint_id: "fal-ai/flux/dev"; ${request.tool} then asks fal directly.`,
  );
}
