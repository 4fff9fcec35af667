import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Transform, Writable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import mime from "mime-types";
import { errnoCode, networkCause } from "../util/errors.js";
import type { Config, ProxyConfig } from "../config.js";
import { isFalHost, redirectUrl } from "../fal/redirect.js";
import { BodyTooLargeError } from "../util/bounded-body.js";
import { removeTemp, tempName, trackTemp } from "../util/temp-files.js";
import {
  startTransferDeadline,
  TransferTimeoutError,
  type TransferDeadline,
} from "../util/transfer-deadline.js";
import { addressRefusal, type AddressPolicy, type Resolver } from "./address-policy.js";
import { guardedGet, HttpStatusError, RedirectRefusedError, type GuardedResponse } from "./guarded-get.js";
import { isInside } from "../util/paths.js";

/**
 * Streaming downloads of generated media: bytes go straight to a temporary file in the target
 * folder (never a whole file in memory), with a deadline for the response headers, a stall
 * timeout while the body flows, and a size cap checked both against Content-Length and the bytes
 * actually received. The finished file is renamed into place under a name that never overwrites.
 */

/** How non-fal-API GETs reach the network: the address policy and the fal redirect rule. */
export interface NetworkAccess {
  policy: AddressPolicy;
  /** FAL_MCP_BASE_URL's rule for fal hosts (undefined for other hosts or without a base). */
  rewrite?: ((url: URL) => URL | undefined) | undefined;
  /** Injectable DNS for tests. */
  resolve?: Resolver | undefined;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as for every other request. */
  proxy?: ProxyConfig | undefined;
}

/** The network access of result downloads and previews under `config`. */
export function networkAccess(config: Pick<Config, "allowPrivateUrls" | "baseUrl" | "proxy">): NetworkAccess {
  const base = config.baseUrl;
  return {
    policy: { allowPrivate: config.allowPrivateUrls },
    proxy: config.proxy,
    rewrite: base
      ? (url) => (isFalHost(url.hostname) ? new URL(redirectUrl(url.href, base)) : undefined)
      : undefined,
  };
}

export interface DownloadOptions {
  network: NetworkAccess;
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
  /** Abort when the whole download takes longer, however steadily it trickles. */
  totalTimeoutMs: number;
  /** The setting behind `maxBytes`, named in messages (default FAL_MCP_MAX_DOWNLOAD_BYTES). */
  sizeSetting?: string | undefined;
  /** Bytes received so far, and the declared total when known. */
  onProgress?: ((bytes: number, total: number | undefined) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface DownloadedFile {
  path: string;
  size: number;
  contentType: string | undefined;
}

export type DownloadFailure =
  "refused" | "too-large" | "status" | "timeout" | "cancelled" | "network" | "invalid";

/** A download that did not complete; the message is safe to show (no signed URLs). */
export class DownloadError extends Error {
  override name = "DownloadError";
  constructor(
    message: string,
    readonly kind: DownloadFailure = "network",
  ) {
    super(message);
  }
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
  const { response, deadline } = await open(options);
  const temp = path.join(
    directory,
    tempName(sanitizeName(options.baseName, 60), randomBytes(6).toString("hex"), ".part"),
  );
  const forget = trackTemp(temp);
  try {
    const contentType = pickContentType(response.contentType, options.contentTypeHint);
    const ext = extensionFor(contentType, options.url);
    if (!isInside(directory, temp)) throw new DownloadError("refusing to write outside the output folder");
    let size = 0;
    try {
      await pipeline(
        response.body,
        counter((bytes) => {
          size = bytes;
          options.onProgress?.(bytes, response.contentLength);
        }),
        fs.createWriteStream(temp, { flags: "wx", mode: 0o644 }),
      );
    } catch (error) {
      response.close();
      await removeTemp(temp);
      throw explain(error, deadline, options);
    }
    const final = await placeFile(temp, directory, sanitizeName(options.baseName), ext);
    return { path: final, size, contentType };
  } finally {
    forget();
    deadline.dispose();
  }
}

/** Downloads into memory, for small previews only; throws when the file exceeds `maxBytes`. */
export async function downloadToBuffer(
  options: Omit<DownloadOptions, "directory" | "baseName">,
): Promise<{ data: Buffer; contentType: string | undefined }> {
  const { response, deadline } = await open(options);
  try {
    const chunks: Buffer[] = [];
    try {
      const collect = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
      });
      await pipeline(response.body, collect);
    } catch (error) {
      response.close();
      throw explain(error, deadline, options);
    }
    return {
      data: Buffer.concat(chunks),
      contentType: pickContentType(response.contentType, options.contentTypeHint),
    };
  } finally {
    deadline.dispose();
  }
}

/** Every way a download ends early, as one DownloadError whose message is safe to show. */
function explain(
  error: unknown,
  deadline: TransferDeadline,
  options: Omit<DownloadOptions, "directory" | "baseName">,
): DownloadError {
  const reason = deadline.explain(error);
  if (reason instanceof DownloadError) return reason;
  if (reason instanceof TransferTimeoutError) return new DownloadError(reason.message, "timeout");
  if (reason instanceof BodyTooLargeError)
    return new DownloadError(
      `the file is larger than the limit of ${options.maxBytes} bytes (${options.sizeSetting ?? "FAL_MCP_MAX_DOWNLOAD_BYTES"})`,
      "too-large",
    );
  const refused = addressRefusal(reason);
  if (refused) return new DownloadError(`not downloaded: ${refused.message}`, "refused");
  if (reason instanceof HttpStatusError)
    return new DownloadError(
      `the server answered HTTP ${reason.status}${reason.status === 404 || reason.status === 403 ? " (the file may have expired)" : ""}`,
      "status",
    );
  if (reason instanceof RedirectRefusedError)
    return new DownloadError(`not downloaded: ${reason.message}`, "refused");
  if (options.signal?.aborted)
    return new DownloadError("the download was stopped because the call was cancelled", "cancelled");
  return new DownloadError(`the download failed (${networkCause(reason)})`);
}

async function open(
  options: Omit<DownloadOptions, "directory" | "baseName">,
): Promise<{ response: GuardedResponse; deadline: TransferDeadline }> {
  try {
    new URL(options.url);
  } catch {
    throw new DownloadError("not a valid URL", "invalid");
  }
  const deadline = startTransferDeadline({
    stallMs: options.stallTimeoutMs,
    totalMs: options.totalTimeoutMs,
    signal: options.signal,
    what: "the download",
    stallSetting: "FAL_MCP_STALL_TIMEOUT_MS",
    totalSetting: "FAL_MCP_TRANSFER_TIMEOUT_MS",
  });
  try {
    const response = await guardedGet({
      url: options.url,
      policy: options.network.policy,
      rewrite: options.network.rewrite,
      resolve: options.network.resolve,
      proxy: options.network.proxy,
      deadline,
      maxBytes: options.maxBytes,
      what: "the file",
    });
    if (response.contentLength !== undefined && response.contentLength > options.maxBytes) {
      response.close();
      throw new DownloadError(
        `the file is ${response.contentLength} bytes, more than the limit of ${options.maxBytes} bytes (${options.sizeSetting ?? "FAL_MCP_MAX_DOWNLOAD_BYTES"})`,
        "too-large",
      );
    }
    return { response, deadline };
  } catch (error) {
    deadline.dispose();
    throw explain(error, deadline, options);
  }
}

function counter(onCount: (bytes: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      total += chunk.length;
      onCount(total);
      callback(null, chunk);
    },
  });
}

function pickContentType(header: string | undefined, hint: string | undefined): string | undefined {
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
