import { z } from "zod";
import { FalResponseError } from "../errors.js";
import type { Secret } from "../secret.js";
import { isFalCdnUrl } from "./cdn.js";
import type { Fal } from "./index.js";

/**
 * fal's storage initiation (fal-platform-api.md §10.1–10.2): a signed `upload_url` on fal's CDN
 * and the `file_url` the file will have. Used by the uploader (files/upload.ts) and handed as is
 * to a client by upload_file's prepare_upload, as fal's own server does.
 */

const STORAGE_BASE = "https://rest.fal.ai/storage/upload";
const initiateSchema = z.looseObject({ upload_url: z.string(), file_url: z.string() });

export interface UploadTarget {
  /** Signed https URL on *.fal.media: PUT the bytes there, with `Content-Type`, without Authorization. */
  uploadUrl: URL;
  /** https URL the file has on fal's CDN once the upload succeeded. */
  fileUrl: string;
}

/**
 * Asks fal for a signed upload target (single or multipart). Safe to retry: it only hands out a
 * URL. The answer is checked: the bytes may only ever go to an https URL on fal's CDN.
 */
export async function initiateUpload(
  fal: Fal,
  request: {
    key: Secret;
    fileName: string;
    contentType: string;
    multipart?: boolean | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<UploadTarget> {
  const answer = await fal.http.request({
    method: "POST",
    url: `${STORAGE_BASE}/${request.multipart ? "initiate-multipart" : "initiate"}`,
    query: { storage_type: "fal-cdn-v3" },
    what: `starting the upload of ${request.fileName}`,
    key: request.key,
    body: { content_type: request.contentType, file_name: request.fileName },
    idempotent: true,
    schema: initiateSchema,
    signal: request.signal,
  });
  let uploadUrl: URL;
  try {
    uploadUrl = new URL(answer.data.upload_url);
  } catch {
    throw new FalResponseError("fal's upload service returned an upload URL that is not a URL.");
  }
  if (
    uploadUrl.protocol !== "https:" ||
    !isFalCdnUrl(uploadUrl.href) ||
    uploadUrl.username !== "" ||
    uploadUrl.password !== ""
  ) {
    throw new FalResponseError(
      `fal's upload service returned an upload target on "${uploadUrl.host}", which is not fal's CDN (*.fal.media); the file was not sent.`,
    );
  }
  const fileUrl = answer.data.file_url;
  if (!/^https:\/\//i.test(fileUrl))
    throw new FalResponseError(
      `fal's upload service returned a file URL that is not https (${fileUrl.slice(0, 80)}).`,
    );
  return { uploadUrl, fileUrl };
}
