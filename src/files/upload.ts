import { constants, createReadStream } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { FileHandle } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import mime from "mime-types";
import { z } from "zod";
import {
  AccessDeniedError,
  FalApiError,
  FalMcpError,
  FalNetworkError,
  FalResponseError,
  InvalidArgumentError,
  LocalFileError,
} from "../errors.js";
import { apiErrorFrom } from "../fal/http.js";
import { sleep as defaultSleep } from "../util/abort.js";
import { networkCause } from "../util/errors.js";
import { formatBytes } from "../util/format.js";
import { parseJson } from "../util/json.js";
import { mapLimited } from "../util/limit.js";
import { redirectUrl } from "../fal/redirect.js";
import { assertFetchableUrl, type Resolver } from "./network-guard.js";
import type { Fal } from "../fal/index.js";

/**
 * The streaming uploader to fal's CDN (fal-platform-api.md §10.1–10.2).
 *
 * Why our own and not `fal.storage.upload(blob)`: the official one has no progress, no
 * cancellation signal, no stall timeout, retries parts immediately with no backoff, and never
 * retries a single PUT. Ours reads the file in 1 MiB chunks straight from disk into the request
 * body (memory stays constant whatever the size), sends a Content-Length so the signed PUT looks
 * like the client's, uploads 10 MiB parts a few at a time, retries each part with backoff, and on
 * a final failure stops every part and never calls `complete`: no half-registered URL comes back.
 * (Measured: fs.openAsBlob + fetch, the official client's path, peaked at ~185 MiB RSS for 1 GiB.)
 * Initiate and complete go through fal.http / fal.fetch; the byte PUTs use node:http(s) on the
 * FAL_MCP_BASE_URL-redirected URL (see putRange for why).
 */

const MiB = 1024 * 1024;
/** The official client switches to multipart strictly above this size. */
export const MULTIPART_THRESHOLD = 90 * MiB;
export const PART_SIZE = 10 * MiB;
/** Parts in flight at once: enough to fill a link, small enough to keep memory flat. */
export const PART_CONCURRENCY = 3;
const ATTEMPTS = 3;
// Read size per part stream. 256 KiB kept peak RSS of a 1 GiB upload at 125–136 MiB against
// 138–141 MiB with 1 MiB chunks; throughput differed by less than the run-to-run noise.
const READ_CHUNK = 256 * 1024;
const STORAGE_BASE = "https://rest.fal.ai/storage/upload";

export interface UploadResult {
  /** The public CDN URL of the file. */
  url: string;
  file_name: string;
  content_type: string;
  size: number;
}

export interface UploadProgress {
  partsDone: number;
  parts: number;
  bytesDone: number;
  totalBytes: number;
  message: string;
}

export interface UploadOptions {
  fal: Fal;
  signal: AbortSignal;
  /** Name sent to fal (it becomes the last segment of the URL). Default: the file's name. */
  fileName?: string | undefined;
  /** Default: from the file name's extension, else application/octet-stream. */
  contentType?: string | undefined;
  /** Called after each part (and once before the first). */
  onProgress?: ((progress: UploadProgress) => void) | undefined;
  /** Injectable for tests (retry backoff). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const initiateSchema = z.looseObject({ upload_url: z.string(), file_url: z.string() });
const partSchema = z.looseObject({ partNumber: z.number().nullish(), etag: z.string().nullish() });

/** True for fal's CDN hosts (`fal.media`, `v3.fal.media`, …): URLs that need no re-hosting. */
export function isFalCdnUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    const host = url.hostname.toLowerCase();
    return (
      (url.protocol === "https:" || url.protocol === "http:") &&
      (host === "fal.media" || host.endsWith(".fal.media"))
    );
  } catch {
    return false;
  }
}

export function contentTypeFor(fileName: string): string {
  return mime.lookup(fileName) || "application/octet-stream";
}

/** A file name fal accepts: the base name, without control characters or path separators. */
export function cleanFileName(name: string): string {
  const cleaned = path
    .basename(name.replace(/\\/g, "/"))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f/]/g, "")
    .trim();
  return cleaned === "" || cleaned === "." || cleaned === ".." ? "upload" : cleaned.slice(0, 200);
}

/** Uploads a local file that the access policy already checked (see checkReadableFile). */
export async function uploadLocalFile(
  realPath: string,
  size: number,
  options: UploadOptions,
): Promise<UploadResult> {
  const key = options.fal.requireKey("Uploading a file");
  const fileName = cleanFileName(options.fileName ?? path.basename(realPath));
  const contentType = options.contentType ?? contentTypeFor(fileName);
  const multipart = size > MULTIPART_THRESHOLD;
  const parts = multipart ? Math.ceil(size / PART_SIZE) : 1;
  options.signal.throwIfAborted();

  let handle: FileHandle;
  try {
    // O_NONBLOCK: should the checked file have been swapped for a FIFO, opening must not hang.
    handle = await fs.open(realPath, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new LocalFileError(
      `Cannot open "${realPath}" (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
      "Check the file's permissions.",
    );
  }
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: PART_CONCURRENCY }),
    https: new https.Agent({ keepAlive: true, maxSockets: PART_CONCURRENCY }),
  };
  try {
    const opened = await handle.stat();
    if (!opened.isFile() || opened.size !== size) {
      throw new LocalFileError(
        `"${realPath}" changed after it was checked (it is no longer the same regular file).`,
        "Make sure the file is not being written to, then try again.",
      );
    }
    const initiate = await options.fal.http.request({
      method: "POST",
      url: `${STORAGE_BASE}/${multipart ? "initiate-multipart" : "initiate"}`,
      query: { storage_type: "fal-cdn-v3" },
      what: `starting the upload of ${fileName}`,
      key,
      body: { content_type: contentType, file_name: fileName },
      // Initiate only hands out a signed URL: safe to retry.
      idempotent: true,
      schema: initiateSchema,
      signal: options.signal,
    });
    const uploadUrl = checkedUploadUrl(initiate.data.upload_url);
    const fileUrl = initiate.data.file_url;
    if (!/^https:\/\//i.test(fileUrl))
      throw new FalResponseError(
        `fal's upload service returned a file URL that is not https (${fileUrl.slice(0, 80)}).`,
      );

    const progress = { partsDone: 0, bytesDone: 0 };
    const report = (message: string) =>
      options.onProgress?.({
        partsDone: progress.partsDone,
        parts,
        bytesDone: progress.bytesDone,
        totalBytes: size,
        message,
      });
    report(`Uploading ${fileName} (${formatBytes(size)}${multipart ? `, ${parts} parts` : ""}) to fal's CDN`);

    const context: PutContext = {
      fal: options.fal,
      handle,
      agents,
      fileName,
      sleep: options.sleep ?? defaultSleep,
      stallMs: options.fal.config.stallTimeoutMs,
    };
    if (!multipart) {
      await withRetries(context, "the file", options.signal, (signal) =>
        putRange(context, uploadUrl, 0, size, { "content-type": contentType }, signal),
      );
      progress.partsDone = 1;
      progress.bytesDone = size;
      report(`Uploaded ${fileName} (${formatBytes(size)})`);
    } else {
      const etags = await uploadParts(context, uploadUrl, size, parts, options.signal, (partSize) => {
        progress.partsDone++;
        progress.bytesDone += partSize;
        report(
          `Uploaded part ${progress.partsDone} of ${parts} of ${fileName} (${formatBytes(progress.bytesDone)} of ${formatBytes(size)})`,
        );
      });
      await complete(context, uploadUrl, etags, options.signal);
    }
    return { url: fileUrl, file_name: fileName, content_type: contentType, size };
  } finally {
    agents.http.destroy();
    agents.https.destroy();
    await handle.close().catch(() => undefined);
  }
}

interface PutContext {
  fal: Fal;
  handle: FileHandle;
  agents: { http: http.Agent; https: https.Agent };
  fileName: string;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  stallMs: number;
}

/** The signed upload URL must be an https URL on fal's CDN: the bytes go nowhere else. */
function checkedUploadUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FalResponseError("fal's upload service returned an upload URL that is not a URL.");
  }
  if (url.protocol !== "https:" || !isFalCdnUrl(url.href)) {
    throw new FalResponseError(
      `fal's upload service returned an upload target on "${url.host}", which is not fal's CDN (*.fal.media); the file was not sent.`,
    );
  }
  return url;
}

/** `https://x.fal.media/upload/abc?token=t` + `/3` → `https://x.fal.media/upload/abc/3?token=t`. */
export function partUrl(uploadUrl: URL, suffix: string): string {
  return `${uploadUrl.origin}${uploadUrl.pathname.replace(/\/+$/, "")}/${suffix}${uploadUrl.search}`;
}

/** Failure of one attempt that is worth another (network, stall, 408/429/5xx, unreadable answer). */
class RetryablePartError extends Error {
  constructor(readonly failure: FalMcpError) {
    super(failure.message);
  }
}

async function withRetries<T>(
  context: PutContext,
  what: string,
  signal: AbortSignal,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  let last: FalMcpError | undefined;
  for (let n = 1; n <= ATTEMPTS; n++) {
    signal.throwIfAborted();
    try {
      return await attempt(signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (!(error instanceof RetryablePartError)) throw error;
      last = error.failure;
      if (n < ATTEMPTS)
        await context.sleep(Math.min(4000, 500 * 2 ** (n - 1)) * (0.5 + Math.random() / 2), signal);
    }
  }
  const reason = (last?.message ?? "unknown error").replace(/\.$/, "");
  if (last instanceof FalApiError) {
    throw new FalApiError({
      status: last.status,
      requestId: last.requestId,
      message: `Uploading ${context.fileName} to fal's CDN failed: ${what} failed ${ATTEMPTS} times (${reason}). The upload was abandoned; no file URL was created.`,
      nextStep:
        "Try again in a moment; if it keeps failing, fal's storage may be having an outage (https://status.fal.ai).",
    });
  }
  throw new FalNetworkError(
    `Uploading ${context.fileName} to fal's CDN failed: ${what} failed ${ATTEMPTS} times (${reason}). The upload was abandoned; no file URL was created.`,
    last instanceof FalNetworkError ? last.kind : "connection",
  );
}

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

interface PutAnswer {
  status: number;
  headers: Headers;
  text: string;
}

function toHeaders(incoming: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
  }
  return headers;
}

function connectionCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : error instanceof Error ? error.message : String(error);
}

/**
 * PUTs bytes [start, end) of the file, streamed from disk as the socket drains, with a stall
 * watchdog (no byte read and no answer for stallMs aborts the attempt).
 *
 * Sent with node:http(s) on the redirected URL rather than fetch: with undici's fetch the
 * garbage of its web-stream body handling grew the process by ~120 MB during a 1 GiB upload
 * (measured), twice what a piped read stream costs, and the issue caps peak RSS at 150 MB.
 */
function putRange(
  context: PutContext,
  url: URL | string,
  start: number,
  end: number,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<PutAnswer> {
  return new Promise<PutAnswer>((resolve, reject) => {
    const target = new URL(redirectUrl(typeof url === "string" ? url : url.href, context.fal.config.baseUrl));
    const secure = target.protocol === "https:";
    const request = (secure ? https : http).request(target, {
      method: "PUT",
      agent: secure ? context.agents.https : context.agents.http,
      // No Authorization: the signed URL is the credential, and fal's CDN must never see the key.
      headers: { ...headers, "content-length": String(end - start) },
    });
    // The numeric fd of the checked, still-open file (positional reads; never closed by the stream).
    const source = createReadStream("", {
      fd: context.handle.fd,
      start,
      end: end - 1,
      autoClose: false,
      emitClose: false,
      highWaterMark: READ_CHUNK,
    });
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: Error | undefined, answer?: PutAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      if (error || !answer) {
        // Never destroy() the source: that would close the shared fd other parts still read.
        source.unpipe(request);
        source.pause();
        request.destroy();
        reject(error ?? new Error("no answer"));
      } else {
        source.unpipe(request);
        resolve(answer);
      }
    };
    const touch = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          finish(
            new RetryablePartError(
              new FalNetworkError(`no byte moved for ${Math.round(context.stallMs / 1000)} s`, "stalled"),
            ),
          ),
        context.stallMs,
      );
    };
    const onAbort = () =>
      finish(signal.reason instanceof Error ? signal.reason : new Error("the upload was cancelled"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    source.on("data", touch);
    source.on("error", (error) =>
      finish(
        new LocalFileError(
          `Reading ${context.fileName} failed during the upload (${error.message}).`,
          "Make sure the file is not being changed or moved, then try again.",
        ),
      ),
    );
    request.on("response", (response) => {
      touch();
      const chunks: Buffer[] = [];
      let length = 0;
      response.on("data", (chunk: Buffer) => {
        touch();
        if (length < 64 * 1024) {
          chunks.push(chunk);
          length += chunk.length;
        }
      });
      response.on("end", () =>
        finish(undefined, {
          status: response.statusCode ?? 0,
          headers: toHeaders(response.headers),
          text: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      response.on("error", (error) =>
        finish(new RetryablePartError(new FalNetworkError(connectionCode(error), "connection"))),
      );
    });
    request.on("error", (error) =>
      finish(new RetryablePartError(new FalNetworkError(connectionCode(error), "connection"))),
    );
    touch();
    source.pipe(request);
  }).then((answer) => {
    if (answer.status >= 200 && answer.status < 300) return answer;
    const failure = apiErrorFrom(answer.status, answer.headers, answer.text, "an upload to fal's CDN");
    if (RETRYABLE(answer.status)) throw new RetryablePartError(failure);
    throw new FalApiError({
      status: answer.status,
      requestId: failure.requestId,
      message: `fal's CDN refused the upload of ${context.fileName} (HTTP ${answer.status}). No file URL was created.`,
      nextStep:
        "Try again; if it repeats, the signed upload may have expired (very slow link) or fal's storage changed: please report it.",
    });
  });
}

async function uploadParts(
  context: PutContext,
  uploadUrl: URL,
  size: number,
  parts: number,
  outerSignal: AbortSignal,
  onPartDone: (partSize: number) => void,
): Promise<{ partNumber: number; etag: string }[]> {
  // One failing part stops the others at once.
  const stopAll = new AbortController();
  const signal = AbortSignal.any([outerSignal, stopAll.signal]);
  let failure: Error | undefined;
  const partNumbers = Array.from({ length: parts }, (_, index) => index + 1);
  const etags = await mapLimited(partNumbers, PART_CONCURRENCY, async (partNumber) => {
    // Parts not started when one failed are never sent.
    if (failure !== undefined) return undefined;
    const start = (partNumber - 1) * PART_SIZE;
    const end = Math.min(size, start + PART_SIZE);
    try {
      const etag = await withRetries(
        context,
        `part ${partNumber} of ${parts}`,
        signal,
        async (attemptSignal) => {
          const answer = await putRange(
            context,
            partUrl(uploadUrl, String(partNumber)),
            start,
            end,
            {},
            attemptSignal,
          );
          const parsed = partSchema.safeParse(parseJson(answer.text));
          const value = (parsed.success ? parsed.data.etag : undefined) ?? answer.headers.get("etag");
          if (!value)
            throw new RetryablePartError(
              new FalResponseError(`fal's CDN acknowledged part ${partNumber} without an etag`),
            );
          return value;
        },
      );
      onPartDone(end - start);
      return { partNumber, etag };
    } catch (error) {
      failure ??= error instanceof Error ? error : new Error("a part upload failed");
      stopAll.abort(error);
      return undefined;
    }
  });
  if (failure !== undefined) {
    if (outerSignal.aborted) throw outerSignal.reason;
    throw failure;
  }
  return etags.filter((entry) => entry !== undefined);
}

async function complete(
  context: PutContext,
  uploadUrl: URL,
  parts: { partNumber: number; etag: string }[],
  signal: AbortSignal,
): Promise<void> {
  await withRetries(context, "finishing the multipart upload", signal, async (attemptSignal) => {
    let response: Response;
    try {
      response = await context.fal.fetch(partUrl(uploadUrl, "complete"), {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ parts }),
        signal: AbortSignal.any([attemptSignal, AbortSignal.timeout(Math.max(context.stallMs, 30_000))]),
      });
    } catch (error) {
      if (attemptSignal.aborted) throw attemptSignal.reason;
      throw new RetryablePartError(new FalNetworkError(networkCause(error), "connection"));
    }
    const text = await response.text().catch(() => "");
    if (response.ok) return;
    const failure = apiErrorFrom(response.status, response.headers, text, "finishing an upload to fal's CDN");
    if (RETRYABLE(response.status)) throw new RetryablePartError(failure);
    throw new FalApiError({
      status: response.status,
      requestId: failure.requestId,
      message: `fal's CDN refused to assemble the uploaded parts of ${context.fileName} (HTTP ${response.status}). No file URL was created.`,
      nextStep: "Upload the file again.",
    });
  });
}

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
