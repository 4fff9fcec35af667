import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Readable, Transform, Writable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import mime from "mime-types";
import { errnoCode, networkCause } from "../util/errors.js";
import { formatSeconds } from "../util/format.js";
import { isInside } from "../util/paths.js";

/**
 * Streaming downloads of generated media: bytes go straight to a temporary file in the target
 * folder (never a whole file in memory), with a deadline for the response headers, a stall
 * timeout while the body flows, and a size cap checked both against Content-Length and the bytes
 * actually received. The finished file is renamed into place under a name that never overwrites.
 */

export interface DownloadOptions {
  fetch: typeof fetch;
  url: string;
  /** Absolute folder to save into; the file never lands outside it. */
  directory: string;
  /** File name without extension; sanitised again here. */
  baseName: string;
  /** Content type the model announced, used when the server sends none (or a generic one). */
  contentTypeHint?: string | undefined;
  maxBytes: number;
  /** Abort when no byte arrives for this long (also the deadline for the response headers). */
  stallTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface DownloadedFile {
  path: string;
  size: number;
  contentType: string | undefined;
}

/** A download that did not complete; the message is safe to show (no signed URLs). */
export class DownloadError extends Error {
  override name = "DownloadError";
}

const EXTENSION_OVERRIDES: Record<string, string> = {
  "audio/mpeg": "mp3",
  "audio/mp3": "mp3",
  "audio/x-wav": "wav",
  "image/jpeg": "jpg",
  "model/gltf-binary": "glb",
};

/** Picks a file extension from a content type (via mime-types), else from the URL's path, else "bin". */
export function extensionFor(contentType: string | undefined, url: string): string {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type && type !== "application/octet-stream" && type !== "binary/octet-stream") {
    const known = EXTENSION_OVERRIDES[type] ?? mime.extension(type);
    if (known) return known;
  }
  const fromUrl = urlExtension(url);
  if (fromUrl) return fromUrl;
  return "bin";
}

/** The extension of a URL's last path segment ("png" for …/a.png?x=1), if it looks like one. */
export function urlExtension(url: string): string | undefined {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const match = /\.([A-Za-z0-9]{1,16})$/.exec(pathname);
  return match?.[1]?.toLowerCase();
}

/** Keeps letters, digits, dot, dash and underscore; collapses the rest to "-". */
export function sanitizeName(name: string, maxLength = 120): string {
  const clean = name
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");
  return (clean || "file").slice(0, maxLength);
}

export async function downloadToFile(options: DownloadOptions): Promise<DownloadedFile> {
  const directory = path.resolve(options.directory);
  await fsp.mkdir(directory, { recursive: true });
  const { response, stall, cleanup } = await open(options);
  try {
    const contentType = pickContentType(response.headers.get("content-type"), options.contentTypeHint);
    const ext = extensionFor(contentType, options.url);
    const temp = path.join(
      directory,
      `.${sanitizeName(options.baseName, 60)}.${randomBytes(6).toString("hex")}.part`,
    );
    if (!isInside(directory, temp)) throw new DownloadError("refusing to write outside the output folder");
    let size = 0;
    try {
      await pipeline(
        Readable.fromWeb(bodyOf(response)),
        counter(options.maxBytes, stall, (bytes) => (size = bytes)),
        fs.createWriteStream(temp, { flags: "wx", mode: 0o644 }),
      );
    } catch (error) {
      await fsp.rm(temp, { force: true });
      throw stall.explain(error);
    }
    const final = await placeFile(temp, directory, sanitizeName(options.baseName), ext);
    return { path: final, size, contentType };
  } finally {
    cleanup();
  }
}

/** Downloads into memory, for small previews only; throws when the file exceeds `maxBytes`. */
export async function downloadToBuffer(
  options: Omit<DownloadOptions, "directory" | "baseName">,
): Promise<{ data: Buffer; contentType: string | undefined }> {
  const { response, stall, cleanup } = await open(options);
  try {
    const chunks: Buffer[] = [];
    try {
      const collect = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
      });
      await pipeline(
        Readable.fromWeb(bodyOf(response)),
        counter(options.maxBytes, stall, () => undefined),
        collect,
      );
    } catch (error) {
      throw stall.explain(error);
    }
    return {
      data: Buffer.concat(chunks),
      contentType: pickContentType(response.headers.get("content-type"), options.contentTypeHint),
    };
  } finally {
    cleanup();
  }
}

interface Stall {
  signal: AbortSignal;
  touch(): void;
  explain(error: unknown): Error;
}

async function open(
  options: Omit<DownloadOptions, "directory" | "baseName">,
): Promise<{ response: Response; stall: Stall; cleanup: () => void }> {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new DownloadError("not a valid URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:")
    throw new DownloadError(`only http(s) URLs are downloaded, not ${parsed.protocol}`);
  const controller = new AbortController();
  const stalledMessage = `the download stalled: no data for ${formatSeconds(options.stallTimeoutMs)} (FAL_MCP_STALL_TIMEOUT_MS)`;
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort(new DownloadError(stalledMessage));
    }, options.stallTimeoutMs);
    timer.unref();
  };
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const stall: Stall = {
    signal,
    touch,
    explain(error) {
      if (error instanceof DownloadError) return error;
      if (stalled) return new DownloadError(stalledMessage);
      if (options.signal?.aborted)
        return new DownloadError("the download was stopped because the call was cancelled");
      return new DownloadError(`the download failed (${networkCause(error)})`);
    },
  };
  const cleanup = () => clearTimeout(timer);
  touch();
  let response: Response;
  try {
    response = await options.fetch(options.url, { method: "GET", signal, redirect: "follow" });
  } catch (error) {
    cleanup();
    throw stall.explain(error);
  }
  if (!response.ok) {
    cleanup();
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadError(
      `the server answered HTTP ${response.status}${response.status === 404 || response.status === 403 ? " (the file may have expired)" : ""}`,
    );
  }
  const length = Number(response.headers.get("content-length") ?? "");
  if (Number.isFinite(length) && length > options.maxBytes) {
    cleanup();
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadError(
      `the file is ${length} bytes, more than the limit of ${options.maxBytes} bytes (FAL_MCP_MAX_DOWNLOAD_BYTES)`,
    );
  }
  if (!response.body) {
    cleanup();
    throw new DownloadError("the server sent no body");
  }
  return { response, stall, cleanup };
}

function bodyOf(response: Response): ReadableStream<Uint8Array> {
  if (!response.body) throw new DownloadError("the server sent no body");
  return response.body;
}

function counter(maxBytes: number, stall: Stall, onCount: (bytes: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      total += chunk.length;
      onCount(total);
      stall.touch();
      if (total > maxBytes) {
        callback(
          new DownloadError(
            `the file is larger than the limit of ${maxBytes} bytes (FAL_MCP_MAX_DOWNLOAD_BYTES)`,
          ),
        );
        return;
      }
      callback(null, chunk);
    },
  });
}

function pickContentType(header: string | null, hint: string | undefined): string | undefined {
  const fromHeader = header?.split(";")[0]?.trim().toLowerCase();
  if (fromHeader && fromHeader !== "application/octet-stream" && fromHeader !== "binary/octet-stream")
    return fromHeader;
  return hint?.split(";")[0]?.trim().toLowerCase() || fromHeader || undefined;
}

/** Renames `temp` to `<base>.<ext>` (or `<base>-2.<ext>`, …) without ever replacing an existing file. */
async function placeFile(temp: string, directory: string, base: string, ext: string): Promise<string> {
  for (let attempt = 1; attempt < 1000; attempt++) {
    const name = `${base}${attempt === 1 ? "" : `-${attempt}`}.${sanitizeName(ext, 12)}`;
    const target = path.join(directory, name);
    if (!isInside(directory, target)) break;
    try {
      // link() fails when the target exists, unlike rename(): no file is ever overwritten.
      await fsp.link(temp, target);
      await fsp.rm(temp, { force: true });
      return target;
    } catch (error) {
      if (errnoCode(error) === "EEXIST") continue;
      if (errnoCode(error) === "EPERM" || errnoCode(error) === "ENOTSUP" || errnoCode(error) === "EXDEV") {
        // File systems without hard links: check, then rename.
        if (
          await fsp.stat(target).then(
            () => true,
            () => false,
          )
        )
          continue;
        await fsp.rename(temp, target);
        return target;
      }
      await fsp.rm(temp, { force: true });
      throw error;
    }
  }
  await fsp.rm(temp, { force: true });
  throw new DownloadError("could not find a free file name in the output folder");
}
