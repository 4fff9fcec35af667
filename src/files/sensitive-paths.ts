import os from "node:os";
import path from "node:path";

/**
 * Places that hold credentials, refused even inside an allowed folder (a user who allows their
 * home folder has not meant to let a prompt publish their SSH keys or every MCP key in their
 * client's config on a public CDN). FAL_MCP_ALLOW_SENSITIVE_FILES=1 lifts the list.
 *
 * Matching is by path segments, on the path as written and on its real path: a folder name such as
 * `.ssh` is refused wherever it is (another user's home, a backup), a file name such as `.env.local`
 * too, and home-relative locations (client configs, browser profiles, keychains) under the home
 * folder. Case is ignored on macOS and Windows, whose file systems usually ignore it.
 */

interface Rule {
  /** Lower-case path segments relative to the home folder, or a single segment matched anywhere. */
  segments: string[];
  what: string;
}

/** A folder or file with this name is refused wherever it is. */
const ANYWHERE: Rule[] = [
  { segments: [".ssh"], what: "SSH keys" },
  { segments: [".gnupg"], what: "GPG keys" },
  { segments: [".aws"], what: "AWS credentials" },
  { segments: [".azure"], what: "Azure credentials" },
  { segments: [".kube"], what: "Kubernetes credentials" },
  { segments: [".password-store"], what: "a password store" },
  { segments: [".netrc"], what: "login credentials (.netrc)" },
  { segments: ["_netrc"], what: "login credentials (_netrc)" },
  { segments: [".git-credentials"], what: "git credentials" },
  { segments: [".npmrc"], what: "npm credentials" },
  { segments: [".pypirc"], what: "PyPI credentials" },
  { segments: [".pgpass"], what: "PostgreSQL credentials" },
  { segments: [".claude.json"], what: "Claude Code's configuration (its MCP servers' keys)" },
  { segments: ["claude_desktop_config.json"], what: "Claude Desktop's MCP configuration" },
  { segments: [".mcp.json"], what: "an MCP client configuration" },
  { segments: ["mcp.json"], what: "an MCP client configuration" },
  { segments: ["mcp_config.json"], what: "Windsurf's MCP configuration" },
  { segments: [".claude"], what: "Claude Code's settings" },
  { segments: [".cursor"], what: "Cursor's settings and MCP configuration" },
  { segments: [".codeium"], what: "Windsurf's settings and MCP configuration" },
  { segments: [".windsurf"], what: "Windsurf's settings" },
  { segments: [".vscode"], what: "VS Code's settings" },
  { segments: ["keychains"], what: "a keychain" },
  { segments: ["login.keychain-db"], what: "a keychain" },
  { segments: ["key4.db"], what: "a browser password store" },
  { segments: ["logins.json"], what: "a browser password store" },
  { segments: ["cookies.sqlite"], what: "browser cookies" },
  { segments: ["login data"], what: "a browser password store" },
];

/** Locations relative to the home folder. */
const UNDER_HOME: Rule[] = [
  { segments: [".config", "gcloud"], what: "Google Cloud credentials" },
  { segments: [".docker", "config.json"], what: "Docker registry credentials" },
  { segments: [".config", "gh"], what: "GitHub CLI credentials" },
  { segments: [".config", "fal"], what: "fal credentials" },
  { segments: [".config", "claude"], what: "Claude Desktop's configuration" },
  { segments: [".config", "code", "user"], what: "VS Code's settings and MCP configuration" },
  { segments: [".config", "cursor", "user"], what: "Cursor's settings" },
  { segments: [".config", "windsurf", "user"], what: "Windsurf's settings" },
  { segments: [".local", "share", "keyrings"], what: "the desktop keyring" },
  { segments: [".config", "google-chrome"], what: "a browser profile" },
  { segments: [".config", "chromium"], what: "a browser profile" },
  { segments: [".config", "bravesoftware"], what: "a browser profile" },
  { segments: [".config", "microsoft-edge"], what: "a browser profile" },
  { segments: [".mozilla"], what: "a browser profile" },
  { segments: ["snap", "firefox"], what: "a browser profile" },
  { segments: ["library", "keychains"], what: "the macOS keychain" },
  { segments: ["library", "cookies"], what: "browser cookies" },
  { segments: ["library", "safari"], what: "Safari's data" },
  { segments: ["library", "application support", "claude"], what: "Claude Desktop's configuration" },
  { segments: ["library", "application support", "code", "user"], what: "VS Code's settings" },
  { segments: ["library", "application support", "cursor", "user"], what: "Cursor's settings" },
  { segments: ["library", "application support", "windsurf", "user"], what: "Windsurf's settings" },
  { segments: ["library", "application support", "google", "chrome"], what: "a browser profile" },
  { segments: ["library", "application support", "bravesoftware"], what: "a browser profile" },
  { segments: ["library", "application support", "microsoft edge"], what: "a browser profile" },
  { segments: ["library", "application support", "firefox"], what: "a browser profile" },
  { segments: ["library", "application support", "arc"], what: "a browser profile" },
  { segments: ["library", "group containers"], what: "apps' shared data (keychain groups)" },
  { segments: ["appdata", "roaming", "claude"], what: "Claude Desktop's configuration" },
  { segments: ["appdata", "roaming", "code", "user"], what: "VS Code's settings" },
  { segments: ["appdata", "roaming", "cursor", "user"], what: "Cursor's settings" },
  { segments: ["appdata", "roaming", "windsurf", "user"], what: "Windsurf's settings" },
  { segments: ["appdata", "roaming", "mozilla"], what: "a browser profile" },
  { segments: ["appdata", "roaming", "microsoft", "credentials"], what: "Windows credentials" },
  { segments: ["appdata", "roaming", "microsoft", "protect"], what: "Windows credential keys" },
  { segments: ["appdata", "local", "microsoft", "credentials"], what: "Windows credentials" },
  { segments: ["appdata", "local", "google", "chrome"], what: "a browser profile" },
  { segments: ["appdata", "local", "bravesoftware"], what: "a browser profile" },
  { segments: ["appdata", "local", "microsoft", "edge"], what: "a browser profile" },
];

/** `.env`, `.env.local`, `.env.production`, `prod.env`: environment files hold secrets by convention. */
const ENV_FILE = /^(\.env(\..*)?|.*\.env)$/;
/** Private keys by their usual names. */
const PRIVATE_KEY = /^(id_(rsa|dsa|ecdsa|ed25519)(_sk)?|.*\.(pem|p12|pfx|key|ppk|keystore|jks))$/;

function segmentsOf(absolute: string, caseInsensitive: boolean): string[] {
  const parts = path
    .resolve(absolute)
    .split(/[\\/]+/)
    .filter(Boolean);
  return caseInsensitive ? parts.map((part) => part.toLowerCase()) : parts;
}

function startsWith(parts: string[], prefix: string[]): boolean {
  return prefix.every((segment, i) => parts[i]?.toLowerCase() === segment);
}

export interface SensitiveOptions {
  homeDir: string;
  /** Defaults to the platform's usual file-system case rule. */
  caseInsensitive?: boolean;
}

/**
 * What sensitive thing `absolute` is or is inside ("SSH keys", "an environment file"), or undefined.
 * Check the path as written and its real path: either matching refuses.
 */
export function sensitiveReason(absolute: string, options: SensitiveOptions): string | undefined {
  const lower = options.caseInsensitive ?? (os.platform() === "darwin" || os.platform() === "win32");
  const parts = segmentsOf(absolute, lower);
  const home = segmentsOf(options.homeDir, lower);
  if (parts.length > home.length && home.every((segment, i) => parts[i] === segment)) {
    const relative = parts.slice(home.length);
    for (const rule of UNDER_HOME) if (startsWith(relative, rule.segments)) return rule.what;
  }
  // The same locations in any other home (another user's, a backup, a synced copy of a home):
  // matched at any depth, so allowing /Users or a backup drive does not open them.
  for (let start = 1; start < parts.length; start++) {
    const relative = parts.slice(start);
    for (const rule of UNDER_HOME) if (startsWith(relative, rule.segments)) return rule.what;
  }
  // The outermost sensitive segment names it best (.cursor/mcp.json is Cursor's, not any MCP file).
  for (const part of parts) {
    const lowerPart = part.toLowerCase();
    const rule = ANYWHERE.find((candidate) => candidate.segments[0] === lowerPart);
    if (rule) return rule.what;
  }
  const name = (parts[parts.length - 1] ?? "").toLowerCase();
  if (ENV_FILE.test(name)) return "an environment file (.env), which usually holds secrets";
  if (PRIVATE_KEY.test(name)) return "a private key";
  return undefined;
}
