import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AccessDeniedError, InvalidArgumentError } from "../errors.js";
import { formatBytes } from "../util/format.js";
import {
  cleanFileName,
  contentTypeFor,
  uploadLocalFile,
  type UploadOptions,
  type UploadResult,
} from "./upload.js";
import { openVerified } from "./open-verified.js";

/**
 * upload_file's `data` path: complete base64 bytes sent in the tool call (fal's hosted server
 * takes the same argument). Meant for small files, the only way for a client that cannot share a
 * path with the server (HTTP mode); larger files go through prepare_upload.
 */

/** fal: "Use base64 for small files (under 1 MB)". The decoded bytes, not the base64 text. */
export const MAX_DATA_BYTES = 1024 * 1024;
/** Base64 text for MAX_DATA_BYTES, plus room for a `data:<type>;base64,` prefix and line breaks. */
export const MAX_DATA_CHARS = Math.ceil(MAX_DATA_BYTES / 3) * 4 + 64 * 1024;

const DATA_URI = /^data:([\w.+-]+\/[\w.+-]+)?((?:;[\w.+-]+=[^;,]*)*);base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

export interface DecodedData {
  bytes: Buffer;
  /** The type a `data:` URI prefix declared, if any. */
  declaredType: string | undefined;
}

/**
 * Decodes complete base64 (standard or URL-safe alphabet, optionally a `data:…;base64,` URI),
 * strictly: Buffer.from would skip stray characters and upload something else than was meant.
 */
export function decodeBase64Data(raw: string, maxBytes: number = MAX_DATA_BYTES): DecodedData {
  let text = raw.trim();
  let declaredType: string | undefined;
  const uri = DATA_URI.exec(text);
  if (uri) {
    declaredType = uri[1]?.toLowerCase();
    text = text.slice(uri[0].length);
  } else if (/^data:/i.test(text)) {
    throw new InvalidArgumentError(
      "`data` is a data: URI without base64 encoding.",
      "Give the file's bytes as base64 (a `data:<type>;base64,` prefix is optional).",
    );
  }
  text = text.replace(/\s+/g, "");
  if (text === "") throw new InvalidArgumentError("`data` is empty.", "Give the file's bytes as base64.");
  if (!BASE64.test(text) && !BASE64URL.test(text)) {
    throw new InvalidArgumentError(
      "`data` is not valid base64 (only A–Z, a–z, 0–9, '+', '/' or '-', '_', and '=' padding at the end are allowed).",
      "Encode the complete file as base64, e.g. `base64 -w0 file.png`.",
    );
  }
  const unpadded = text.replace(/=+$/, "");
  if (unpadded.length % 4 === 1 || (text.length !== unpadded.length && text.length % 4 !== 0)) {
    throw new InvalidArgumentError(
      "`data` is not complete base64: its length does not fit (truncated?).",
      "Send the complete file; base64 text cut off in the middle cannot be decoded.",
    );
  }
  const expected = Math.floor((unpadded.length * 3) / 4);
  if (expected > maxBytes) throw tooLarge(expected, maxBytes);
  const bytes = Buffer.from(unpadded, BASE64.test(text) ? "base64" : "base64url");
  if (bytes.length !== expected) {
    throw new InvalidArgumentError(
      "`data` could not be decoded as base64.",
      "Encode the complete file as base64.",
    );
  }
  return { bytes, declaredType };
}

function tooLarge(size: number, maxBytes: number): AccessDeniedError {
  return new AccessDeniedError(
    `The \`data\` file is ${formatBytes(size)}, above the ${formatBytes(maxBytes)} limit for base64 uploads.`,
    "For a larger file use prepare_upload (with file_size and file_name; you then PUT the bytes to the returned upload_url), or a `path` when this server runs on the same machine.",
  );
}

/**
 * The type of uploaded bytes: what the caller said, else a `data:` URI's type, else what the
 * bytes are (magic numbers, via file-type), else the file name's extension, else octet-stream.
 * Bytes win over the extension: a model often names a file wrongly, never its contents.
 */
export async function contentTypeOfBytes(
  bytes: Uint8Array,
  hints: {
    contentType?: string | undefined;
    declaredType?: string | undefined;
    fileName?: string | undefined;
  },
): Promise<string> {
  if (hints.contentType) return hints.contentType;
  if (hints.declaredType) return hints.declaredType;
  // Loaded on first use: file-type and the zip reader and logger it brings cost every start ~5 ms
  // and their tables, for the few calls that upload bytes without a type. (Bundled: the import is
  // esbuild's lazy initialiser, not a module load, so the code-cached launcher can serve it.)
  const { fileTypeFromBuffer } = await import("file-type/core");
  const sniffed = await fileTypeFromBuffer(bytes);
  if (sniffed) return sniffed.mime;
  return hints.fileName ? contentTypeFor(hints.fileName) : "application/octet-stream";
}

const EXTENSIONS: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "image/gif": "gif",
  "video/mp4": "mp4",
  "video/webm": "webm",
  "video/quicktime": "mov",
  "audio/mpeg": "mp3",
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "audio/ogg": "ogg",
  "audio/flac": "flac",
  "model/gltf-binary": "glb",
  "application/zip": "zip",
  "application/pdf": "pdf",
};

/** A file name for bytes that came without one: `upload.<ext>` from the type. */
export function defaultFileName(contentType: string): string {
  const extension = EXTENSIONS[contentType] ?? /^[a-z]+\/([a-z0-9]+)$/.exec(contentType)?.[1];
  return extension && extension !== "octet" ? `upload.${extension}` : "upload.bin";
}

export interface DataUploadResult extends UploadResult {
  /** How the type was found, so an answer can say it was guessed. */
  content_type_source: "given" | "detected";
}

/**
 * Uploads base64 `data`: decoded and capped in memory (at most 1 MiB), written to a private
 * temporary file, then sent by the one uploader (signed PUT, retries, CDN-host check); the
 * temporary file is always removed.
 */
export async function uploadData(
  data: string,
  options: UploadOptions & { maxBytes: number },
): Promise<DataUploadResult> {
  options.fal.requireKey("Uploading a file");
  const limit = Math.min(MAX_DATA_BYTES, options.maxBytes);
  const { bytes, declaredType } = decodeBase64Data(data, limit);
  const contentType = await contentTypeOfBytes(bytes, {
    contentType: options.contentType,
    declaredType,
    fileName: options.fileName,
  });
  const fileName = cleanFileName(options.fileName ?? defaultFileName(contentType));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-data-"));
  try {
    const filePath = path.join(dir, "data");
    await fs.writeFile(filePath, bytes, { mode: 0o600, flag: "wx" });
    // Our own private temp file: opened and verified, then read from the descriptor.
    const file = await openVerified(await fs.realpath(filePath));
    const result = await uploadLocalFile(file, { ...options, fileName, contentType });
    return { ...result, content_type_source: options.contentType || declaredType ? "given" : "detected" };
  } finally {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
