import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import mime from "mime-types";
import { AccessDeniedError, FalNetworkError, InvalidArgumentError } from "../errors.js";
import { formatBytes } from "../util/format.js";
import { isFalCdnUrl } from "../fal/cdn.js";
import type { Resolver } from "./address-policy.js";
import { DownloadError, downloadToFile, networkAccess } from "./download.js";
import { openVerified } from "./open-verified.js";
import {
  cleanFileName,
  contentTypeFor,
  uploadLocalFile,
  type UploadOptions,
  type UploadResult,
} from "./upload.js";

// ---------------------------------------------------------------------------------------------
// Re-hosting a URL on fal's CDN

export interface UrlUploadOptions extends UploadOptions {
  /** FAL_MCP_MAX_UPLOAD_BYTES. */
  maxBytes: number;
  /** Called while downloading the source. */
  onDownload?: ((bytes: number, total: number | undefined) => void) | undefined;
  /** FAL_MCP_ALLOW_PRIVATE_URLS: allow URLs on this machine or a private network. */
  allowPrivateUrls: boolean;
  /** Injectable DNS look-up (tests). */
  resolve?: Resolver | undefined;
}

export interface UrlUploadResult extends Omit<UploadResult, "size"> {
  /** Unknown (null) when a fal CDN URL is returned as is. */
  size: number | null;
  /** True when the URL was already on fal's CDN and returned without any request. */
  already_on_cdn: boolean;
}

/**
 * Downloads `raw` (http/https only) to a private temporary file, streamed with a size cap and a
 * stall timeout, then uploads that file with the local uploader; the temporary file is always
 * removed. A URL already on fal's CDN is returned as is, without any request.
 */
export async function uploadFromUrl(raw: string, options: UrlUploadOptions): Promise<UrlUploadResult> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new InvalidArgumentError(
      `"${raw}" is not a valid URL.`,
      "Give a full http(s) URL, e.g. https://example.com/photo.png, or use `path` for a local file.",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AccessDeniedError(
      `Only http and https URLs can be re-hosted; "${url.protocol}" URLs are refused.`,
      "Use `path` for a local file (file:// URLs go there too).",
    );
  }
  const urlName = cleanFileName(
    decodeURIComponent(url.pathname.split("/").filter(Boolean).pop() ?? "") || "download",
  );
  if (isFalCdnUrl(url.href)) {
    const fileName = cleanFileName(options.fileName ?? urlName);
    return {
      url: url.href,
      file_name: fileName,
      content_type: options.contentType ?? contentTypeFor(fileName),
      size: null,
      already_on_cdn: true,
    };
  }
  options.fal.requireKey("Uploading a file");

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-rehost-"));
  try {
    const { filePath, contentType } = await download(url, dir, urlName, options);
    const fileName = cleanFileName(options.fileName ?? withExtension(urlName, contentType));
    // Our own private temp file: opened and verified like any local file, then read from the descriptor.
    const result = await uploadLocalFile(await openVerified(await fs.realpath(filePath)), {
      ...options,
      fileName,
      contentType:
        options.contentType ??
        (contentType && contentType !== "application/octet-stream" ? contentType : contentTypeFor(fileName)),
    });
    return { ...result, already_on_cdn: false };
  } finally {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function withExtension(name: string, contentType: string | undefined): string {
  if (path.extname(name) || !contentType) return name;
  const extension = mime.extension(contentType);
  return extension ? `${name}.${extension}` : name;
}

async function download(
  url: URL,
  dir: string,
  name: string,
  options: UrlUploadOptions,
): Promise<{ filePath: string; size: number; contentType: string | undefined }> {
  const shown = `${url.origin}${url.pathname}`;
  let saved;
  try {
    // The one guarded downloader: every hop checked at connect time, decoded bytes capped, a stall
    // timeout and a total deadline; the connection is closed at any refusal.
    saved = await downloadToFile({
      network: {
        ...networkAccess(options.fal.config),
        policy: { allowPrivate: options.allowPrivateUrls },
        resolve: options.resolve,
      },
      url: url.href,
      directory: dir,
      baseName: name,
      maxBytes: options.maxBytes,
      sizeSetting: "FAL_MCP_MAX_UPLOAD_BYTES",
      stallTimeoutMs: options.fal.config.stallTimeoutMs,
      totalTimeoutMs: options.fal.config.transferTimeoutMs,
      signal: options.signal,
      onProgress: options.onDownload,
    });
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    if (!(error instanceof DownloadError)) throw error;
    switch (error.kind) {
      case "refused":
        throw new AccessDeniedError(
          `fal-mcp does not fetch ${shown}: ${error.message.replace(/^not downloaded: /, "")}; upload_file would publish what it returns on fal's public CDN.`,
          "Download the file yourself and pass it as a `path`, or (for a private network, never for metadata addresses) set FAL_MCP_ALLOW_PRIVATE_URLS=1 in this server's env block.",
        );
      case "too-large":
        throw new AccessDeniedError(
          `${shown} ${error.message.replace(/^the file /, "")}, above the upload limit of ${formatBytes(options.maxBytes)}.`,
          "Raise FAL_MCP_MAX_UPLOAD_BYTES in this server's env block (a number of bytes).",
        );
      case "status":
        throw new InvalidArgumentError(
          `Downloading ${shown} failed: ${error.message}.`,
          "Check that the URL is correct and public (no login needed).",
        );
      case "timeout":
        throw new FalNetworkError(
          `Downloading ${shown}: ${error.message}.`,
          "stalled",
          "Check that the URL is reachable and try again, or download it yourself and pass a `path`.",
        );
      default:
        throw new FalNetworkError(
          `Could not download ${shown} (${error.message}).`,
          "connection",
          "Check the URL (it must be publicly reachable), or download it yourself and pass a `path`.",
        );
    }
  }
  if (saved.size === 0) throw new InvalidArgumentError(`${shown} is empty (0 bytes).`, "Check the URL.");
  return { filePath: saved.path, size: saved.size, contentType: saved.contentType };
}
