import { z } from "zod";
import { InvalidArgumentError } from "../errors.js";
import { openReadable, readPolicyFor, remoteServerFileError } from "../files/access.js";
import { MAX_DATA_CHARS, uploadData } from "../files/data-upload.js";
import { MAX_PREPARED_BYTES, prepareUpload } from "../files/prepared-upload.js";
import { uploadFromUrl } from "../files/upload-from-url.js";
import { uploadLocalFile, type UploadProgress } from "../files/upload.js";
import { formatBytes } from "../util/format.js";
import { defineTool, orNull, type ToolContext } from "./define.js";

const inputSchema = z.strictObject({
  url: z
    .string()
    .min(1)
    .max(8192)
    .optional()
    .describe(
      "http(s) URL of a file to re-host on fal's CDN (downloaded by this server, streamed, size-capped). A URL already on fal's CDN (*.fal.media) is returned as is.",
    ),
  data: z
    .string()
    .min(1)
    .max(MAX_DATA_CHARS)
    .optional()
    .describe(
      "The complete file as base64 (a data:<type>;base64, prefix is fine), for small files: at most 1 MiB decoded. The type is read from the bytes when content_type is not given.",
    ),
  prepare_upload: z
    .boolean()
    .optional()
    .describe(
      "true: upload nothing now; return a signed upload_url and the file_url instead, for a client that sends the bytes itself (one PUT of the raw bytes with the returned headers and NO Authorization header). Needs file_size and file_name. For files up to 90 MiB.",
    ),
  file_size: z
    .number()
    .int()
    .min(1)
    .max(MAX_PREPARED_BYTES)
    .optional()
    .describe("With prepare_upload: the exact size of the file in bytes (1 to 94371840, i.e. 90 MiB)."),
  path: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Local file to upload (stdio only: this server's own disk): an absolute path (/Users/me/photo.png, C:\\Users\\me\\clip.mp4), ~/relative to the home folder, a file:// URL, or a path relative to the first allowed folder. Must be a regular, non-hidden file inside an allowed folder.",
    ),
  file_name: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe(
      "Name for the uploaded file (the last part of its URL), e.g. product.png. Required with prepare_upload. Default: the local file's name, the URL's last path segment, or upload.<ext> for data.",
    ),
  content_type: z
    .string()
    .regex(/^[\w.+-]+\/[\w.+-]+$/, "a MIME type such as image/png")
    .optional()
    .describe(
      "MIME type, e.g. image/png, video/mp4, audio/wav. Default: read from the bytes (data), else from the file name's extension, else application/octet-stream.",
    ),
});

const outputSchema = z.object({
  cdn_url: z
    .string()
    .optional()
    .describe(
      "Public URL of the file on fal's CDN (fal's name for it; same as url): pass it as a model input.",
    ),
  url: z.string().optional().describe("Same as cdn_url (kept for earlier fal-mcp answers)."),
  upload_url: z
    .string()
    .optional()
    .describe("prepare_upload: signed URL to PUT the raw bytes to (no Authorization header, no redirects)."),
  file_url: z
    .string()
    .optional()
    .describe("prepare_upload: the file's CDN URL once the PUT succeeded: pass it as a model input."),
  method: z.literal("PUT").optional(),
  headers: z
    .object({ "Content-Type": z.string() })
    .optional()
    .describe("prepare_upload: the headers the PUT must carry, and no others."),
  file_name: z.string(),
  content_type: z.string(),
  size: orNull(z.number()).describe(
    "Bytes uploaded (or to upload); null when the URL was already on fal's CDN and returned as is.",
  ),
  next_step: z.string().optional(),
});

const SOURCES = ["url", "data", "prepare_upload", "path"] as const;

export const uploadFile = defineTool({
  name: "upload_file",
  title: "Upload a file to fal's CDN",
  description:
    "Puts a file on fal's CDN and returns its URL (cdn_url), for model inputs such as image_url, video_url or audio_url. Give exactly one source: " +
    "`url` (a public web file, re-hosted by this server), `data` (the complete file as base64, for small files under 1 MiB), `prepare_upload: true` with `file_size` and `file_name` (returns a signed upload_url and the file_url; the client then PUTs the raw bytes itself, with the returned headers and no Authorization header, up to 90 MiB), " +
    "or `path` (a local file; only when this server runs on the user's machine over stdio). run_model and submit_job also upload local paths in their input automatically. " +
    "The uploaded file becomes a PUBLIC URL on fal's CDN (anyone with the link can read it); uploading is free. " +
    "Local files are read only inside the allowed folders (the client's workspace roots, else FAL_MCP_ALLOWED_DIRS, else the home folder and the fal-mcp output folder); hidden files are refused unless FAL_MCP_ALLOW_HIDDEN=1. " +
    "A url must be public: addresses on this machine or a private network are refused unless FAL_MCP_ALLOW_PRIVATE_URLS=1. Size limit: FAL_MCP_MAX_UPLOAD_BYTES (default 2 GiB).",
  inputSchema,
  outputSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(args, context) {
    const given = SOURCES.filter((source) =>
      source === "prepare_upload" ? args.prepare_upload === true : args[source] !== undefined,
    );
    const httpMode = context.config.mode === "http";
    if (given.length !== 1) {
      throw new InvalidArgumentError(
        given.length === 0
          ? "upload_file needs one source: `url`, `data` (base64), `prepare_upload` with file_size and file_name" +
              (httpMode ? "" : ", or `path` (a local file)") +
              "; none was given."
          : `upload_file takes one source, not ${given.map((source) => `\`${source}\``).join(" and ")}.`,
        "Call it again with exactly one of them.",
      );
    }
    if (args.file_size !== undefined && !args.prepare_upload)
      throw new InvalidArgumentError(
        "file_size is only used with prepare_upload.",
        "Leave file_size out, or set prepare_upload: true (with file_name) to get a signed upload URL.",
      );
    const onProgress = progressReporter(context);
    const config = context.config;

    if (args.prepare_upload) {
      if (args.file_size === undefined || args.file_name === undefined)
        throw new InvalidArgumentError(
          `prepare_upload needs ${[args.file_size === undefined ? "file_size (bytes)" : "", args.file_name === undefined ? "file_name" : ""].filter(Boolean).join(" and ")}.`,
          'Call upload_file again with prepare_upload: true, file_size (the exact size in bytes) and file_name (e.g. "clip.mp4").',
        );
      const prepared = await prepareUpload(context.fal, {
        fileName: args.file_name,
        fileSize: args.file_size,
        contentType: args.content_type,
        maxBytes: config.maxUploadBytes,
        signal: context.signal,
      });
      const nextStep = `PUT the ${formatBytes(prepared.file_size)} of raw bytes to upload_url with the header Content-Type: ${prepared.content_type} and no Authorization header (do not follow redirects); then use file_url as the model input.`;
      return {
        structuredContent: {
          upload_url: prepared.upload_url,
          file_url: prepared.file_url,
          method: prepared.method,
          headers: prepared.headers,
          file_name: prepared.file_name,
          content_type: prepared.content_type,
          size: prepared.file_size,
          next_step: nextStep,
        },
        text: `Prepared an upload of ${prepared.file_name} (${formatBytes(prepared.file_size)}, ${prepared.content_type}) to fal's CDN; nothing was uploaded yet.\nfile_url (after the PUT): ${prepared.file_url}\n${nextStep}`,
      };
    }

    if (args.data !== undefined) {
      const result = await uploadData(args.data, {
        fal: context.fal,
        signal: context.signal,
        fileName: args.file_name,
        contentType: args.content_type,
        maxBytes: config.maxUploadBytes,
        onProgress,
      });
      return {
        structuredContent: {
          cdn_url: result.url,
          url: result.url,
          file_name: result.file_name,
          content_type: result.content_type,
          size: result.size,
        },
        text: `Uploaded ${result.file_name} (${formatBytes(result.size)}, ${result.content_type}${result.content_type_source === "detected" ? ", type read from the bytes" : ""}) to fal's CDN: ${result.url}\nThe URL is public; pass it as a model input.`,
      };
    }

    // file:// URLs are local files: the same policy as paths.
    const localReference =
      args.path ?? (args.url !== undefined && /^file:/i.test(args.url.trim()) ? args.url : undefined);
    if (localReference !== undefined) {
      if (httpMode) throw remoteServerFileError(localReference);
      // Containment on the path string first, then an O_NOFOLLOW open whose descriptor is verified
      // and read from: nothing outside the readable folders is touched, nothing swapped is sent.
      const file = await openReadable(localReference, readPolicyFor(config, await context.roots()));
      const result = await uploadLocalFile(file, {
        fal: context.fal,
        signal: context.signal,
        fileName: args.file_name,
        contentType: args.content_type,
        onProgress,
      });
      return {
        structuredContent: { cdn_url: result.url, ...result },
        text: `Uploaded ${result.file_name} (${formatBytes(result.size)}, ${result.content_type}) to fal's CDN: ${result.url}\nThe URL is public; pass it as a model input.`,
      };
    }

    const result = await uploadFromUrl(args.url ?? "", {
      fal: context.fal,
      signal: context.signal,
      fileName: args.file_name,
      contentType: args.content_type,
      maxBytes: config.maxUploadBytes,
      allowPrivateUrls: config.allowPrivateUrls,
      onProgress,
    });
    const { already_on_cdn: alreadyOnCdn, ...structured } = result;
    return {
      structuredContent: { cdn_url: structured.url, ...structured },
      text: alreadyOnCdn
        ? `${result.url} is already on fal's CDN; use it as is (nothing was uploaded).`
        : `Re-hosted ${result.file_name} (${formatBytes(result.size ?? 0)}, ${result.content_type}) on fal's CDN: ${result.url}\nThe URL is public; pass it as a model input.`,
    };
  },
});

/** Progress per part: `progress` = parts done, `total` = parts. */
function progressReporter(context: ToolContext): (progress: UploadProgress) => void {
  return (progress) => {
    void context.progress({ progress: progress.partsDone, total: progress.parts, message: progress.message });
  };
}
