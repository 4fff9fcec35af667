/**
 * Every error fal-mcp raises on purpose. `message` says what went wrong; `nextStep` says what
 * the user or the model should do about it. The one error boundary (src/mcp/server.ts) turns these
 * into `isError` tool results; nothing else catches them.
 */
export abstract class FalMcpError extends Error {
  abstract readonly nextStep: string | undefined;
}

/** An error whose advice is given where it is raised (most of them). */
export abstract class AdvisedError extends FalMcpError {
  readonly nextStep: string | undefined;
  constructor(message: string, nextStep?: string) {
    super(message);
    this.nextStep = nextStep;
  }
}

/** A tool needs the fal key and none was configured. */
export class MissingKeyError extends FalMcpError {
  override name = "MissingKeyError";
  readonly nextStep =
    'Add FAL_KEY to the "env" block of this server in your MCP client config, e.g. ' +
    '"fal": { "command": "npx", "args": ["-y", "fal-mcp"], "env": { "FAL_KEY": "<your key from https://fal.ai/dashboard/keys>" } }, ' +
    "then restart the client. FAL_KEY_ID plus FAL_KEY_SECRET work too.";
  constructor(what: string) {
    super(`${what} needs a fal API key, and FAL_KEY is not set.`);
  }
}

export interface FalFieldError {
  /** Path to the field, e.g. ["body", "num_images"]. */
  loc: (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown> | undefined;
}

/** fal answered a request with an error status. */
export class FalApiError extends FalMcpError {
  override name = "FalApiError";
  readonly status: number;
  /** fal's request id (x-fal-request-id), when it sent one. */
  readonly requestId: string | undefined;
  /** fal's machine error type (error_type, X-Fal-Error-Type, or the Platform envelope's type). */
  readonly errorType: string | undefined;
  readonly nextStep: string | undefined;
  constructor(options: {
    message: string;
    status: number;
    requestId?: string | undefined;
    errorType?: string | undefined;
    nextStep?: string | undefined;
  }) {
    super(options.message);
    this.status = options.status;
    this.requestId = options.requestId;
    this.errorType = options.errorType;
    this.nextStep = options.nextStep;
  }
}

/** fal rejected a model input (HTTP 422 with `detail`). */
export class FalValidationError extends FalApiError {
  override name = "FalValidationError";
  readonly fieldErrors: FalFieldError[];
  constructor(options: {
    message: string;
    fieldErrors: FalFieldError[];
    requestId?: string | undefined;
    errorType?: string | undefined;
    nextStep?: string | undefined;
  }) {
    super({
      status: 422,
      nextStep:
        "Fix the fields named above; call get_model_schema with this endpoint_id to see each field's type, limits and allowed values.",
      ...options,
    });
    this.fieldErrors = options.fieldErrors;
  }
}

/** fal could not be reached, did not answer in time, or broke the connection. */
export class FalNetworkError extends FalMcpError {
  override name = "FalNetworkError";
  readonly kind: "timeout" | "connection" | "stalled";
  readonly nextStep: string;
  constructor(message: string, kind: FalNetworkError["kind"], nextStep?: string) {
    super(message);
    this.kind = kind;
    this.nextStep =
      nextStep ??
      "Check the network connection (run `npx fal-mcp doctor`), then try again. If it keeps happening, fal may be having an outage: see https://status.fal.ai.";
  }
}

/** fal answered 2xx with a body we cannot read (not JSON, truncated, or an unexpected shape). */
export class FalResponseError extends FalMcpError {
  override name = "FalResponseError";
  readonly nextStep =
    "Try again in a moment; if it persists, fal's API may have changed: please report it at the fal-mcp issue tracker.";
}

/**
 * Something failed after a job was submitted (reading, keeping or saving its result): the job is
 * paid for and runs on, so the only right next step is the free read of its result, never the
 * same call again (which would pay twice), whatever the failure's own advice was.
 */
export class AfterSubmitError extends FalMcpError {
  override name = "AfterSubmitError";
  readonly nextStep: string;
  constructor(
    failure: unknown,
    readonly job: { requestId: string; endpointId: string; tool: string },
  ) {
    const reason = failure instanceof Error ? failure.message : String(failure);
    super(
      `${reason.replace(/\s*$/, "")} The job ${job.requestId} (${job.endpointId}) was submitted and is paid for; it is not lost.`,
      { cause: failure },
    );
    this.nextStep = `Do NOT call ${job.tool} again: that would pay for a second job. Call get_job_result with request_id "${job.requestId}" and endpoint_id "${job.endpointId}" to fetch its result again; that is free.`;
  }
}

/** The submit may or may not have reached fal: retrying blindly could pay for the same job twice. */
export class AmbiguousSubmitError extends AdvisedError {
  override name = "AmbiguousSubmitError";
  declare readonly nextStep: string;
  constructor(message: string, nextStep: string) {
    super(message, nextStep);
  }
}

/** A fal job finished, but as a failure. */
export class JobFailedError extends FalMcpError {
  override name = "JobFailedError";
  readonly requestId: string;
  readonly endpointId: string;
  readonly errorType: string | undefined;
  readonly fieldErrors: FalFieldError[];
  readonly nextStep: string;
  constructor(options: {
    message: string;
    requestId: string;
    endpointId: string;
    errorType?: string | undefined;
    fieldErrors?: FalFieldError[] | undefined;
    nextStep?: string | undefined;
  }) {
    super(options.message);
    this.requestId = options.requestId;
    this.endpointId = options.endpointId;
    this.errorType = options.errorType;
    this.fieldErrors = options.fieldErrors ?? [];
    this.nextStep =
      options.nextStep ??
      (this.fieldErrors.length > 0
        ? "Fix the fields named above (get_model_schema lists each field's limits and allowed values) and submit again."
        : "Read fal's reason above; adjust the input or try another model, then submit again.");
  }
}

/** Something the user or model asked for does not exist (a model, a job, a file). */
export class NotFoundError extends AdvisedError {
  override name = "NotFoundError";
}

/** Arguments that pass the schema but make no sense together. */
export class InvalidArgumentError extends AdvisedError {
  override name = "InvalidArgumentError";
}

/** A local path that fal-mcp will not read, with the setting that would change that. */
export class AccessDeniedError extends AdvisedError {
  override name = "AccessDeniedError";
}

/** A local I/O failure (disk full, permission denied) while saving or reading files. */
export class LocalFileError extends AdvisedError {
  override name = "LocalFileError";
}

/** An abort (a cancelled call, a shutdown) as fetch, streams and signals raise it, wrapped or not. */
function isAbort(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 3; cause = cause.cause, depth++)
    if (cause.name === "AbortError") return true;
  return false;
}

/**
 * The text of an `isError` tool result: what went wrong, fal's request id, what to do next. The
 * boundary that shows it redacts it with its server's logger.
 */
export function errorText(error: unknown): string {
  if (error instanceof FalMcpError) {
    const lines = [error.message];
    if (error instanceof FalValidationError || error instanceof JobFailedError) {
      for (const field of error.fieldErrors) lines.push(`- ${formatFieldError(field)}`);
    }
    const requestId =
      error instanceof FalApiError || error instanceof JobFailedError ? error.requestId : undefined;
    if (requestId) lines.push(`fal request id: ${requestId}`);
    if (error.nextStep) lines.push(`Next step: ${error.nextStep}`);
    return lines.join("\n");
  }
  if (isAbort(error))
    return "The call was stopped before it finished: the client cancelled it, or fal-mcp is shutting down.\nNext step: call again if it is still needed; a job fal already accepted keeps running there (check_job or get_job_result with its request_id).";
  const message = error instanceof Error ? error.message : String(error);
  return `Unexpected error in fal-mcp: ${message}\nNext step: try again; if it repeats, run \`npx fal-mcp doctor\` and report the message.`;
}

export function formatFieldError(field: FalFieldError): string {
  const name = field.loc.filter((part) => part !== "body").join(".") || "input";
  const limits = field.ctx && Object.keys(field.ctx).length > 0 ? ` (${JSON.stringify(field.ctx)})` : "";
  return `${name}: ${field.msg}${limits}`;
}
