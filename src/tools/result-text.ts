import type { CostReport } from "../jobs/cost-report.js";
import type { ResultFile } from "../files/media.js";
import { formatMoney } from "../fal/pricing.js";
import { formatBytes, formatDuration, oneLine } from "../util/format.js";
import { isRecord } from "../util/json.js";
import type { JobOutput } from "./schemas.js";

/**
 * The text of a completed job, for clients that show the model a result's image only on the next
 * turn (Claude Desktop, claude.ai): one line saying what was made (how many files of each kind,
 * dimensions or duration, the prompt's first words, the cost), then each file with its saved
 * path. Everything taken from the model's input or fal's output is cleaned to one short line,
 * and the list stops after MAX_LISTED_FILES (every file is in structuredContent).
 */

const MAX_LISTED_FILES = 10;
const MAX_OUTPUT_TEXT = 4000;
const PROMPT_WORDS = 12;
const MAX_PROMPT_CHARS = 100;
const MAX_URL_CHARS = 300;
/** Distinct dimensions named per kind before "various sizes". */
const MAX_SIZES_NAMED = 2;

/** `"a red fox in the snow at dawn…"`: the first words of a prompt, quoted, on one line. */
export function promptWords(prompt: unknown): string | undefined {
  if (typeof prompt !== "string") return undefined;
  const words = oneLine(prompt, MAX_PROMPT_CHARS * 4)
    .replace(/"/g, "'")
    .split(" ")
    .filter(Boolean);
  if (words.length === 0) return undefined;
  let shown = words.slice(0, PROMPT_WORDS).join(" ");
  let cut = words.length > PROMPT_WORDS;
  if (shown.length > MAX_PROMPT_CHARS) {
    shown = shown.slice(0, MAX_PROMPT_CHARS - 1).trimEnd();
    cut = true;
  }
  return `"${shown}${cut ? "…" : ""}"`;
}

/** The prompt of a job: from its input (or the record's summary of it), else fal's echo in the output. */
export function promptOf(input: unknown, output: unknown): string | undefined {
  const fromInput = isRecord(input) ? input.prompt : undefined;
  const fromOutput = isRecord(output) ? output.prompt : undefined;
  return promptWords(fromInput) ?? promptWords(fromOutput);
}

type Kind = "image" | "video" | "audio" | "file";

function kindOf(file: ResultFile): Kind {
  const type = (file.content_type ?? "").toLowerCase();
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("video/")) return "video";
  if (type.startsWith("audio/")) return "audio";
  return "file";
}

const NOUNS: Record<Kind, [string, string]> = {
  image: ["image", "images"],
  video: ["video", "videos"],
  audio: ["audio file", "audio files"],
  file: ["file", "files"],
};

/** "PNG" from image/png, "MP4" from video/mp4; nothing for odd types. */
function formatName(file: ResultFile): string | undefined {
  const subtype = /^[a-z]+\/([a-z0-9.+-]{1,20})$/i.exec(file.content_type ?? "")?.[1];
  if (!subtype) return undefined;
  const name = subtype.replace(/^(x-|vnd\.)/i, "").replace(/\+.*$/, "");
  return name.length <= 10 ? name.toUpperCase() : undefined;
}

function dimensions(file: ResultFile): string | undefined {
  return file.width !== undefined && file.height !== undefined ? `${file.width}×${file.height}` : undefined;
}

/** "2 images (PNG, 1024×768)", "1 video (MP4, 5 s, 1280×720)". */
function describeKind(kind: Kind, files: readonly ResultFile[]): string {
  const [one, many] = NOUNS[kind];
  const facts: string[] = [];
  const formats = [...new Set(files.map(formatName).filter((name) => name !== undefined))];
  if (formats.length > 0 && formats.length <= 2) facts.push(formats.join("/"));
  const durations = files.map((file) => file.duration_seconds).filter((value) => value !== undefined);
  if (durations.length === 1 && files.length === 1) facts.push(formatDuration(durations[0]!));
  else if (durations.length > 0) {
    const total = durations.reduce((sum, value) => sum + value, 0);
    facts.push(`${formatDuration(total)} in all`);
  }
  const sizes = [...new Set(files.map(dimensions).filter((size) => size !== undefined))];
  if (sizes.length > 0) facts.push(sizes.length <= MAX_SIZES_NAMED ? sizes.join(", ") : "various sizes");
  return `${files.length} ${files.length === 1 ? one : many}${facts.length > 0 ? ` (${facts.join(", ")})` : ""}`;
}

/** "$0.02", "about $0.02 (estimated; the cost is not known yet)", or undefined. */
function dollars(cost: CostReport | undefined, estimateUsd: number | null | undefined): string | undefined {
  if (cost?.cost_usd !== null && cost?.cost_usd !== undefined) return formatMoney(cost.cost_usd, "USD");
  const estimate = estimateUsd ?? cost?.estimate_usd ?? null;
  return estimate !== null
    ? `about ${formatMoney(estimate, "USD")} (estimated; the cost is not known yet)`
    : undefined;
}

/**
 * "Made 2 images (PNG, 1024×768) from "a red fox…", saved in /home/me/fal-mcp; cost $0.02."
 * Nothing about files when the job made none (an LLM's text, say).
 */
export function madeLine(job: {
  files: readonly ResultFile[];
  prompt: string | undefined;
  cost: CostReport | undefined;
  estimateUsd?: number | null | undefined;
}): string {
  const byKind = new Map<Kind, ResultFile[]>();
  for (const file of job.files) {
    const kind = kindOf(file);
    byKind.set(kind, [...(byKind.get(kind) ?? []), file]);
  }
  const parts = [...byKind].map(([kind, files]) => describeKind(kind, files));
  const what = parts.length > 0 ? `Made ${parts.join(", ")}` : "Made no media files";
  const from = job.prompt ? ` from ${job.prompt}` : "";
  const saved = job.files.filter((file) => file.path !== null);
  const where =
    saved.length === 1
      ? `, saved as ${saved[0]!.path}`
      : saved.length > 1
        ? `, ${saved.length} saved (paths below)`
        : "";
  const price = dollars(job.cost, job.estimateUsd);
  return `${what}${from}${where}; cost ${price ?? "unknown"}.`;
}

function fileLine(file: ResultFile, index: number): string {
  const about = [
    file.content_type ? oneLine(file.content_type, 60) : undefined,
    dimensions(file),
    file.duration_seconds !== undefined ? formatDuration(file.duration_seconds) : undefined,
    file.size !== null ? formatBytes(file.size) : undefined,
  ]
    .filter(Boolean)
    .join(", ");
  const url = file.url.startsWith("data:") ? "(inline data)" : oneLine(file.url, MAX_URL_CHARS);
  const where = file.path
    ? `\n   saved: ${file.path}`
    : file.error
      ? `\n   NOT saved: ${oneLine(file.error, 300)}`
      : "";
  return `${index + 1}. ${oneLine(file.field, 80)}${about ? ` (${about})` : ""}: ${url}${where}`;
}

/** The whole text of a completed job, before the cost line and the preview note. */
export function completedText(
  structured: JobOutput,
  files: readonly ResultFile[],
  compact: unknown,
  summary: string,
  /** HTTP mode saves nothing on the server's disk by design (not because of save: false). */
  mode: "stdio" | "http" = "stdio",
): string {
  const lines = [`fal job ${structured.request_id} (${structured.endpoint_id}) COMPLETED.`, summary];
  if (files.length > 0) {
    lines.push(`Files (${files.length}):`);
    files.slice(0, MAX_LISTED_FILES).forEach((file, index) => lines.push(fileLine(file, index)));
    if (files.length > MAX_LISTED_FILES) {
      const rest = files.slice(MAX_LISTED_FILES);
      const saved = rest.filter((file) => file.path !== null).length;
      lines.push(
        `… and ${rest.length} more (${saved} of them saved${structured.output_dir ? ` in ${structured.output_dir}` : ""}); every file and path is in structuredContent.files.`,
      );
    }
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
    lines.push(
      mode === "http"
        ? "This HTTP server saves nothing on its disk by design: download the files from their URLs, which expire under the account's media settings."
        : "Files were not saved (save: false); the URLs expire under the account's media settings.",
    );
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
