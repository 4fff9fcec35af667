import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import mime from "mime-types";
import { AccessDeniedError, FalMcpError, FalNetworkError, InvalidArgumentError } from "../errors.js";
import { networkCause } from "../util/errors.js";
import { formatBytes } from "../util/format.js";
import { isFalCdnUrl } from "../fal/cdn.js";
import { assertFetchableUrl, type Resolver } from "./network-guard.js";
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

/** Redirect hops followed for a URL upload; each hop is checked like the first URL. */
const MAX_REDIRECTS = 5;

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
  await assertFetchableUrl(url, options.allowPrivateUrls, options.resolve);

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-rehost-"));
  try {
    const { filePath, size, contentType } = await download(url, dir, urlName, options);
    const fileName = cleanFileName(options.fileName ?? withExtension(urlName, contentType));
    const result = await uploadLocalFile(filePath, size, {
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
  const stall = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(), options.fal.config.stallTimeoutMs);
  };
  const signal = AbortSignal.any([options.signal, stall.signal]);
  const host = url.host;
  const stalled = () =>
    new FalNetworkError(
      `Downloading ${url.origin}${url.pathname} stalled: no byte for ${Math.round(options.fal.config.stallTimeoutMs / 1000)} s.`,
      "stalled",
      "Check that the URL is reachable and try again, or download it yourself and pass a `path`.",
    );
  touch();
  let response: Response;
  try {
    // fal.fetch redirects fal hosts to FAL_MCP_BASE_URL and leaves others to the platform's fetch.
    // Redirects are followed by hand so that every hop passes the same address check.
    response = await options.fal.fetch(url.href, { signal, redirect: "manual" });
    for (
      let hop = 0;
      response.status >= 300 && response.status < 400 && response.headers.has("location");
      hop++
    ) {
      await response.body?.cancel().catch(() => undefined);
      const next = new URL(response.headers.get("location") ?? "", url);
      if (hop >= MAX_REDIRECTS)
        throw new InvalidArgumentError(
          `${url.origin}${url.pathname} redirects more than ${MAX_REDIRECTS} times.`,
          "Give the file's final URL.",
        );
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        throw new AccessDeniedError(
          `${url.origin}${url.pathname} redirects to a "${next.protocol}" URL, which is refused.`,
          "Give an http(s) URL of the file itself.",
        );
      }
      await assertFetchableUrl(next, options.allowPrivateUrls, options.resolve);
      response = await options.fal.fetch(next.href, { signal, redirect: "manual" });
    }
  } catch (error) {
    clearTimeout(timer);
    if (options.signal.aborted) throw options.signal.reason;
    if (error instanceof FalMcpError) throw error;
    if (stall.signal.aborted) throw stalled();
    throw new FalNetworkError(
      `Could not download ${url.origin}${url.pathname} (${networkCause(error)}).`,
      "connection",
      "Check the URL (it must be publicly reachable), or download it yourself and pass a `path`.",
    );
  }
  if (!response.ok || !response.body) {
    clearTimeout(timer);
    await response.body?.cancel().catch(() => undefined);
    throw new InvalidArgumentError(
      `Downloading ${url.origin}${url.pathname} failed: ${host} answered HTTP ${response.status}.`,
      "Check that the URL is correct and public (no login needed).",
    );
  }
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  const total = Number.isFinite(declared) && declared >= 0 ? declared : undefined;
  const tooBig = (bytes: string) =>
    new AccessDeniedError(
      `${url.origin}${url.pathname} is ${bytes}, above the upload limit of ${formatBytes(options.maxBytes)}.`,
      "Raise FAL_MCP_MAX_UPLOAD_BYTES in this server's env block (a number of bytes).",
    );
  if (total !== undefined && total > options.maxBytes) {
    clearTimeout(timer);
    await response.body.cancel().catch(() => undefined);
    throw tooBig(formatBytes(total));
  }
  const contentType = response.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() || undefined;
  const filePath = path.join(dir, "download");
  const out = await fs.open(filePath, "wx", 0o600);
  let size = 0;
  try {
    const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      touch();
      size += chunk.byteLength;
      if (size > options.maxBytes) {
        throw tooBig(`more than ${formatBytes(options.maxBytes)}`);
      }
      await out.write(chunk);
      options.onDownload?.(size, total);
    }
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    if (error instanceof FalMcpError) throw error;
    if (stall.signal.aborted) throw stalled();
    throw new FalNetworkError(
      `The download of ${url.origin}${url.pathname} broke off after ${formatBytes(size)} (${error instanceof Error ? error.message : String(error)}).`,
      "connection",
      "Try again, or download it yourself and pass a `path`.",
    );
  } finally {
    clearTimeout(timer);
    await out.close().catch(() => undefined);
  }
  if (total !== undefined && size !== total) {
    throw new FalNetworkError(
      `The download of ${url.origin}${url.pathname} ended after ${formatBytes(size)} of ${formatBytes(total)}.`,
      "connection",
      "Try again, or download it yourself and pass a `path`.",
    );
  }
  if (size === 0)
    throw new InvalidArgumentError(`${url.origin}${url.pathname} is empty (0 bytes).`, "Check the URL.");
  return { filePath, size, contentType };
}
