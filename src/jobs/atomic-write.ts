import { randomBytes } from "node:crypto";
import fsSync from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { errnoCode } from "../util/errors.js";
import { removeTemp, tempName, trackTemp } from "../util/temp-files.js";

/**
 * How the job store writes a file so that readers never see half of it and a kill -9 leaves the
 * old or the new version: a temp file beside it (named with our pid, swept after a crash),
 * fsynced, renamed over the target. The folder fsync that makes the rename durable is the
 * caller's (the store group-commits it).
 */

export async function writeAtomic(directory: string, file: string, text: string): Promise<void> {
  const temp = path.join(directory, tempName(path.basename(file), randomBytes(8).toString("hex"), ".tmp"));
  const forget = trackTemp(temp);
  try {
    const handle = await openTemp(directory, temp);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await removeTemp(temp);
    throw error;
  } finally {
    forget();
  }
}

/** Opens a new temp file, making the folder only when it is missing (not a mkdir per write). */
async function openTemp(directory: string, temp: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(temp, "wx", 0o600);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error;
    await fs.mkdir(directory, { recursive: true, mode: 0o700 });
    return await fs.open(temp, "wx", 0o600);
  }
}

/** The same, synchronously, for shutdown (the process is about to exit); false when it failed. */
export function writeAtomicSync(directory: string, file: string, text: string): boolean {
  const temp = path.join(directory, tempName(path.basename(file), randomBytes(8).toString("hex"), ".tmp"));
  try {
    fsSync.mkdirSync(directory, { recursive: true, mode: 0o700 });
    const fd = fsSync.openSync(temp, "wx", 0o600);
    try {
      fsSync.writeFileSync(fd, text);
      fsSync.fsyncSync(fd);
    } finally {
      fsSync.closeSync(fd);
    }
    fsSync.renameSync(temp, file);
    syncDirectorySync(directory);
    return true;
  } catch {
    fsSync.rmSync(temp, { force: true });
    return false;
  }
}

/** The same as syncDirectory, synchronously (shutdown). */
function syncDirectorySync(directory: string): void {
  if (os.platform() === "win32") return;
  try {
    const fd = fsSync.openSync(directory, "r");
    try {
      fsSync.fsyncSync(fd);
    } finally {
      fsSync.closeSync(fd);
    }
  } catch {
    // The record is written; only its durability across a power cut is not confirmed.
  }
}

/** Makes renames in `directory` durable. Not possible on Windows, where it is not needed either. */
export async function syncDirectory(directory: string): Promise<void> {
  if (os.platform() === "win32") return;
  const handle = await fs.open(directory, "r").catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}
