import os from "node:os";
import path from "node:path";
import { z } from "zod";
import {
  ConfigError,
  flag,
  integer,
  parseConfirmPolicy,
  proxyFromEnv,
  usdSetting,
  type Env,
  type ProxyConfig,
  type SpendSettings,
} from "./settings.js";

export {
  ConfigError,
  parseConfirmPolicy,
  parseUsd,
  type ConfirmPolicy,
  type Env,
  type ProxyConfig,
  type SpendSettings,
} from "./settings.js";
import { Secret } from "./secret.js";
import { dropUnsubstitutedPlaceholders, type IgnoredSetting } from "./util/unsubstituted.js";

/**
 * Every setting of fal-mcp, read once from the environment into a frozen object.
 * Each field names its environment variable; the README's "Configuration" table lists them all.
 */
export interface Config {
  /** The user's home folder, read once: the default folders and `~` in paths resolve against it. */
  readonly homeDir: string;
  /** FAL_KEY, or FAL_KEY_ID + FAL_KEY_SECRET joined by a colon. Undefined when neither is set. */
  readonly falKey: Secret | undefined;
  /** Where the key came from, for `doctor` and the start-up warning (never the key itself). */
  readonly falKeySource: "FAL_KEY" | "FAL_KEY_ID+FAL_KEY_SECRET" | undefined;
  /**
   * Settings whose value was a literal `${user_config.…}` template (an optional Claude Desktop
   * extension field left empty arrives so): ignored, so their defaults apply. The entry point warns.
   */
  readonly ignoredSettings: readonly IgnoredSetting[];
  /**
   * FAL_MCP_* variables that are no setting of fal-mcp (a typo such as FAL_MCP_MAX_COST_PER_DAYS
   * would otherwise drop a cap in silence), each with the closest setting. The entry point warns.
   */
  readonly unknownSettings: readonly { name: string; closest: string | undefined }[];
  /**
   * Folder settings given as a relative path, resolved against the home folder (a client starts its
   * servers in a folder of its own choosing, so the working folder means nothing). The entry point warns.
   */
  readonly relativePaths: readonly { name: string; given: string; resolved: string }[];
  /** FAL_MCP_BASE_URL: send every request meant for a fal host to `${baseUrl}/${host}${path}`. */
  readonly baseUrl: string | undefined;
  /** FAL_MCP_OUTPUT_DIR: absolute folder where results are saved. Default ~/fal-mcp. */
  readonly outputDir: string;
  /** FAL_MCP_STATE_DIR: absolute folder of the durable job record. Default: the platform's user state folder. */
  readonly stateDir: string;
  /** FAL_MCP_WAIT_SECONDS: how long run_model waits for a job before handing back its request id. Default 45, at most 600. */
  readonly waitSeconds: number;
  /** FAL_MCP_INLINE_PREVIEW_BYTES: largest result that still carries an inline image preview. Default 921600 (900 KiB); 0 turns previews off. */
  readonly inlinePreviewBytes: number;
  /** FAL_MCP_ALLOWED_DIRS: folders local files may be read from (path-list). Unset: MCP roots, else only the output folder. */
  readonly allowedDirs: readonly string[] | undefined;
  /** FAL_MCP_ALLOW_HIDDEN=1: allow reading files under hidden (dot) folders. Default off. */
  readonly allowHidden: boolean;
  /** FAL_MCP_ALLOW_SENSITIVE_FILES=1: allow reading credential locations (SSH, cloud, MCP client configs, .env …) inside allowed folders. Default off. */
  readonly allowSensitiveFiles: boolean;
  /** FAL_MCP_ALLOW_PRIVATE_URLS=1: let upload_file fetch URLs on this machine or a private network. Default off. */
  readonly allowPrivateUrls: boolean;
  /** FAL_MCP_MAX_UPLOAD_BYTES: largest local file or URL that is uploaded. Default 2 GiB. */
  readonly maxUploadBytes: number;
  /** FAL_MCP_MAX_DOWNLOAD_BYTES: largest result file that is saved. Default 2 GiB. */
  readonly maxDownloadBytes: number;
  /** FAL_MCP_REQUEST_TIMEOUT_MS: total time for one API request to fal (not uploads or downloads). Default 30000. */
  readonly requestTimeoutMs: number;
  /** FAL_MCP_STALL_TIMEOUT_MS: an upload or download that moves no byte for this long is aborted. Default 30000. */
  readonly stallTimeoutMs: number;
  /** FAL_MCP_MAX_RESULT_BYTES: the whole tool result (text, structuredContent, preview). Default 921600 (900 KiB). */
  readonly maxResultBytes: number;
  /** FAL_MCP_TRANSFER_TIMEOUT_MS: total time for one upload, and for saving one result's files, however steadily they move. Default 600000. */
  readonly transferTimeoutMs: number;
  /** FAL_MCP_CATALOG_TTL_SECONDS: how long catalog, schema and price answers are cached in memory. Default 600. */
  readonly catalogTtlSeconds: number;
  /** FAL_MCP_LOG_LEVEL: debug | info | warning | error. Default info. */
  readonly logLevel: "debug" | "info" | "warning" | "error";
  /** Spending caps and approval of paid calls (README "Money"). */
  readonly money: SpendSettings;
  /** FAL_MCP_READ_ONLY=1: no paid or mutating tool is listed. Default off. */
  readonly readOnly: boolean;
  /** FAL_MCP_STORE_PAYLOAD=0: fal keeps no request or response payload of generations (X-Fal-Store-IO: 0) unless a call says otherwise. Default 1 (fal's default: stored 30 days). */
  readonly storePayload: boolean;
  /** FAL_MCP_MEDIA_EXPIRATION_SECONDS: how long fal's CDN keeps generated media unless a call says otherwise. Default: unset (the account's setting). */
  readonly mediaExpirationSeconds: number | undefined;
  /**
   * How the server runs: "stdio" (on the user's machine: reads local files, saves results, keeps a
   * job record) or "http" (`fal-mcp http`, possibly remote: no local file is read, nothing is written
   * to disk, job tools need endpoint_id). Set by the command, not by a variable.
   */
  readonly mode: "stdio" | "http";
  /** Settings of `fal-mcp http`; present in every mode so `doctor` can show them. */
  readonly http: HttpConfig;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY (lowercase forms first): undefined when no proxy is set. */
  readonly proxy: ProxyConfig | undefined;
}

export interface HttpConfig {
  /** FAL_MCP_HTTP_HOST or --host: the interface to listen on. Default 127.0.0.1 (this machine only). */
  readonly host: string;
  /** FAL_MCP_HTTP_PORT or --port: the TCP port. Default 8080; 0 picks a free port. */
  readonly port: number;
  /**
   * FAL_MCP_HTTP_TOKEN: when set, callers must send `Authorization: Bearer <this token>` and the
   * server's own FAL_KEY is used for everyone. When unset, each caller's bearer is its own fal key.
   */
  readonly token: Secret | undefined;
  /** FAL_MCP_HTTP_ALLOWED_HOSTS: extra Host names accepted (comma list); the bound host and localhost forms always are. */
  readonly allowedHosts: readonly string[];
  /** FAL_MCP_HTTP_ALLOWED_ORIGINS: extra Origin host names accepted (comma list); localhost forms always are. */
  readonly allowedOrigins: readonly string[];
  /** FAL_MCP_HTTP_MAX_BODY_BYTES: largest request body accepted (413 above). Default 4 MiB. */
  readonly maxBodyBytes: number;
}

const GiB = 1024 ** 3;

/** The longest media lifetime accepted (FAL_MCP_MEDIA_EXPIRATION_SECONDS, expiration_seconds): ten years; fal documents no maximum. */
export const MAX_EXPIRATION_SECONDS = 10 * 365 * 24 * 3600;

const envSchema = z.object({
  FAL_KEY: z.string().optional(),
  FAL_KEY_ID: z.string().optional(),
  FAL_KEY_SECRET: z.string().optional(),
  FAL_MCP_BASE_URL: z
    .string()
    .optional()
    .refine((raw) => raw === undefined || raw === "" || /^https?:\/\/[^/]+/.test(raw), {
      message: "FAL_MCP_BASE_URL must be an http(s) URL such as http://127.0.0.1:8787",
    }),
  FAL_MCP_OUTPUT_DIR: z.string().optional(),
  FAL_MCP_STATE_DIR: z.string().optional(),
  FAL_MCP_WAIT_SECONDS: integer("FAL_MCP_WAIT_SECONDS", 45, 0, 600),
  FAL_MCP_INLINE_PREVIEW_BYTES: integer("FAL_MCP_INLINE_PREVIEW_BYTES", 900 * 1024, 0, 10 * 1024 * 1024),
  FAL_MCP_ALLOWED_DIRS: z.string().optional(),
  FAL_MCP_ALLOW_HIDDEN: flag("FAL_MCP_ALLOW_HIDDEN"),
  FAL_MCP_ALLOW_SENSITIVE_FILES: flag("FAL_MCP_ALLOW_SENSITIVE_FILES"),
  FAL_MCP_ALLOW_PRIVATE_URLS: flag("FAL_MCP_ALLOW_PRIVATE_URLS"),
  FAL_MCP_MAX_UPLOAD_BYTES: integer("FAL_MCP_MAX_UPLOAD_BYTES", 2 * GiB, 1, Number.MAX_SAFE_INTEGER),
  FAL_MCP_MAX_DOWNLOAD_BYTES: integer("FAL_MCP_MAX_DOWNLOAD_BYTES", 2 * GiB, 1, Number.MAX_SAFE_INTEGER),
  FAL_MCP_REQUEST_TIMEOUT_MS: integer("FAL_MCP_REQUEST_TIMEOUT_MS", 30_000, 100, 600_000),
  FAL_MCP_STALL_TIMEOUT_MS: integer("FAL_MCP_STALL_TIMEOUT_MS", 30_000, 100, 600_000),
  FAL_MCP_MAX_RESULT_BYTES: integer("FAL_MCP_MAX_RESULT_BYTES", 900 * 1024, 16 * 1024, 10 * 1024 * 1024),
  FAL_MCP_TRANSFER_TIMEOUT_MS: integer("FAL_MCP_TRANSFER_TIMEOUT_MS", 600_000, 1000, 86_400_000),
  FAL_MCP_CATALOG_TTL_SECONDS: integer("FAL_MCP_CATALOG_TTL_SECONDS", 600, 0, 86_400),
  FAL_MCP_MAX_COST_PER_CALL: usdSetting("FAL_MCP_MAX_COST_PER_CALL"),
  FAL_MCP_MAX_COST_PER_DAY: usdSetting("FAL_MCP_MAX_COST_PER_DAY"),
  FAL_MCP_UNKNOWN_COST: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = raw?.trim().toLowerCase() || "allow";
      if (value === "allow" || value === "refuse") return value;
      ctx.addIssue({
        code: "custom",
        message: `FAL_MCP_UNKNOWN_COST must be allow or refuse (got "${raw}")`,
      });
      return z.NEVER;
    }),
  FAL_MCP_CONFIRM: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const policy = parseConfirmPolicy(raw);
      if (typeof policy === "string") {
        ctx.addIssue({ code: "custom", message: policy });
        return z.NEVER;
      }
      return policy;
    }),
  FAL_MCP_READ_ONLY: flag("FAL_MCP_READ_ONLY"),
  // Read by the launcher (bin/fal-mcp.js) before this program loads; checked here like every setting.
  FAL_MCP_COMPILE_CACHE: flag("FAL_MCP_COMPILE_CACHE", true),
  FAL_MCP_LOG_LEVEL: z
    .enum(["debug", "info", "warning", "error"], {
      error: (issue) =>
        `FAL_MCP_LOG_LEVEL must be one of debug, info, warning, error (got ${JSON.stringify(issue.input)})`,
    })
    .optional(),
  FAL_MCP_HTTP_HOST: z.string().optional(),
  FAL_MCP_HTTP_PORT: integer("FAL_MCP_HTTP_PORT", 8080, 0, 65_535),
  FAL_MCP_HTTP_TOKEN: z
    .string()
    .optional()
    .refine((raw) => raw === undefined || raw === "" || raw.trim().length >= 16, {
      message: "FAL_MCP_HTTP_TOKEN must be at least 16 characters (use a long random string)",
    }),
  FAL_MCP_HTTP_ALLOWED_HOSTS: z.string().optional(),
  FAL_MCP_HTTP_ALLOWED_ORIGINS: z.string().optional(),
  FAL_MCP_HTTP_MAX_BODY_BYTES: integer(
    "FAL_MCP_HTTP_MAX_BODY_BYTES",
    4 * 1024 * 1024,
    1024,
    64 * 1024 * 1024,
  ),
  FAL_MCP_STORE_PAYLOAD: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = raw?.trim().toLowerCase();
      if (value === undefined || value === "") return true;
      if (["1", "true", "yes", "on"].includes(value)) return true;
      if (["0", "false", "no", "off"].includes(value)) return false;
      ctx.addIssue({ code: "custom", message: `FAL_MCP_STORE_PAYLOAD must be 1 or 0 (got "${raw}")` });
      return z.NEVER;
    }),
  FAL_MCP_MEDIA_EXPIRATION_SECONDS: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === "") return undefined;
      const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
      if (!Number.isInteger(value) || value < 1 || value > MAX_EXPIRATION_SECONDS) {
        ctx.addIssue({
          code: "custom",
          message: `FAL_MCP_MEDIA_EXPIRATION_SECONDS must be a whole number of seconds from 1 to ${MAX_EXPIRATION_SECONDS} (got "${raw}")`,
        });
        return z.NEVER;
      }
      return value;
    }),
});

/** Command-line flags that override settings (`fal-mcp http --host H --port P`). */
export interface ConfigFlags {
  host?: string;
  port?: string;
}

export interface LoadConfigOptions {
  env: Env;
  /** Defaults to os.homedir(); injectable for tests. */
  homeDir?: string;
  platform?: NodeJS.Platform;
  /** The command being run; default "stdio". */
  mode?: Config["mode"];
  /** Parsed command-line flags; they win over the environment. */
  flags?: ConfigFlags;
}

const commaList = (raw: string | undefined): string[] =>
  (raw ?? "")
    .split(",")
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== "");

/** Expands a leading `~` and makes the path absolute against the home folder (never the cwd, which clients set arbitrarily). */
export function resolveUserPath(raw: string, homeDir: string): string {
  const trimmed = raw.trim();
  if (trimmed === "~") return homeDir;
  if (trimmed.startsWith("~/") || trimmed.startsWith("~\\")) return path.join(homeDir, trimmed.slice(2));
  return path.resolve(homeDir, trimmed);
}

/** The platform's per-user state folder for fal-mcp. */
export function defaultStateDir(env: Env, homeDir: string, platform: NodeJS.Platform): string {
  if (platform === "darwin") return path.join(homeDir, "Library", "Application Support", "fal-mcp");
  if (platform === "win32") {
    const base = env.LOCALAPPDATA ?? path.join(homeDir, "AppData", "Local");
    return path.join(base, "fal-mcp", "State");
  }
  const xdg = env.XDG_STATE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(homeDir, ".local", "state"), "fal-mcp");
}

/** Edit distance of two short names (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length]!;
}

function unknownSettings(env: Env): { name: string; closest: string | undefined }[] {
  const known = Object.keys(envSchema.shape).filter((name) => name.startsWith("FAL_MCP_"));
  return Object.keys(env)
    .filter((name) => name.startsWith("FAL_MCP_") && !known.includes(name))
    .map((name) => {
      const [closest] = known
        .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
        .filter(({ distance }) => distance <= 4)
        .sort((x, y) => x.distance - y.distance);
      return { name, closest: closest?.candidate };
    });
}

export function loadConfig({
  env,
  homeDir = os.homedir(),
  platform = os.platform(),
  mode = "stdio",
  flags = {},
}: LoadConfigOptions): Config {
  // Only fal-mcp's own settings: other variables (a shell's PS1) may hold templates legitimately.
  const ours = Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith("FAL_")));
  const { ignored } = dropUnsubstitutedPlaceholders(ours);
  const substituted: Env = { ...env };
  for (const setting of ignored) delete substituted[setting.name];
  const parsed = envSchema.safeParse({
    ...substituted,
    ...(flags.host !== undefined ? { FAL_MCP_HTTP_HOST: flags.host } : {}),
    ...(flags.port !== undefined ? { FAL_MCP_HTTP_PORT: flags.port } : {}),
  });
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => issue.message).join("; "));
  }
  const values = parsed.data;
  const key = values.FAL_KEY?.trim();
  const keyId = values.FAL_KEY_ID?.trim();
  const keySecret = values.FAL_KEY_SECRET?.trim();
  let falKey: Secret | undefined;
  let falKeySource: Config["falKeySource"];
  if (key) {
    falKey = new Secret(key);
    falKeySource = "FAL_KEY";
  } else if (keyId && keySecret) {
    falKey = new Secret(`${keyId}:${keySecret}`);
    falKeySource = "FAL_KEY_ID+FAL_KEY_SECRET";
  }
  const relativePaths: { name: string; given: string; resolved: string }[] = [];
  const folder = (name: string, raw: string): string => {
    const resolved = resolveUserPath(raw, homeDir);
    const given = raw.trim();
    if (given !== "~" && !/^~[/\\]/.test(given) && !path.isAbsolute(given))
      relativePaths.push({ name, given, resolved });
    return resolved;
  };
  const outputDir = values.FAL_MCP_OUTPUT_DIR?.trim()
    ? folder("FAL_MCP_OUTPUT_DIR", values.FAL_MCP_OUTPUT_DIR)
    : path.join(homeDir, "fal-mcp");
  const stateDir = values.FAL_MCP_STATE_DIR?.trim()
    ? folder("FAL_MCP_STATE_DIR", values.FAL_MCP_STATE_DIR)
    : defaultStateDir(substituted, homeDir, platform);
  const allowedDirs = values.FAL_MCP_ALLOWED_DIRS?.trim()
    ? values.FAL_MCP_ALLOWED_DIRS.split(path.delimiter)
        .map((entry) => entry.trim())
        .filter((entry) => entry !== "")
        .map((entry) => folder("FAL_MCP_ALLOWED_DIRS", entry))
    : undefined;
  const baseUrl = values.FAL_MCP_BASE_URL?.trim()
    ? values.FAL_MCP_BASE_URL.trim().replace(/\/+$/, "")
    : undefined;

  return Object.freeze({
    homeDir,
    ignoredSettings: Object.freeze(ignored),
    unknownSettings: Object.freeze(unknownSettings(env)),
    relativePaths: Object.freeze(relativePaths),
    falKey,
    falKeySource,
    baseUrl,
    outputDir,
    stateDir,
    waitSeconds: values.FAL_MCP_WAIT_SECONDS,
    inlinePreviewBytes: values.FAL_MCP_INLINE_PREVIEW_BYTES,
    allowedDirs: allowedDirs ? Object.freeze(allowedDirs) : undefined,
    allowHidden: values.FAL_MCP_ALLOW_HIDDEN,
    allowSensitiveFiles: values.FAL_MCP_ALLOW_SENSITIVE_FILES,
    allowPrivateUrls: values.FAL_MCP_ALLOW_PRIVATE_URLS,
    maxUploadBytes: values.FAL_MCP_MAX_UPLOAD_BYTES,
    maxDownloadBytes: values.FAL_MCP_MAX_DOWNLOAD_BYTES,
    requestTimeoutMs: values.FAL_MCP_REQUEST_TIMEOUT_MS,
    stallTimeoutMs: values.FAL_MCP_STALL_TIMEOUT_MS,
    transferTimeoutMs: values.FAL_MCP_TRANSFER_TIMEOUT_MS,
    maxResultBytes: values.FAL_MCP_MAX_RESULT_BYTES,
    catalogTtlSeconds: values.FAL_MCP_CATALOG_TTL_SECONDS,
    logLevel: values.FAL_MCP_LOG_LEVEL ?? "info",
    money: Object.freeze({
      maxCostPerCall: values.FAL_MCP_MAX_COST_PER_CALL,
      maxCostPerDay: values.FAL_MCP_MAX_COST_PER_DAY,
      unknownCost: values.FAL_MCP_UNKNOWN_COST,
      confirm: Object.freeze(values.FAL_MCP_CONFIRM),
    }),
    readOnly: values.FAL_MCP_READ_ONLY,
    storePayload: values.FAL_MCP_STORE_PAYLOAD,
    mediaExpirationSeconds: values.FAL_MCP_MEDIA_EXPIRATION_SECONDS,
    mode,
    proxy: proxyFromEnv(env),
    http: Object.freeze({
      host: values.FAL_MCP_HTTP_HOST?.trim() || "127.0.0.1",
      port: values.FAL_MCP_HTTP_PORT,
      token: values.FAL_MCP_HTTP_TOKEN?.trim() ? new Secret(values.FAL_MCP_HTTP_TOKEN.trim()) : undefined,
      allowedHosts: Object.freeze(commaList(values.FAL_MCP_HTTP_ALLOWED_HOSTS)),
      allowedOrigins: Object.freeze(commaList(values.FAL_MCP_HTTP_ALLOWED_ORIGINS)),
      maxBodyBytes: values.FAL_MCP_HTTP_MAX_BODY_BYTES,
    }),
  });
}
