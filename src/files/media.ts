import fsp from "node:fs/promises";
import path from "node:path";
import mime from "mime-types";
import { downloadToBuffer, networkAccess, urlExtension } from "./download.js";
import { durationBeside, factsFromFields, type MediaFacts } from "./media-facts.js";
import { inlineImageType } from "./sniff-image.js";
import type { Fal } from "../fal/index.js";

/**
 * What a finished job produced: the media files found in the model's output (with their place
 * in it), the inline preview chosen among them, and the output with long data: URIs shortened.
 */

/** A media file referenced by a model's output. */
export interface MediaRef {
  url: string;
  /** JSON path of the file in the output, e.g. "images[0]" or "video". */
  field: string;
  contentType: string | undefined;
  /** Size fal announced (file_size), if any. */
  size: number | undefined;
  fileName: string | undefined;
  /** Dimensions and duration fal stated (sane values only). */
  facts?: MediaFacts;
}

/** A media file as reported to the user: URL, type, size, and where it was saved (or why not). */
export interface ResultFile {
  url: string;
  field: string;
  content_type: string | null;
  size: number | null;
  /** Absolute path of the saved copy. */
  path: string | null;
  /** Why it was not saved. */
  error: string | null;
  /** Pixels, when fal stated them or the saved image's header tells. */
  width?: number;
  height?: number;
  /** Seconds of audio or video, when fal stated it or the saved file's header tells. */
  duration_seconds?: number;
}

const MEDIA_EXTENSIONS = new Set([
  "png",
  "jpg",
  "jpeg",
  "webp",
  "gif",
  "bmp",
  "tif",
  "tiff",
  "avif",
  "heic",
  "svg",
  "ico",
  "exr",
  "mp4",
  "webm",
  "mov",
  "mkv",
  "avi",
  "m4v",
  "gifv",
  "mp3",
  "wav",
  "ogg",
  "flac",
  "m4a",
  "aac",
  "opus",
  "weba",
  "glb",
  "gltf",
  "obj",
  "fbx",
  "stl",
  "ply",
  "usdz",
  "splat",
  "zip",
  "tar",
  "safetensors",
  "ckpt",
  "pt",
  "bin",
  "json",
  "txt",
  "srt",
  "vtt",
  "pdf",
]);

const MAX_WALK_NODES = 50_000;

/**
 * Finds every media file in a model output: objects with a string `url` plus a `content_type`,
 * a `file_name` or a media extension; and plain string fields that are http(s) or data: URLs
 * of media. Duplicates (same URL) are listed once.
 */
export function extractMedia(output: unknown): MediaRef[] {
  const found: MediaRef[] = [];
  const seen = new Set<string>();
  let visited = 0;
  const add = (ref: MediaRef) => {
    if (seen.has(ref.url)) return;
    seen.add(ref.url);
    found.push(ref);
  };
  // Where each file object sits: a duration stated beside a single media file belongs to it.
  const parents = new Map<MediaRef, Record<string, unknown>>();
  const walk = (value: unknown, field: string, key: string, parent?: Record<string, unknown>) => {
    if (++visited > MAX_WALK_NODES) return;
    if (typeof value === "string") {
      if (looksLikeMediaUrl(value, key))
        add({
          url: value,
          field,
          contentType: dataUriType(value) ?? lookupType(value),
          size: undefined,
          fileName: undefined,
        });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, `${field}[${index}]`, key));
      return;
    }
    if (!value || typeof value !== "object") return;
    const record: Record<string, unknown> = Object.fromEntries(Object.entries(value));
    const url = record.url;
    if (typeof url === "string" && isFetchable(url)) {
      const contentType =
        typeof record.content_type === "string" && record.content_type ? record.content_type : undefined;
      const fileName =
        typeof record.file_name === "string" && record.file_name ? record.file_name : undefined;
      if (contentType || fileName || hasMediaExtension(url) || url.startsWith("data:")) {
        const ref: MediaRef = {
          url,
          field: field || "output",
          contentType: contentType ?? dataUriType(url) ?? lookupType(fileName ?? url),
          size: typeof record.file_size === "number" && record.file_size >= 0 ? record.file_size : undefined,
          fileName,
          facts: factsFromFields(record),
        };
        add(ref);
        if (parent) parents.set(ref, parent);
      }
    }
    for (const [childKey, child] of Object.entries(record)) {
      if (childKey === "url") continue;
      walk(child, field ? `${field}.${childKey}` : childKey, childKey, record);
    }
  };
  walk(output, "", "");
  // `{audio: {url}, duration: 3.2}`: the duration beside the only audio or video file of its object.
  const timed = found.filter((ref) => /^(audio|video)\//i.test(ref.contentType ?? ""));
  for (const ref of timed) {
    const parent = parents.get(ref);
    if (!parent || ref.facts?.duration_seconds !== undefined) continue;
    if (timed.filter((other) => parents.get(other) === parent).length !== 1) continue;
    const duration = durationBeside(parent);
    if (duration !== undefined) ref.facts = { ...ref.facts, duration_seconds: duration };
  }
  return found;
}

function isFetchable(url: string): boolean {
  return /^https?:\/\//i.test(url) || /^data:[^,]*,/i.test(url);
}

function looksLikeMediaUrl(value: string, key: string): boolean {
  if (/^data:(image|video|audio|model|application)\/[^,]*,/i.test(value)) return true;
  if (!/^https?:\/\//i.test(value)) return false;
  return (
    hasMediaExtension(value) ||
    (/(^|_)(url|image|video|audio|file|mesh|model)$/i.test(key) && /fal\.media\//i.test(value))
  );
}

function hasMediaExtension(url: string): boolean {
  const ext = urlExtension(url);
  return ext !== undefined && MEDIA_EXTENSIONS.has(ext);
}

function lookupType(nameOrUrl: string): string | undefined {
  const ext = /^https?:/i.test(nameOrUrl) ? urlExtension(nameOrUrl) : path.extname(nameOrUrl).slice(1);
  if (!ext) return undefined;
  const type = mime.lookup(ext);
  return type || undefined;
}

export function dataUriType(url: string): string | undefined {
  const match = /^data:([^;,]+)[;,]/i.exec(url);
  return match?.[1]?.toLowerCase();
}

/** `<YYYY-MM-DD>_<endpoint-slug>_<request-id-prefix>_<n>`: sortable, readable, unique per job. */

const PREVIEWABLE = new Set(["image/png", "image/jpeg", "image/webp", "image/gif"]);

/**
 * The first image of a result as base64, when it fits in `budgetBytes` (what is left of the
 * inline budget after the text and JSON). Read from the saved copy, else fetched into memory
 * with the same cap. Never a video.
 */
export async function imagePreview(options: {
  fal: Fal;
  files: readonly ResultFile[];
  budgetBytes: number;
  signal?: AbortSignal | undefined;
}): Promise<{ data: string; mimeType: string; url: string } | undefined> {
  const image = options.files.find(
    (file) =>
      file.error === null && file.content_type !== null && PREVIEWABLE.has(file.content_type.toLowerCase()),
  );
  if (!image?.content_type) return undefined;
  // base64 grows 4/3.
  const maxRaw = Math.floor((options.budgetBytes * 3) / 4);
  if (maxRaw <= 0) return undefined;
  if (image.size !== null && image.size > maxRaw) return undefined;
  let data: Buffer;
  if (image.path) {
    const stat = await fsp.stat(image.path).catch(() => undefined);
    if (!stat || stat.size > maxRaw) return undefined;
    data = await fsp.readFile(image.path);
  } else if (image.url.startsWith("data:")) {
    const comma = image.url.indexOf(",");
    data = Buffer.from(image.url.slice(comma + 1), "base64");
  } else {
    try {
      data = (
        await downloadToBuffer({
          network: networkAccess(options.fal.config),
          url: image.url,
          maxBytes: maxRaw,
          stallTimeoutMs: options.fal.config.stallTimeoutMs,
          // A preview is a nicety: it never costs more than two stall timeouts, so a trickling
          // server cannot stretch a tool's time bound through it.
          totalTimeoutMs: Math.min(
            options.fal.config.transferTimeoutMs,
            2 * options.fal.config.stallTimeoutMs,
          ),
          signal: options.signal,
        })
      ).data;
    } catch {
      return undefined;
    }
  }
  if (data.length === 0 || data.length > maxRaw) return undefined;
  // Inline only what the bytes prove to be an image of the announced type (an HTML page served
  // as image/png is not attached).
  const mimeType = inlineImageType(data, image.content_type);
  if (!mimeType) return undefined;
  return { data: data.toString("base64"), mimeType, url: image.url };
}

/**
 * A copy of the output with long data: URIs replaced by a short marker, so a sync_mode result
 * does not flood the conversation; the bytes are in the saved file.
 */
export function compactOutput(output: unknown, files: readonly ResultFile[]): unknown {
  const byUrl = new Map(files.map((file) => [file.url, file]));
  const visit = (value: unknown, depth: number): unknown => {
    if (typeof value === "string") {
      if (value.startsWith("data:") && value.length > 256) {
        const saved = byUrl.get(value)?.path;
        return `<data URI, ${dataUriType(value) ?? "unknown type"}, ${value.length} characters${saved ? `; saved to ${saved}` : ""}>`;
      }
      return value;
    }
    if (depth > 64 || value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map((item) => visit(item, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, visit(item, depth + 1)]));
  };
  return visit(output, 0);
}
