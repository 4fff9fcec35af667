import { createHash } from "node:crypto";
import fsp from "node:fs/promises";
import path from "node:path";
import { DownloadError, downloadToFile, extensionFor, networkAccess, sanitizeName } from "./download.js";
import type { Fal } from "../fal/index.js";
import { errnoCode, errorMessage } from "../util/errors.js";
import { mapLimited } from "../util/limit.js";
import { isInside } from "../util/paths.js";
import { createRedactor } from "../util/redact-deep.js";
import { dataUriType, type MediaRef, type ResultFile } from "./media.js";
import { factsFromFile } from "./media-facts.js";

/**
 * Saving a job's media under FAL_MCP_OUTPUT_DIR, a few at a time, reusing copies saved by an
 * earlier call, and the entries the job record keeps for them.
 */

/** How a saved file is remembered between calls (the job record keeps these entries). */
export type SavedFileEntry = {
  url: string;
  content_type?: string | null | undefined;
  size?: number | null | undefined;
  field?: string | null | undefined;
  path?: string | null | undefined;
  error?: string | null | undefined;
};

export function outputBaseName(options: {
  date: Date;
  endpointId: string;
  requestId: string;
  index: number;
  /** True when a text carries the key (fal could echo it as a request id). */
  leaks?: ((text: string) => boolean) | undefined;
}): string {
  const day = options.date.toISOString().slice(0, 10);
  const slug = sanitizeName(options.endpointId.replace(/\//g, "-"), 60);
  // A plain id (fal's are UUIDs) names the file by its first 8 characters; anything else (a
  // key-shaped id, a path) by a hash, so no part of it reaches the disk as a name (the job
  // record's file names follow the same rule).
  const plain = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(options.requestId);
  const prefix =
    plain && !options.leaks?.(options.requestId)
      ? options.requestId.slice(0, 8)
      : `h${createHash("sha256").update(options.requestId).digest("hex").slice(0, 7)}`;
  return `${day}_${slug}_${prefix}_${options.index}`;
}

export interface SaveOptions {
  fal: Fal;
  endpointId: string;
  requestId: string;
  files: MediaRef[];
  signal?: AbortSignal | undefined;
  /** Files saved by an earlier call (from the job record): reused when still on disk. */
  previous?: readonly SavedFileEntry[] | null | undefined;
  /** How many downloads run at once. */
  concurrency?: number;
  date?: Date;
}

/**
 * Saves every media file under the output folder, a few at a time. A failed download is reported
 * next to its URL and never fails the others.
 */
export async function saveFiles(options: SaveOptions): Promise<ResultFile[]> {
  // Nothing to save (an LLM's or a classifier's output): no folder made, no thread-pool trip.
  if (options.files.length === 0) return [];
  const { config } = options.fal;
  const directory = path.resolve(config.outputDir);
  try {
    await fsp.mkdir(directory, { recursive: true });
  } catch (error) {
    // The job is done and paid for: a folder we cannot write is a per-file failure, never an
    // error that hides the result (a retry of the call would pay again).
    const reason = `not saved: the output folder ${directory} could not be created (${errnoCode(error) ?? errorMessage(error)}); set FAL_MCP_OUTPUT_DIR to a folder you can write to, then fetch the result again (free)`;
    return options.files.map((file) => ({ ...unsavedFile(file), error: reason }));
  }
  const date = options.date ?? new Date();
  const redactor = createRedactor([config.falKey?.reveal()]);
  const leaks = (text: string) => redactor.leaks(text);
  // One deadline for the whole save, however many files: the documented time bound holds.
  const deadlineAt = Date.now() + config.transferTimeoutMs;
  return mapLimited(options.files, options.concurrency ?? 3, async (file, index) =>
    withFileFacts(await saveOne(options, file, index + 1, directory, date, deadlineAt, leaks)),
  );
}

/** Dimensions or duration fal did not state, from the saved copy's header. */
async function withFileFacts(file: ResultFile): Promise<ResultFile> {
  const needsSize = file.width === undefined;
  const needsDuration = file.duration_seconds === undefined;
  if (!file.path || (!needsSize && !needsDuration)) return file;
  const found = await factsFromFile(file.path, file.content_type);
  return {
    ...file,
    ...(needsSize && found.width !== undefined ? { width: found.width, height: found.height } : {}),
    ...(needsDuration && found.duration_seconds !== undefined
      ? { duration_seconds: found.duration_seconds }
      : {}),
  };
}

async function saveOne(
  options: SaveOptions,
  file: MediaRef,
  index: number,
  directory: string,
  date: Date,
  deadlineAt: number,
  leaks: (text: string) => boolean,
): Promise<ResultFile> {
  const base = unsavedFile(file);
  const reused = await reusable(options.previous, file.url, file.field, file.contentType, directory);
  if (reused)
    return {
      ...base,
      path: reused.path,
      size: reused.size,
      content_type: base.content_type ?? reused.content_type ?? null,
    };
  const baseName = outputBaseName({
    date,
    endpointId: options.endpointId,
    requestId: options.requestId,
    index,
    leaks,
  });
  try {
    if (file.url.startsWith("data:")) return { ...base, ...(await saveDataUri(file, directory, baseName)) };
    const saved = await downloadToFile({
      network: networkAccess(options.fal.config),
      url: file.url,
      directory,
      baseName,
      contentTypeHint: file.contentType,
      maxBytes: options.fal.config.maxDownloadBytes,
      stallTimeoutMs: options.fal.config.stallTimeoutMs,
      totalTimeoutMs: Math.max(1, deadlineAt - Date.now()),
      signal: options.signal,
    });
    return {
      ...base,
      path: saved.path,
      size: saved.size,
      content_type: base.content_type ?? saved.contentType ?? null,
    };
  } catch (error) {
    const reason =
      error instanceof DownloadError
        ? error.message
        : `could not save it (${error instanceof Error ? error.message : String(error)})`;
    return { ...base, error: reason };
  }
}

async function reusable(
  previous: SaveOptions["previous"],
  url: string,
  field: string,
  contentType: string | undefined,
  directory: string,
): Promise<{ path: string; size: number; content_type: string | null | undefined } | undefined> {
  const key = recordUrl(url, contentType);
  const entry = previous?.find((item) => item.url === key && item.field === field && item.path);
  if (!entry?.path || !isInside(directory, entry.path)) return undefined;
  const stat = await fsp.stat(entry.path).catch(() => undefined);
  if (!stat?.isFile() || (typeof entry.size === "number" && stat.size !== entry.size)) return undefined;
  return { path: entry.path, size: stat.size, content_type: entry.content_type };
}

async function saveDataUri(
  file: MediaRef,
  directory: string,
  baseName: string,
): Promise<Pick<ResultFile, "path" | "size" | "content_type">> {
  const match = /^data:([^,]*),(.*)$/s.exec(file.url);
  if (!match) throw new DownloadError("not a valid data: URI");
  const meta = match[1] ?? "";
  const data = meta.split(";").includes("base64")
    ? Buffer.from(match[2] ?? "", "base64")
    : Buffer.from(decodeURIComponent(match[2] ?? ""), "utf8");
  const contentType = meta.split(";")[0] || file.contentType || "application/octet-stream";
  const ext = extensionFor(contentType, "");
  for (let attempt = 1; attempt < 1000; attempt++) {
    const target = path.join(
      directory,
      `${sanitizeName(baseName)}${attempt === 1 ? "" : `-${attempt}`}.${ext}`,
    );
    if (!isInside(directory, target)) break;
    try {
      await fsp.writeFile(target, data, { flag: "wx" });
      return { path: target, size: data.length, content_type: contentType };
    } catch (error) {
      if (error && typeof error === "object" && "code" in error && error.code === "EEXIST") continue;
      throw error;
    }
  }
  throw new DownloadError("could not find a free file name in the output folder");
}

/** Files without saving (save: false): URL, type and announced size only. */
export function unsavedFiles(files: MediaRef[]): ResultFile[] {
  return files.map(unsavedFile);
}

function unsavedFile(file: MediaRef): ResultFile {
  return {
    url: file.url,
    field: file.field,
    content_type: file.contentType ?? null,
    size: file.size ?? null,
    path: null,
    error: null,
    ...file.facts,
  };
}

/** Converts result files into job-record entries (with the URL shortened for data: URIs). */
export function recordEntries(files: readonly ResultFile[]): SavedFileEntry[] {
  return files.map((file) => ({
    url: recordUrl(file.url, file.content_type ?? undefined),
    content_type: file.content_type,
    size: file.size,
    field: file.field,
    path: file.path,
    error: file.error,
  }));
}

/** How a file's URL is kept in the record: data: URIs (file contents) are replaced by a marker. */
function recordUrl(url: string, contentType: string | undefined): string {
  return url.startsWith("data:")
    ? `data:${dataUriType(url) ?? contentType ?? ""} (inline, ${url.length} characters)`
    : url;
}
