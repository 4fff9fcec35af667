import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config.js";
import { AccessDeniedError, InvalidArgumentError, LocalFileError, NotFoundError } from "../errors.js";
import { formatBytes } from "../util/format.js";
import { relativeInside } from "../util/paths.js";
import { refuseChatAttachment } from "./chat-attachments.js";

/**
 * Which local files fal-mcp may read (and so publish on fal's public CDN).
 *
 * Only regular files under the allowed folders: the client's MCP roots when it announces any,
 * else FAL_MCP_ALLOWED_DIRS, else the home folder and the output folder. Paths are resolved
 * (`~`, relative to the first allowed folder, symlinks followed) before the check, so `..` and
 * links cannot leave an allowed folder. Hidden files and folders are refused unless
 * FAL_MCP_ALLOW_HIDDEN=1; files above FAL_MCP_MAX_UPLOAD_BYTES are refused. Every refusal says
 * why and which setting changes it.
 */

/**
 * The folders local files may be read from, as real (symlink-free) absolute paths, in order.
 * `roots` are the client's MCP roots (undefined when it does not support roots; an empty list
 * counts as "none announced"). Folders that do not exist are left out: nothing can be read there.
 */
export async function allowedFolders(config: Config, roots: string[] | undefined): Promise<string[]> {
  if (config.mode === "http") return []; // fal-mcp http reads no file on its disk
  const home = config.homeDir;
  const raw =
    roots && roots.length > 0
      ? roots
      : config.allowedDirs && config.allowedDirs.length > 0
        ? [...config.allowedDirs]
        : [home, config.outputDir];
  const resolved: string[] = [];
  for (const entry of raw) {
    const absolute = expandPath(entry, home, undefined);
    if (absolute === undefined) continue;
    const real = await fs.realpath(absolute).catch(() => undefined);
    if (real && !resolved.includes(real)) resolved.push(real);
  }
  return resolved;
}

/** The refusal of a local path in `fal-mcp http`, which is not on the caller's machine. */
export function remoteServerFileError(reference: string): AccessDeniedError {
  return new AccessDeniedError(
    `This fal-mcp runs as an HTTP server, not on your machine, and never reads files from its disk: "${reference}" was not read.`,
    "Pass a public https:// URL, base64 data (a data: URI such as data:image/png;base64,...), or a fal URL from an earlier upload (upload_file with a url).",
  );
}

export interface AccessPolicy {
  /** From allowedFolders(). */
  allowedDirs: readonly string[];
  /** FAL_MCP_ALLOW_HIDDEN. */
  allowHidden: boolean;
  /** FAL_MCP_MAX_UPLOAD_BYTES. */
  maxBytes: number;
  /** For `~` (Config.homeDir). */
  homeDir: string;
}

export interface ReadableFile {
  /** The real path (symlinks resolved) that will be read. */
  realPath: string;
  size: number;
}

const HIDDEN_HINT =
  "Set FAL_MCP_ALLOW_HIDDEN=1 in this server's env block to allow hidden files, or copy the file to a normal folder.";

/** Turns `~/x`, `file:///x`, a relative path (against `base`) or an absolute path into an absolute path. */
export function expandPath(raw: string, homeDir: string, base: string | undefined): string | undefined {
  const value = raw.trim();
  if (value === "") return undefined;
  if (value === "~") return homeDir;
  if (value.startsWith("~/") || value.startsWith("~\\")) return path.join(homeDir, value.slice(2));
  if (path.isAbsolute(value)) return path.resolve(value);
  return base === undefined ? undefined : path.resolve(base, value);
}

/** `file:` URL → path; other URL schemes are refused; anything else is returned as written. */
export function pathFromReference(raw: string): string {
  const value = raw.trim();
  if (/^file:/i.test(value)) {
    try {
      return fileURLToPath(value);
    } catch (error) {
      throw new InvalidArgumentError(
        `"${value}" is not a usable file:// URL (${error instanceof Error ? error.message : String(error)}).`,
        "Give an absolute local path such as /Users/me/photo.png, or a file:///absolute/path URL.",
      );
    }
  }
  // A URL scheme (two or more letters, so Windows drive letters like C:\ are not mistaken for one).
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(value)?.[1];
  if (scheme) {
    throw new AccessDeniedError(
      `"${scheme}:" references are not local files; only local paths and file:// URLs are read from disk.`,
      "Pass http(s) URLs as a `url` (upload_file) or directly as the model input; pass local files as a path.",
    );
  }
  return value;
}

function hiddenSegment(relative: string): string | undefined {
  return relative
    .split(/[\\/]/)
    .find((segment) => segment.startsWith(".") && segment !== "." && segment !== "..");
}

function outsideError(absolute: string, real: string, folders: readonly string[]): AccessDeniedError {
  const via = real === absolute ? "" : ` (it resolves to "${real}" through a symlink)`;
  return new AccessDeniedError(
    `fal-mcp may not read "${absolute}"${via}: it is outside the allowed folders ${folderList(folders)}.`,
    "Move or copy the file into an allowed folder, or add its folder to FAL_MCP_ALLOWED_DIRS in this server's env block (when your client announces MCP roots, those are the allowed folders: add the folder to the client's workspace).",
  );
}

function folderList(folders: readonly string[]): string {
  return folders.length === 0 ? "(none)" : folders.join(", ");
}

/**
 * Checks that `reference` (a path, `~/…` or `file://` URL) may be read under `policy`, without
 * opening it. Throws AccessDeniedError, NotFoundError, InvalidArgumentError or LocalFileError
 * with the reason and the setting that changes it.
 */
export async function checkReadableFile(reference: string, policy: AccessPolicy): Promise<ReadableFile> {
  const home = policy.homeDir;
  const folders = policy.allowedDirs;
  const written = pathFromReference(reference);
  const absolute = expandPath(written, home, folders[0]);
  if (absolute === undefined) {
    throw new InvalidArgumentError(
      written === ""
        ? "The file path is empty."
        : `"${written}" is a relative path, and there is no allowed folder to resolve it against.`,
      "Give an absolute path, e.g. /Users/me/Pictures/photo.png.",
    );
  }
  await refuseChatAttachment(written, absolute);
  if (folders.length === 0) {
    throw new AccessDeniedError(
      `fal-mcp may not read "${absolute}": no allowed folder exists.`,
      "Set FAL_MCP_ALLOWED_DIRS to the folders fal-mcp may upload from (separated by ':' on macOS/Linux, ';' on Windows), or open a folder as a workspace root in your client.",
    );
  }

  // Hidden segments as written (before symlinks are followed), relative to the allowed folder that
  // contains the path; a path outside every folder is checked whole (it will be refused anyway).
  const lexicalRelative = folders
    .map((folder) => relativeInside(folder, absolute))
    .find((relative) => relative !== undefined);
  const writtenHidden = hiddenSegment(lexicalRelative ?? absolute);
  if (writtenHidden && !policy.allowHidden) {
    throw new AccessDeniedError(
      `fal-mcp does not read hidden files or folders: "${absolute}" goes through "${writtenHidden}".`,
      HIDDEN_HINT,
    );
  }

  let real: string;
  try {
    real = await fs.realpath(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A missing path outside every folder is refused as outside: existence outside is none of our business.
    if (lexicalRelative === undefined) throw outsideError(absolute, absolute, folders);
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new NotFoundError(
        `No file at "${absolute}".`,
        "Check the path (it is case-sensitive on most systems); give an absolute path to an existing file.",
      );
    }
    if (code === "ELOOP")
      throw new AccessDeniedError(`"${absolute}" is a symlink loop.`, "Point to the real file instead.");
    throw new LocalFileError(
      `Cannot read "${absolute}" (${code ?? String(error)}).`,
      "Check the file's permissions.",
    );
  }

  const realRelative = folders
    .map((folder) => relativeInside(folder, real))
    .find((relative) => relative !== undefined);
  if (realRelative === undefined) throw outsideError(absolute, real, folders);
  const realHidden = hiddenSegment(realRelative);
  if (realHidden && !policy.allowHidden) {
    throw new AccessDeniedError(
      `fal-mcp does not read hidden files or folders: "${absolute}" resolves to "${real}", inside "${realHidden}".`,
      HIDDEN_HINT,
    );
  }

  let stats;
  try {
    stats = await fs.stat(real);
  } catch (error) {
    throw new LocalFileError(
      `Cannot read "${absolute}" (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
      "Check the file's permissions.",
    );
  }
  if (stats.isDirectory()) {
    throw new InvalidArgumentError(
      `"${absolute}" is a folder, not a file.`,
      "Give the path of one file inside it; upload each file separately.",
    );
  }
  if (!stats.isFile()) {
    const kind = stats.isFIFO()
      ? "a named pipe (FIFO)"
      : stats.isSocket()
        ? "a socket"
        : stats.isCharacterDevice() || stats.isBlockDevice()
          ? "a device"
          : "not a regular file";
    throw new AccessDeniedError(
      `"${absolute}" is ${kind}; only regular files are uploaded.`,
      "Save the data to a regular file and give that path.",
    );
  }
  if (stats.size > policy.maxBytes) {
    throw new AccessDeniedError(
      `"${absolute}" is ${formatBytes(stats.size)}, above the upload limit of ${formatBytes(policy.maxBytes)}.`,
      "Raise FAL_MCP_MAX_UPLOAD_BYTES in this server's env block (a number of bytes), or compress/trim the file first.",
    );
  }
  if (stats.size === 0) {
    throw new InvalidArgumentError(
      `"${absolute}" is empty (0 bytes).`,
      "Check that the file finished writing, then try again.",
    );
  }
  return { realPath: real, size: stats.size };
}
