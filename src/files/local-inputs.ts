import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { InvalidArgumentError } from "../errors.js";
import { refuseChatAttachment } from "./chat-attachments.js";
import { checkReadableFile, expandPath, pathFromReference, remoteServerFileError } from "./access.js";
import type { Fal } from "../fal/index.js";
import { uploadLocalFile, type UploadOptions } from "./upload.js";
import { formatBytes } from "../util/format.js";
import { isRecord } from "../util/json.js";

/**
 * Local files inside a model input (run_model, submit_job): every string that names an existing
 * local file (an absolute path, `~/…`, or a `file://` URL) is checked by the access policy,
 * uploaded to fal's CDN once per call, and replaced by its CDN URL in a new copy of the input.
 */

export interface LocalInputUpload {
  path: string;
  url: string;
  size: number;
  content_type: string;
}

export interface LocalInputOptions {
  fal: Fal;
  allowedDirs: readonly string[];
  signal: AbortSignal;
  onProgress?: (message: string) => void;
  /** Injectable for tests (upload retry backoff). */
  sleep?: UploadOptions["sleep"];
}

const MAX_DEPTH = 64;
/** Longer strings are prompts or data, not paths (PATH_MAX is 4096 on Linux). */
const MAX_PATH_LENGTH = 4096;

type Candidate = { kind: "file-url" | "path"; raw: string };

/** Whether `value` is written like a local file reference (before checking the disk). */
export function localReferenceKind(value: string): Candidate["kind"] | undefined {
  if (value.length === 0 || value.length > MAX_PATH_LENGTH || /[\r\n\0]/.test(value)) return undefined;
  if (/^file:/i.test(value)) return "file-url";
  if (value.startsWith("/") || value.startsWith("~/") || value.startsWith("~\\")) return "path";
  // Windows drive paths (C:\… or C:/…) and UNC paths, meaningful only on Windows.
  if (os.platform() === "win32" && (/^[A-Za-z]:[\\/]/.test(value) || value.startsWith("\\\\"))) return "path";
  return undefined;
}

export async function uploadLocalInputs(
  input: Record<string, unknown>,
  options: LocalInputOptions,
): Promise<{ input: Record<string, unknown>; uploads: LocalInputUpload[] }> {
  // 1–2. Find the strings that name local files and check all of them before uploading any.
  const { byRealPath, realPathOf } = await planLocalInputs(input, options);
  if (byRealPath.size === 0)
    return { input: copy(input, new Map(), 0) as Record<string, unknown>, uploads: [] };

  // 3. Upload each distinct file once, one after another (bandwidth, not latency, is the limit).
  const urlOf = new Map<string, string>();
  const uploads: LocalInputUpload[] = [];
  let index = 0;
  for (const [realPath, file] of byRealPath) {
    index++;
    const label = byRealPath.size > 1 ? ` (file ${index} of ${byRealPath.size})` : "";
    options.onProgress?.(
      `Uploading ${path.basename(file.shown)} (${formatBytes(file.size)}) to fal's CDN${label}`,
    );
    const result = await uploadLocalFile(realPath, file.size, {
      fal: options.fal,
      signal: options.signal,
      fileName: path.basename(file.shown),
      sleep: options.sleep,
      onProgress: (progress) => {
        if (progress.parts > 1 && progress.partsDone > 0) options.onProgress?.(progress.message + label);
      },
    });
    urlOf.set(realPath, result.url);
    uploads.push({ path: file.shown, url: result.url, size: result.size, content_type: result.content_type });
  }

  const replacements = new Map<string, string>();
  for (const [raw, realPath] of realPathOf) {
    const url = urlOf.get(realPath);
    if (url) replacements.set(raw, url);
  }
  return { input: copy(input, replacements, 0) as Record<string, unknown>, uploads };
}

interface LocalInputPlan {
  byRealPath: Map<string, { reference: string; size: number; shown: string }>;
  realPathOf: Map<string, string>;
}

/**
 * Checks every local file named in the input against the access policy without uploading any:
 * throws the refusal of the first one that may not be read. The job workflow runs it before
 * anything else is sent to fal (schema and price reads included).
 */
export async function checkLocalInputs(
  input: Record<string, unknown>,
  options: Pick<LocalInputOptions, "fal" | "allowedDirs">,
): Promise<void> {
  await planLocalInputs(input, options);
}

async function planLocalInputs(
  input: Record<string, unknown>,
  options: Pick<LocalInputOptions, "fal" | "allowedDirs">,
): Promise<LocalInputPlan> {
  const homeDir = options.fal.config.homeDir;
  const config = options.fal.config;

  // 1. Find the strings that name local files.
  const found = new Set<string>();
  collect(input, found, 0);

  // 2. Check all of them before uploading any: one refusal means nothing is sent.
  const byRealPath: LocalInputPlan["byRealPath"] = new Map();
  const realPathOf = new Map<string, string>();
  for (const raw of found) {
    const kind = localReferenceKind(raw);
    if (!kind) continue;
    // fal-mcp http never touches its disk: a file URL or a path ending in a file extension is
    // refused; other slash-led strings ("/imagine …" prompts) are passed on as written.
    if (config.mode === "http") {
      if (kind === "file-url" || /\.[A-Za-z0-9]{1,10}$/.test(raw)) throw remoteServerFileError(raw);
      continue;
    }
    if (kind === "path") {
      // A string that only looks like a path ("/imagine" as a prompt) stays as written unless a
      // file (or something that is not a folder) exists there.
      const absolute = expandPath(raw, homeDir, undefined);
      const stats = absolute === undefined ? undefined : await fs.stat(absolute).catch(() => undefined);
      if (absolute !== undefined) await refuseChatAttachment(raw, absolute);
      if (!stats || stats.isDirectory()) continue;
    }
    const checked = await checkReadableFile(raw, {
      allowedDirs: options.allowedDirs,
      allowHidden: config.allowHidden,
      maxBytes: config.maxUploadBytes,
      homeDir,
    });
    realPathOf.set(raw, checked.realPath);
    if (!byRealPath.has(checked.realPath)) {
      const shown =
        kind === "file-url" ? pathFromReference(raw) : (expandPath(raw, homeDir, undefined) ?? raw);
      byRealPath.set(checked.realPath, { reference: raw, size: checked.size, shown });
    }
  }
  return { byRealPath, realPathOf };
}

function tooDeep(): InvalidArgumentError {
  return new InvalidArgumentError(
    `The input is nested more than ${MAX_DEPTH} levels deep.`,
    "Flatten the input; model inputs are rarely more than a few levels deep.",
  );
}

function collect(value: unknown, found: Set<string>, depth: number): void {
  if (depth > MAX_DEPTH) throw tooDeep();
  if (typeof value === "string") {
    if (localReferenceKind(value)) found.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collect(item, found, depth + 1);
  } else if (isRecord(value)) {
    for (const key of Object.keys(value)) {
      if (key === "__proto__") continue;
      collect(value[key], found, depth + 1);
    }
  }
}

/** A deep copy with strings replaced; `__proto__` keys are dropped and every key is defined as own data (no prototype writes). */
function copy(value: unknown, replacements: Map<string, string>, depth: number): unknown {
  if (depth > MAX_DEPTH) throw tooDeep();
  if (typeof value === "string") return replacements.get(value) ?? value;
  if (Array.isArray(value)) return value.map((item) => copy(item, replacements, depth + 1));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (key === "__proto__") continue;
      Object.defineProperty(out, key, {
        value: copy(value[key], replacements, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
