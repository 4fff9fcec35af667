import { isFalCdnUrl } from "../fal/cdn.js";
import { redirectUrl } from "../fal/redirect.js";
import { formatBytes } from "../util/format.js";
import { asRecord } from "../util/json.js";

/**
 * What the result viewer shows, computed from a run_model / get_job_result `structuredContent`
 * (the job output shape of src/tools/schemas.ts). Pure and DOM-free, so it is unit-tested in
 * Node and bundled into the view. The result comes from fal through the model's tool call: every
 * field is treated as untrusted (read leniently, rendered as text, media only from fal's CDN).
 */

export type MediaKind = "image" | "video" | "audio" | "file";

export interface ViewedFile {
  kind: MediaKind;
  /** Where the view loads it from: fal's CDN URL, or its FAL_MCP_BASE_URL redirect. Undefined: not loadable here. */
  src: string | undefined;
  /** The URL fal gave (shown and opened as a link); "(inline data)" for a data: URI. */
  url: string;
  field: string;
  contentType: string | undefined;
  size: string | undefined;
  /** The saved copy on the user's disk, when saved. */
  path: string | undefined;
  /** Why it was not saved. */
  error: string | undefined;
}

export interface ViewedJob {
  requestId: string | undefined;
  endpointId: string | undefined;
  status: string | undefined;
  /** The prompt's first words, from the tool's input. */
  prompt: string | undefined;
  cost: string | undefined;
  outputDir: string | undefined;
  files: ViewedFile[];
  /** What to tell the user when there is nothing to show yet (a queued job, an error). */
  note: string | undefined;
}

export interface ViewOptions {
  /** FAL_MCP_BASE_URL: fal hosts are redirected there, as the server's own requests are. */
  baseUrl?: string | undefined;
}

const PROMPT_WORDS = 12;

export function viewJob(structured: unknown, toolInput: unknown, options: ViewOptions = {}): ViewedJob {
  const job = asRecord(structured);
  const files = Array.isArray(job.files) ? job.files.map((file) => viewFile(asRecord(file), options)) : [];
  const status = text(job.status);
  return {
    requestId: text(job.request_id),
    endpointId: text(job.endpoint_id) ?? text(asRecord(toolInput).endpoint_id),
    status,
    prompt: promptOf(toolInput),
    cost: costOf(job),
    outputDir: text(job.output_dir),
    files,
    note:
      files.length > 0
        ? undefined
        : status === "COMPLETED"
          ? "The job finished without media files."
          : status
            ? `The job is ${status}. Its files appear here once the assistant fetches the result.`
            : "No job result yet.",
  };
}

function viewFile(file: Record<string, unknown>, options: ViewOptions): ViewedFile {
  const url = text(file.url) ?? "";
  const contentType = text(file.content_type);
  const size =
    typeof file.size === "number" && Number.isFinite(file.size) ? formatBytes(file.size) : undefined;
  return {
    kind: kindOf(contentType, url),
    src: isFalCdnUrl(url, { httpsOnly: true }) ? redirectUrl(url, options.baseUrl) : undefined,
    url: url.startsWith("data:") ? "(inline data)" : url,
    field: text(file.field) ?? "file",
    contentType,
    size,
    path: text(file.path),
    error: text(file.error),
  };
}

function kindOf(contentType: string | undefined, url: string): MediaKind {
  const type = contentType?.toLowerCase() ?? "";
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("video/")) return "video";
  if (type.startsWith("audio/")) return "audio";
  if (type) return "file";
  const extension = /\.([a-z0-9]+)(?:$|[?#])/i.exec(url)?.[1]?.toLowerCase() ?? "";
  if (["png", "jpg", "jpeg", "webp", "gif", "avif"].includes(extension)) return "image";
  if (["mp4", "webm", "mov"].includes(extension)) return "video";
  if (["mp3", "wav", "ogg", "m4a", "flac", "aac"].includes(extension)) return "audio";
  return "file";
}

function promptOf(toolInput: unknown): string | undefined {
  const input = asRecord(asRecord(toolInput).input);
  const prompt = text(input.prompt) ?? text(input.text);
  if (!prompt) return undefined;
  const words = prompt.trim().split(/\s+/);
  return words.length > PROMPT_WORDS ? `${words.slice(0, PROMPT_WORDS).join(" ")}…` : words.join(" ");
}

/** A cost field when the server reports one (cost_usd, or cost as a number or {amount, currency}), else billed units. */
function costOf(job: Record<string, unknown>): string | undefined {
  const cost = job.cost_usd ?? job.cost;
  if (typeof cost === "number" && Number.isFinite(cost)) return `$${cost.toFixed(cost < 0.1 ? 4 : 2)}`;
  const costRecord = asRecord(cost);
  if (typeof costRecord.amount === "number" && Number.isFinite(costRecord.amount))
    return `${costRecord.amount} ${text(costRecord.currency) ?? "USD"}`;
  if (typeof job.billable_units === "number" && Number.isFinite(job.billable_units))
    return `${job.billable_units} billed unit${job.billable_units === 1 ? "" : "s"}`;
  return undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
