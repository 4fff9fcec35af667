import { InvalidArgumentError } from "../errors.js";
import type { Fal } from "../fal/index.js";
import { initiateUpload } from "../fal/storage.js";
import { formatBytes } from "../util/format.js";
import { MULTIPART_THRESHOLD } from "./put.js";
import { cleanFileName, contentTypeFor } from "./upload.js";

/**
 * upload_file's `prepare_upload`: fal's signed upload target handed to a client that sends the
 * bytes itself (HTTP mode, or a file too large for base64), as fal's own server does. Nothing but
 * the initiate is sent from here; the client PUTs the bytes without any Authorization header.
 */

/** One signed PUT takes up to fal's multipart threshold (90 MiB); fal's server says "1 byte to 90 MB". */
export const MAX_PREPARED_BYTES = MULTIPART_THRESHOLD;

export interface PreparedUpload {
  upload_url: string;
  file_url: string;
  method: "PUT";
  /** The headers the PUT must carry (and nothing else: no Authorization). */
  headers: { "Content-Type": string };
  file_name: string;
  content_type: string;
  file_size: number;
}

/** Checks the announced size and name, then gets a signed target for one PUT of `fileSize` bytes. */
export async function prepareUpload(
  fal: Fal,
  request: {
    fileName: string;
    fileSize: number;
    contentType?: string | undefined;
    maxBytes: number;
    signal?: AbortSignal | undefined;
  },
): Promise<PreparedUpload> {
  const key = fal.requireKey("Uploading a file");
  const limit = Math.min(MAX_PREPARED_BYTES, request.maxBytes);
  if (!Number.isInteger(request.fileSize) || request.fileSize < 1 || request.fileSize > limit) {
    throw new InvalidArgumentError(
      `file_size must be a whole number of bytes from 1 to ${limit} (${formatBytes(limit)}); got ${request.fileSize}.`,
      request.fileSize > limit
        ? "A prepared upload is one PUT of at most 90 MiB. For a larger file give a `path` (stdio) or a `url` this server can download."
        : "Give the exact size of the file in bytes.",
    );
  }
  const fileName = cleanFileName(request.fileName);
  const contentType = request.contentType ?? contentTypeFor(fileName);
  const target = await initiateUpload(fal, { key, fileName, contentType, signal: request.signal });
  return {
    upload_url: target.uploadUrl.href,
    file_url: target.fileUrl,
    method: "PUT",
    headers: { "Content-Type": contentType },
    file_name: fileName,
    content_type: contentType,
    file_size: request.fileSize,
  };
}
