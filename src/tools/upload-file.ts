import { z } from "zod";
import { InvalidArgumentError } from "../errors.js";
import { openReadable, readPolicyFor, remoteServerFileError } from "../files/access.js";
import { formatBytes } from "../util/format.js";
import { uploadFromUrl } from "../files/upload-from-url.js";
import { uploadLocalFile, type UploadProgress } from "../files/upload.js";
import { defineTool, orNull, type ToolContext } from "./define.js";

const inputSchema = z.strictObject({
  path: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Local file to upload: an absolute path (/Users/me/photo.png, C:\\Users\\me\\clip.mp4), ~/relative to the home folder, a file:// URL, or a path relative to the first allowed folder. Must be a regular, non-hidden file inside an allowed folder. Give exactly one of path and url.",
    ),
  url: z
    .string()
    .min(1)
    .optional()
    .describe(
      "http(s) URL of a file to re-host on fal's CDN (downloaded by this server, streamed, size-capped). A URL already on fal's CDN (*.fal.media) is returned as is. Give exactly one of path and url.",
    ),
  file_name: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe(
      "Name for the uploaded file (the last part of its URL), e.g. product.png. Default: the local file's name or the URL's last path segment.",
    ),
  content_type: z
    .string()
    .regex(/^[\w.+-]+\/[\w.+-]+$/, "a MIME type such as image/png")
    .optional()
    .describe(
      "MIME type, e.g. image/png, video/mp4, audio/wav. Default: from the file name's extension, else application/octet-stream.",
    ),
});

const outputSchema = z.object({
  url: z.string().describe("Public URL of the file on fal's CDN: pass it as a model input."),
  file_name: z.string(),
  content_type: z.string(),
  size: orNull(z.number()).describe(
    "Bytes uploaded; null when the URL was already on fal's CDN and returned as is.",
  ),
});

export const uploadFile = defineTool({
  name: "upload_file",
  title: "Upload a file to fal's CDN",
  description:
    "Puts a local file (path) or a web file (url) on fal's CDN and returns its URL, for model inputs such as image_url, video_url or audio_url. " +
    "Use it for files to edit, upscale, animate or clone a voice from; run_model and submit_job also upload local paths in their input automatically, so call this only to get the URL first or to reuse it across calls. " +
    "The uploaded file becomes a PUBLIC URL on fal's CDN (anyone with the link can read it); uploading is free. " +
    "Only regular files inside the allowed folders are read: the client's workspace roots, else FAL_MCP_ALLOWED_DIRS, else the home folder and the fal-mcp output folder; hidden files (any path part starting with '.') are refused unless FAL_MCP_ALLOW_HIDDEN=1. " +
    "A url must be public: addresses on this machine or a private network are refused unless FAL_MCP_ALLOW_PRIVATE_URLS=1. " +
    "Size limit: FAL_MCP_MAX_UPLOAD_BYTES (default 2 GiB). Large files are streamed from disk in parts with progress notifications. Never pass file contents as base64: give the path.",
  inputSchema,
  outputSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(args, context) {
    if ((args.path === undefined) === (args.url === undefined)) {
      throw new InvalidArgumentError(
        args.path === undefined
          ? "upload_file needs a `path` (local file) or a `url` (web file); neither was given."
          : "upload_file takes either `path` or `url`, not both.",
        "Call it again with exactly one of them.",
      );
    }
    const onProgress = progressReporter(context);
    const config = context.config;
    // file:// URLs are local files: the same policy as paths.
    const localReference =
      args.path ?? (args.url !== undefined && /^file:/i.test(args.url.trim()) ? args.url : undefined);

    if (localReference !== undefined) {
      if (config.mode === "http") throw remoteServerFileError(localReference);
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
        structuredContent: result,
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
      structuredContent: structured,
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
