import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { InvalidArgumentError } from "../errors.js";
import {
  absoluteFromReference,
  isInsideReadable,
  openReadable,
  remoteServerFileError,
  type ReadPolicy,
} from "./access.js";
import { isChatSandboxPath } from "./chat-attachments.js";
import type { VerifiedFile } from "./open-verified.js";
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
  /** The call's read policy (readPolicyFor). */
  policy: ReadPolicy;
  signal: AbortSignal;
  onProgress?: (message: string) => void;
  /** A path-like string left as text because it is outside the readable folders. */
  onNotice?: (message: string) => void;
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

/**
 * Whether a path-like string reads as a file path rather than prose ("/imagine a cat"): no
 * whitespace, or a final segment with an extension ("/Users/me/My Photos/cat.png").
 */
export function looksLikeFilePath(value: string): boolean {
  return !/\s/.test(value) || /\.[A-Za-z0-9]{1,10}$/.test(value.trim());
}

export async function uploadLocalInputs(
  input: Record<string, unknown>,
  options: LocalInputOptions,
): Promise<{ input: Record<string, unknown>; uploads: LocalInputUpload[] }> {
  // 1–2. Find the strings that name local files and check all of them before uploading any.
  const { byRealPath, realPathOf } = await planLocalInputs(input, options);
  if (byRealPath.size === 0)
    return { input: copy(input, new Map(), 0) as Record<string, unknown>, uploads: [] };

  // 3. Upload each distinct file once, one after another (bandwidth, not latency, is the limit),
  // each read from the descriptor the policy verified.
  const urlOf = new Map<string, string>();
  const uploads: LocalInputUpload[] = [];
  let index = 0;
  const pending = [...byRealPath];
  try {
    while (pending.length > 0) {
      const [realPath, { file, shown }] = pending.shift()!;
      index++;
      const label = byRealPath.size > 1 ? ` (file ${index} of ${byRealPath.size})` : "";
      options.onProgress?.(
        `Uploading ${path.basename(shown)} (${formatBytes(file.size)}) to fal's CDN${label}`,
      );
      const result = await uploadLocalFile(file, {
        fal: options.fal,
        signal: options.signal,
        fileName: path.basename(shown),
        sleep: options.sleep,
        onProgress: (progress) => {
          if (progress.parts > 1 && progress.partsDone > 0) options.onProgress?.(progress.message + label);
        },
      });
      urlOf.set(realPath, result.url);
      uploads.push({ path: shown, url: result.url, size: result.size, content_type: result.content_type });
    }
  } finally {
    for (const [, { file }] of pending) await file.handle.close().catch(() => undefined);
  }

  const replacements = new Map<string, string>();
  for (const [raw, realPath] of realPathOf) {
    const url = urlOf.get(realPath);
    if (url) replacements.set(raw, url);
  }
  return { input: copy(input, replacements, 0) as Record<string, unknown>, uploads };
}

interface LocalInputPlan {
  /** Each distinct file once, with its verified open descriptor (the caller closes it). */
  byRealPath: Map<string, { file: VerifiedFile; shown: string }>;
  realPathOf: Map<string, string>;
}

/**
 * Checks every local file named in the input against the access policy without uploading any:
 * throws the refusal of the first one that may not be read. The job workflow runs it before
 * anything else is sent to fal (schema and price reads included); the upload checks again, on
 * the descriptors it then reads from.
 */
export async function checkLocalInputs(
  input: Record<string, unknown>,
  options: Pick<LocalInputOptions, "fal" | "policy">,
): Promise<void> {
  const { byRealPath } = await planLocalInputs(input, options);
  for (const { file } of byRealPath.values()) await file.handle.close().catch(() => undefined);
}

async function planLocalInputs(
  input: Record<string, unknown>,
  options: Pick<LocalInputOptions, "fal" | "policy" | "onNotice">,
): Promise<LocalInputPlan> {
  const homeDir = options.fal.config.homeDir;

  // 1. Find the strings that name local files.
  const found = new Set<string>();
  collect(input, found, 0);

  // 2. Check all of them before uploading any: one refusal means nothing is sent. The policy runs
  // on the string first: a path outside the readable folders is never looked at on disk, so the
  // answer is the same whether a file exists there or not.
  const { policy } = options;
  const byRealPath = new Map<string, { file: VerifiedFile; shown: string }>();
  const realPathOf = new Map<string, string>();
  try {
    for (const raw of found) {
      const kind = localReferenceKind(raw);
      if (!kind) continue;
      // fal-mcp http never touches its disk: a file URL or a path ending in a file extension is
      // refused; other slash-led strings ("/imagine …" prompts) are passed on as written.
      if (options.fal.config.mode === "http") {
        if (kind === "file-url" || /\.[A-Za-z0-9]{1,10}$/.test(raw)) throw remoteServerFileError(raw);
        continue;
      }
      if (kind === "path") {
        if (!isInsideReadable(raw, policy)) {
          // Decided on the string alone, never on the disk: a file path outside is refused
          // (openReadable refuses it before any stat); prose that starts with "/" stays text.
          if (looksLikeFilePath(raw) || isChatSandboxPath(raw, policy.homeDir))
            await openReadable(raw, policy);
          options.onNotice?.(
            `"${raw.slice(0, 200)}" starts like a local path but is outside the readable folders, so it was sent to the model as text.`,
          );
          continue;
        }
        // Inside: a string that only looks like a path ("/imagine" as a prompt) stays as written
        // unless a file (or something that is not a folder) exists there.
        const absolute = absoluteFromReference(raw, homeDir, policy.readable.folders[0]);
        const stats = absolute === undefined ? undefined : await fs.stat(absolute).catch(() => undefined);
        if (!stats || stats.isDirectory()) continue;
      }
      const file = await openReadable(raw, policy);
      realPathOf.set(raw, file.realPath);
      if (byRealPath.has(file.realPath)) {
        await file.handle.close();
        continue;
      }
      byRealPath.set(file.realPath, {
        file,
        shown: absoluteFromReference(raw, homeDir, policy.readable.folders[0]) ?? raw,
      });
    }
  } catch (error) {
    for (const { file } of byRealPath.values()) await file.handle.close().catch(() => undefined);
    throw error;
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
