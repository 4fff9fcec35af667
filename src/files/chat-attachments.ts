import { LocalFileError } from "../errors.js";

/**
 * Claude Desktop and claude.ai hand the model a chat attachment as a path in their own sandbox
 * (`/mnt/user-data/uploads/photo.png`, sometimes `/home/claude/…`). A local server cannot read
 * it: the file is not on this machine. Such a path, outside the readable folders (decided on the
 * string, so nothing is stat'ed) or naming no file inside them, gets a message saying what to do
 * instead of a bare refusal or "not found" (or, inside a model input, of being sent to fal as text).
 */
const SANDBOX_PREFIXES = ["/mnt/user-data/", "/home/claude/"];

/** `homeDir`: a user whose own home is /home/claude is not in Claude's sandbox. */
export function isChatSandboxPath(written: string, homeDir?: string): boolean {
  const normal = written.replace(/\\/g, "/");
  const home = homeDir?.replace(/\\/g, "/").replace(/\/+$/, "");
  return SANDBOX_PREFIXES.some((prefix) => normal.startsWith(prefix) && home !== prefix.slice(0, -1));
}

export function chatAttachmentError(written: string): LocalFileError {
  return new LocalFileError(
    `"${written}" is a chat attachment inside Claude's own sandbox, not a file on this computer, so fal-mcp cannot read it.`,
    "Save the file on your computer and give its real path (for example /Users/you/Pictures/photo.png), or drag it into a folder fal-mcp may read (the output folder, or one in FAL_MCP_ALLOWED_DIRS); a public https URL works too.",
  );
}
