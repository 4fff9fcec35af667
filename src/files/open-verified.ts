import { constants } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/**
 * Opening a local file so that what is read is what was checked. A path checked and then opened
 * again by name can be swapped for a symlink in between (a tight loop wins often), so:
 *
 * 1. The real path is resolved once and checked by the caller's policy (`check`).
 * 2. That real path is opened with O_NOFOLLOW (a final component swapped for a link fails) and
 *    O_NONBLOCK (a file swapped for a FIFO cannot hang the open).
 * 3. The open descriptor is verified: on Linux its path is read back from /proc/self/fd/N and must
 *    be the checked real path; on every platform the descriptor's device and inode must be those
 *    of the file now at the checked real path (macOS has no /proc and node exposes no F_GETPATH,
 *    so this identity check is what proves an intermediate folder was not swapped there). The
 *    descriptor must be a regular file.
 * 4. The caller reads only from the returned handle, never by name again.
 */

export type OpenRefusal = "changed" | "not-a-file" | "folder";

/** The file could not be opened as checked; `reason` says why, `code` the system error if any. */
export class OpenVerifiedError extends Error {
  override name = "OpenVerifiedError";
  constructor(
    readonly reason: OpenRefusal | "system",
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface VerifiedFile {
  handle: FileHandle;
  /** The real path the descriptor was verified to be. */
  realPath: string;
  size: number;
}

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

function kindOf(stats: {
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (stats.isFIFO()) return "a named pipe (FIFO)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** Reads back where descriptor `fd` points on Linux; undefined where /proc is not available. */
async function descriptorPath(fd: number): Promise<string | undefined> {
  if (os.platform() !== "linux") return undefined;
  return fs.readlink(`/proc/self/fd/${fd}`).catch(() => undefined);
}

/**
 * Opens `realPath` (already resolved by fs.realpath and approved by the caller) for reading and
 * verifies the descriptor as described above. The caller must close `handle`.
 */
export async function openVerified(realPath: string): Promise<VerifiedFile> {
  let handle: FileHandle;
  try {
    handle = await fs.open(realPath, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ELOOP: the checked real path is now a symlink (O_NOFOLLOW). EISDIR on some platforms.
    if (code === "ELOOP" || code === "EMLINK")
      throw new OpenVerifiedError(
        "changed",
        `"${realPath}" was replaced by a symlink after it was checked`,
        code,
      );
    if (code === "EISDIR")
      throw new OpenVerifiedError("folder", `"${realPath}" is a folder, not a file`, code);
    throw new OpenVerifiedError("system", `cannot open "${realPath}" (${code ?? String(error)})`, code);
  }
  try {
    const opened = await handle.stat();
    if (opened.isDirectory()) throw new OpenVerifiedError("folder", `"${realPath}" is a folder, not a file`);
    if (!opened.isFile()) throw new OpenVerifiedError("not-a-file", `"${realPath}" is ${kindOf(opened)}`);
    const fdPath = await descriptorPath(handle.fd);
    if (fdPath !== undefined && path.resolve(fdPath) !== path.resolve(realPath))
      throw new OpenVerifiedError(
        "changed",
        `"${realPath}" changed while it was opened (it now leads to "${fdPath}")`,
      );
    const named = await fs.stat(realPath).catch(() => undefined);
    const current = await fs.realpath(realPath).catch(() => undefined);
    if (!named || current !== realPath || named.dev !== opened.dev || named.ino !== opened.ino)
      throw new OpenVerifiedError("changed", `"${realPath}" changed while it was opened`);
    return { handle, realPath, size: opened.size };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}
