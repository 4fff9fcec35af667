import fs from "node:fs/promises";
import { LocalFileError } from "../errors.js";

/**
 * Claude Desktop and claude.ai hand the model a chat attachment as a path in their own sandbox
 * (`/mnt/user-data/uploads/photo.png`, sometimes `/home/claude/…`). A local server cannot read
 * it: the file is not on this machine. Such a path that names no file here gets a message saying
 * what to do instead of "not found" (or, inside a model input, of being sent to fal as text).
 */
const SANDBOX_PREFIXES = ["/mnt/user-data/", "/home/claude/"];

export function isChatSandboxPath(written: string): boolean {
  const normal = written.replace(/\\/g, "/");
  return SANDBOX_PREFIXES.some((prefix) => normal.startsWith(prefix));
}

export function chatAttachmentError(written: string): LocalFileError {
  return new LocalFileError(
    `"${written}" is a chat attachment inside Claude's own sandbox, not a file on this computer, so fal-mcp cannot read it.`,
    "Save the file on your computer and give its real path (for example /Users/you/Pictures/photo.png), or drag it into a folder fal-mcp may read (the output folder, or one in FAL_MCP_ALLOWED_DIRS); a public https URL works too.",
  );
}

/** Throws chatAttachmentError when `written` is a sandbox path and `absolute` names nothing here. */
export async function refuseChatAttachment(written: string, absolute: string): Promise<void> {
  if (!isChatSandboxPath(written)) return;
  const exists = await fs.lstat(absolute).then(
    () => true,
    () => false,
  );
  if (!exists) throw chatAttachmentError(written);
}
