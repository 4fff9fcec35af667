import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";

/**
 * Temporary files (a download's `.part`, a record's `.tmp`) must not outlive the process that
 * wrote them: they are registered while they exist, removed when the work fails, removed
 * synchronously at shutdown (a signal mid-download), and swept at the next start when a crash
 * left them. Their names carry the writer's pid, so a sweep never removes a file that another
 * running fal-mcp is still writing.
 */

const live = new Set<string>();

/** Who writes this process's temp files; set by the entry point (the only code that sees `process`). */
export interface TempOwner {
  pid: number;
  /** Whether the process with this pid is still running. */
  isAlive(pid: number): boolean;
}

// Until the entry point says otherwise: pid 0 (unknown writer) and other writers assumed alive.
let owner: TempOwner = { pid: 0, isAlive: () => true };

export function setTempOwner(next: TempOwner): void {
  owner = next;
}

/** `.${base}.${pid}.${random}${suffix}`: the name every temporary file of fal-mcp has. */
export function tempName(base: string, random: string, suffix: ".part" | ".tmp"): string {
  return `.${base}.${owner.pid}.${random}${suffix}`;
}

/** Marks `file` as a live temporary file of this process; the returned function forgets it. */
export function trackTemp(file: string): () => void {
  live.add(file);
  return () => live.delete(file);
}

/** Removes `file` (if it is still there) and forgets it. */
export async function removeTemp(file: string): Promise<void> {
  live.delete(file);
  await fsp.rm(file, { force: true }).catch(() => undefined);
}

/** At shutdown: removes every live temporary file, synchronously (the process is about to exit). */
export function removeLiveTempsSync(): number {
  let removed = 0;
  for (const file of live) {
    try {
      fs.rmSync(file, { force: true });
      removed++;
    } catch {
      // A file that cannot be removed is swept at the next start.
    }
  }
  live.clear();
  return removed;
}

const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]+\.(part|tmp)$/;

/**
 * Removes temporary files in `directory` whose writer is no longer running, or that are older
 * than `maxAgeMs` whatever their name says (a pid can be reused). Returns how many were removed.
 */
export async function sweepTemps(directory: string, maxAgeMs = 24 * 60 * 60 * 1000): Promise<number> {
  const names = await fsp.readdir(directory).catch(() => [] as string[]);
  let removed = 0;
  const now = Date.now();
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match) continue;
    const file = path.join(directory, name);
    if (live.has(file)) continue;
    const stats = await fsp.lstat(file).catch(() => undefined);
    if (!stats?.isFile()) continue;
    // Pid 0: written where no entry point named the owner (a library use); only our own live set
    // can vouch for such a file.
    const pid = Number(match[1]);
    const running = pid !== 0 && (pid === owner.pid || owner.isAlive(pid));
    if (running && now - stats.mtimeMs < maxAgeMs) continue;
    await fsp.rm(file, { force: true }).catch(() => undefined);
    removed++;
  }
  return removed;
}
