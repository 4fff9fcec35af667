import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config.js";
import { AccessDeniedError, InvalidArgumentError, LocalFileError, NotFoundError } from "../errors.js";
import { formatBytes } from "../util/format.js";
import { openVerified, OpenVerifiedError, type VerifiedFile } from "./open-verified.js";
import { sensitiveReason } from "./sensitive-paths.js";
import { chatAttachmentError, isChatSandboxPath } from "./chat-attachments.js";

/**
 * Which local files fal-mcp may read (and so publish on fal's public CDN). It fails closed.
 *
 * The one rule for the readable folders:
 * - FAL_MCP_ALLOWED_DIRS set: exactly those folders, plus the output folder. It is the user's word,
 *   so the client's MCP roots are not used at all (they neither add to it nor replace it).
 * - Not set, and the client announces roots: those roots, plus the output folder. Roots announced
 *   but empty mean nothing is readable (the message says how to add a folder).
 * - Not set, no roots: the output folder only.
 *
 * Inside those folders, hidden files and folders are refused unless FAL_MCP_ALLOW_HIDDEN=1, and
 * credential locations (sensitive-paths.ts) unless FAL_MCP_ALLOW_SENSITIVE_FILES=1.
 *
 * Order matters: containment is checked on the path as written BEFORE anything touches the file
 * system, so nothing outside the folders is ever stat'ed (whether /etc/passwd exists never shows).
 * Only then is the real path resolved, checked again, and opened without following links, and the
 * open descriptor verified (open-verified.ts); the caller reads from that descriptor only.
 */

export type FolderSource = "setting" | "roots" | "roots-empty" | "default";

export interface ReadableFolders {
  /** Absolute folders as configured or announced, in order. */
  folders: string[];
  source: FolderSource;
}

/** Applies the rule above. `roots` is undefined when the client does not announce roots. */
export function readableFolders(options: {
  allowedDirs: readonly string[] | undefined;
  roots: readonly string[] | undefined;
  outputDir: string;
}): ReadableFolders {
  const unique = (list: readonly string[]) => [...new Set(list.map((entry) => path.resolve(entry)))];
  if (options.allowedDirs && options.allowedDirs.length > 0)
    return { folders: unique([...options.allowedDirs, options.outputDir]), source: "setting" };
  if (options.roots !== undefined) {
    if (options.roots.length === 0) return { folders: [], source: "roots-empty" };
    return { folders: unique([...options.roots, options.outputDir]), source: "roots" };
  }
  return { folders: unique([options.outputDir]), source: "default" };
}

/** The refusal of a local path in `fal-mcp http`, which is not on the caller's machine. */
export function remoteServerFileError(reference: string): AccessDeniedError {
  return new AccessDeniedError(
    `This fal-mcp runs as an HTTP server, not on your machine, and never reads files from its disk: "${reference}" was not read.`,
    "Pass a public https:// URL, base64 data (a data: URI such as data:image/png;base64,...), or a fal URL from an earlier upload (upload_file with a url).",
  );
}

/** The read policy of a call: the settings of `config` and the client's roots (undefined: none announced). */
export function readPolicyFor(
  config: Pick<
    Config,
    "allowedDirs" | "outputDir" | "allowHidden" | "allowSensitiveFiles" | "maxUploadBytes" | "homeDir"
  >,
  roots: readonly string[] | undefined,
): ReadPolicy {
  return {
    readable: readableFolders({ allowedDirs: config.allowedDirs, roots, outputDir: config.outputDir }),
    allowHidden: config.allowHidden,
    allowSensitive: config.allowSensitiveFiles,
    maxBytes: config.maxUploadBytes,
    homeDir: config.homeDir,
  };
}

export interface ReadPolicy {
  /** From readableFolders(). */
  readable: ReadableFolders;
  /** FAL_MCP_ALLOW_HIDDEN. */
  allowHidden: boolean;
  /** FAL_MCP_ALLOW_SENSITIVE_FILES. */
  allowSensitive: boolean;
  /** FAL_MCP_MAX_UPLOAD_BYTES. */
  maxBytes: number;
  /** For `~` and the home-relative sensitive locations. */
  homeDir: string;
}

const HIDDEN_HINT =
  "Set FAL_MCP_ALLOW_HIDDEN=1 in this server's env block to allow hidden files, or copy the file to a normal folder.";
const SENSITIVE_HINT =
  "If you really mean to publish this file, copy it to a normal folder yourself, or set FAL_MCP_ALLOW_SENSITIVE_FILES=1 in this server's env block.";
const ADD_FOLDER_HINT =
  'Add the folder to FAL_MCP_ALLOWED_DIRS in this server\'s "env" block (several folders separated by ' +
  `"${path.delimiter}"), then restart the client; or copy the file into the output folder.`;

/**
 * Turns `~/x`, `file:///x`, an absolute path or a relative one (against `base`, the first readable
 * folder) into an absolute path; undefined for a relative path with no base.
 */
export function absoluteFromReference(raw: string, homeDir: string, base?: string): string | undefined {
  let value = raw.trim();
  if (/^file:/i.test(value)) {
    try {
      value = fileURLToPath(value);
    } catch (error) {
      throw new InvalidArgumentError(
        `"${raw.trim()}" is not a usable file:// URL (${error instanceof Error ? error.message : String(error)}).`,
        "Give an absolute local path such as /Users/me/photo.png, or a file:///absolute/path URL.",
      );
    }
  } else {
    // A URL scheme (two or more letters, so Windows drive letters like C:\ are not mistaken for one).
    const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(value)?.[1];
    if (scheme)
      throw new AccessDeniedError(
        `"${scheme}:" references are not local files; only local paths and file:// URLs are read from disk.`,
        "Pass http(s) URLs as a `url` (upload_file) or directly as the model input; pass local files as a path.",
      );
  }
  if (value === "") return undefined;
  if (value === "~") return homeDir;
  if (value.startsWith("~/") || value.startsWith("~\\")) return path.join(homeDir, value.slice(2));
  if (path.isAbsolute(value)) return path.resolve(value);
  return base === undefined ? undefined : path.resolve(base, value);
}

function relativeInside(folder: string, target: string): string | undefined {
  const relative = path.relative(folder, target);
  if (relative === "") return "";
  if (relative === ".." || relative.startsWith(".." + path.sep) || path.isAbsolute(relative))
    return undefined;
  return relative;
}

function hiddenSegment(relative: string): string | undefined {
  return relative
    .split(/[\\/]/)
    .find((segment) => segment.startsWith(".") && segment !== "." && segment !== "..");
}

function folderList(folders: readonly string[]): string {
  return folders.length === 0 ? "(none)" : folders.join(", ");
}

function noFolderError(absolute: string): AccessDeniedError {
  return new AccessDeniedError(
    `fal-mcp may not read "${absolute}": your MCP client announced an empty list of workspace folders (roots), so no local file is readable.`,
    "Open a folder as a workspace in your client, or set FAL_MCP_ALLOWED_DIRS in this server's env block to the folders fal-mcp may upload from.",
  );
}

function outsideError(
  absolute: string,
  via: string | undefined,
  readable: ReadableFolders,
): AccessDeniedError {
  const how =
    readable.source === "roots"
      ? " (your client's workspace folders and the output folder)"
      : readable.source === "setting"
        ? " (FAL_MCP_ALLOWED_DIRS and the output folder)"
        : " (by default only the output folder is readable)";
  return new AccessDeniedError(
    `fal-mcp may not read "${absolute}"${via ? ` (it resolves to "${via}" through a symlink)` : ""}: it is outside the readable folders ${folderList(readable.folders)}${how}.`,
    readable.source === "roots"
      ? "Add its folder to your client's workspace, or " +
          ADD_FOLDER_HINT.charAt(0).toLowerCase() +
          ADD_FOLDER_HINT.slice(1)
      : ADD_FOLDER_HINT,
  );
}

/** The real (symlink-free) forms of the readable folders that exist, each with its written form. */
async function realFolders(folders: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const folder of folders) {
    const real = await fs.realpath(folder).catch(() => undefined);
    if (real && !out.includes(real)) out.push(real);
  }
  return out;
}

/** Refuses `target` when it is hidden (relative to its folder) or sensitive, whichever applies. */
function refuseHiddenOrSensitive(
  absolute: string,
  target: string,
  relative: string,
  policy: ReadPolicy,
): void {
  const through = target === absolute ? "" : ` (it resolves to "${target}")`;
  const hidden = hiddenSegment(relative);
  if (hidden && !policy.allowHidden)
    throw new AccessDeniedError(
      `fal-mcp does not read hidden files or folders: "${absolute}"${through} goes through "${hidden}".`,
      HIDDEN_HINT,
    );
  if (!policy.allowSensitive) {
    const reason = sensitiveReason(target, { homeDir: policy.homeDir });
    if (reason)
      throw new AccessDeniedError(
        `fal-mcp does not read "${absolute}"${through}: it is ${reason}, and whatever is uploaded becomes a public URL.`,
        SENSITIVE_HINT,
      );
  }
}

/**
 * Whether `reference` lies inside a readable folder, decided on the path string alone (nothing on
 * disk is touched). Model-input strings go through this before anything looks at the disk.
 */
export function isInsideReadable(reference: string, policy: ReadPolicy): boolean {
  let absolute: string | undefined;
  try {
    absolute = absoluteFromReference(reference, policy.homeDir, policy.readable.folders[0]);
  } catch {
    return false;
  }
  return (
    absolute !== undefined &&
    policy.readable.folders.some((folder) => relativeInside(folder, absolute) !== undefined)
  );
}

/**
 * Opens `reference` (a path, `~/…` or `file://` URL) for reading under `policy` and returns the
 * verified descriptor (the caller closes it). Throws AccessDeniedError, NotFoundError,
 * InvalidArgumentError or LocalFileError with the reason and the setting that changes it.
 */
export async function openReadable(reference: string, policy: ReadPolicy): Promise<VerifiedFile> {
  const { readable } = policy;
  const absolute = absoluteFromReference(reference, policy.homeDir, readable.folders[0]);
  // Claude's own sandbox paths (written as a path or a file:// URL) get what to do instead,
  // decided on the string: nothing outside the readable folders is stat'ed.
  const sandbox =
    isChatSandboxPath(reference.trim(), policy.homeDir) ||
    (absolute !== undefined && isChatSandboxPath(absolute, policy.homeDir));
  if (readable.source === "roots-empty")
    throw sandbox ? chatAttachmentError(reference.trim()) : noFolderError(reference.trim());
  if (absolute === undefined) {
    throw new InvalidArgumentError(
      reference.trim() === "" ? "The file path is empty." : `"${reference.trim()}" is a relative path.`,
      "Give an absolute path, e.g. /Users/me/Pictures/photo.png (or ~/Pictures/photo.png).",
    );
  }
  // No file name holds a NUL (written, or %00 in a file:// URL); the file system calls would throw a
  // TypeError naming an argument instead of saying what is wrong with the path.
  if (absolute.includes("\0")) {
    throw new InvalidArgumentError(
      `The path ${JSON.stringify(absolute)} contains a NUL character, which no file name can hold.`,
      "Give the file's path as it is on disk, without control characters.",
    );
  }

  // 1. The path as written, before touching the disk.
  const lexical = readable.folders
    .map((folder) => relativeInside(folder, absolute))
    .find((relative) => relative !== undefined);
  const reals = await realFolders(readable.folders);
  const lexicalReal =
    lexical ??
    reals.map((folder) => relativeInside(folder, absolute)).find((relative) => relative !== undefined);
  if (lexicalReal === undefined) {
    if (sandbox) throw chatAttachmentError(reference.trim());
    throw outsideError(absolute, undefined, readable);
  }
  refuseHiddenOrSensitive(absolute, absolute, lexicalReal, policy);

  // 2. The real path: inside, not hidden, not sensitive.
  let real: string;
  try {
    real = await fs.realpath(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Inside a readable folder (say FAL_MCP_ALLOWED_DIRS=/mnt): saying it is missing reveals nothing.
    if ((code === "ENOENT" || code === "ENOTDIR") && sandbox) throw chatAttachmentError(reference.trim());
    if (code === "ENOENT" || code === "ENOTDIR")
      throw new NotFoundError(
        `No file at "${absolute}".`,
        "Check the path (it is case-sensitive on most systems); give an absolute path to an existing file.",
      );
    if (code === "ELOOP")
      throw new AccessDeniedError(`"${absolute}" is a symlink loop.`, "Point to the real file instead.");
    throw new LocalFileError(
      `Cannot read "${absolute}" (${code ?? String(error)}).`,
      "Check the file's permissions.",
    );
  }
  const realRelative = reals
    .map((folder) => relativeInside(folder, real))
    .find((relative) => relative !== undefined);
  if (realRelative === undefined) throw outsideError(absolute, real, readable);
  refuseHiddenOrSensitive(absolute, real, realRelative, policy);

  // 3. Open what was checked, and verify the descriptor.
  let file: VerifiedFile;
  try {
    file = await openVerified(real);
  } catch (error) {
    if (!(error instanceof OpenVerifiedError)) throw error;
    if (error.reason === "folder")
      throw new InvalidArgumentError(
        `"${absolute}" is a folder, not a file.`,
        "Give the path of one file inside it; upload each file separately.",
      );
    if (error.reason === "not-a-file")
      throw new AccessDeniedError(
        `${error.message.replace(`"${real}"`, `"${absolute}"`)}; only regular files are uploaded.`,
        "Save the data to a regular file and give that path.",
      );
    if (error.reason === "changed")
      throw new AccessDeniedError(
        `fal-mcp did not read "${absolute}": ${error.message}.`,
        "Make sure nothing is moving or relinking the file, then try again.",
      );
    throw new LocalFileError(
      `Cannot read "${absolute}" (${error.code ?? error.message}).`,
      "Check the file's permissions.",
    );
  }
  if (file.size > policy.maxBytes || file.size === 0) {
    await file.handle.close().catch(() => undefined);
    if (file.size === 0)
      throw new InvalidArgumentError(
        `"${absolute}" is empty (0 bytes).`,
        "Check that the file finished writing, then try again.",
      );
    throw new AccessDeniedError(
      `"${absolute}" is ${formatBytes(file.size)}, above the upload limit of ${formatBytes(policy.maxBytes)}.`,
      "Raise FAL_MCP_MAX_UPLOAD_BYTES in this server's env block (a number of bytes), or compress/trim the file first.",
    );
  }
  return file;
}
