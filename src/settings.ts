import { z } from "zod";

/**
 * The value parsers behind loadConfig (config.ts): whole numbers, on/off flags, dollar amounts,
 * the approval policy and the proxy variables. Each one names its variable in its error, with the
 * allowed forms and what was given, so a typo stops the server with a message that says what to fix.
 */

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** FAL_MCP_CONFIRM: never | always | over:<usd>. */
export type ConfirmPolicy = { mode: "never" } | { mode: "always" } | { mode: "over"; amount: number };

export interface SpendSettings {
  /** FAL_MCP_MAX_COST_PER_CALL (USD): a call estimated above it is refused. Default: no cap. */
  readonly maxCostPerCall: number | undefined;
  /** FAL_MCP_MAX_COST_PER_DAY (USD, the user's local day, from the job record). Default: no cap. */
  readonly maxCostPerDay: number | undefined;
  /** FAL_MCP_UNKNOWN_COST: allow | refuse a call whose cost cannot be estimated. Default allow. */
  readonly unknownCost: "allow" | "refuse";
  /** FAL_MCP_CONFIRM. Default never. */
  readonly confirm: ConfirmPolicy;
}

/** Parses FAL_MCP_CONFIRM; returns an error message for anything else. */
export function parseConfirmPolicy(raw: string | undefined): ConfirmPolicy | string {
  const value = raw?.trim().toLowerCase() ?? "";
  if (value === "" || value === "never") return { mode: "never" };
  if (value === "always") return { mode: "always" };
  const over = /^over:\s*\$?(\d+(?:\.\d+)?)$/.exec(value);
  if (over) return { mode: "over", amount: Number(over[1]) };
  return `FAL_MCP_CONFIRM must be never, always or over:<usd> such as over:0.50 (got "${raw}")`;
}

/** Parses a USD amount setting (FAL_MCP_MAX_COST_PER_CALL, …); undefined when unset. */
export function parseUsd(name: string, raw: string | undefined): number | undefined | string {
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw.trim().replace(/^\$/, ""));
  if (!Number.isFinite(value) || value < 0)
    return `${name} must be an amount in US dollars such as 2.50 (got "${raw}")`;
  return value;
}

export const usdSetting = (name: string) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = parseUsd(name, raw);
      if (typeof value === "string") {
        ctx.addIssue({ code: "custom", message: value });
        return z.NEVER;
      }
      return value;
    });

export const integer = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === "") return fallback;
      // Digits only: Number() would also take "1e3", "0x10" or "1_000"-like surprises.
      const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
      if (!Number.isInteger(value) || value < min || value > max) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be a whole number from ${min} to ${max} (got "${raw}")`,
        });
        return z.NEVER;
      }
      return value;
    });

const FLAG_ON = ["1", "true", "yes", "on"];
const FLAG_OFF = ["0", "false", "no", "off", ""];

/** An on/off setting: exactly the documented forms, anything else is an error naming the variable. */
export const flag = (name: string, whenUnset = false) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return whenUnset;
      const value = raw.trim().toLowerCase();
      if (FLAG_ON.includes(value)) return true;
      if (FLAG_OFF.includes(value)) return false;
      ctx.addIssue({
        code: "custom",
        message: `${name} must be one of ${FLAG_ON.join(", ")} (on) or ${FLAG_OFF.filter(Boolean).join(", ")} (off), or empty (got "${raw}")`,
      });
      return z.NEVER;
    });

/** The outbound proxy, from the conventional variables (not FAL_MCP_*: every tool reads these). */
export interface ProxyConfig {
  /** https_proxy or HTTPS_PROXY: the proxy for https:// targets. */
  readonly httpsProxy: string | undefined;
  /** http_proxy or HTTP_PROXY: the proxy for http:// targets. */
  readonly httpProxy: string | undefined;
  /** no_proxy or NO_PROXY: hosts reached directly (comma or space list; `*` for all). */
  readonly noProxy: string;
}

const proxyUrl = (name: string, raw: string | undefined, ctx: z.RefinementCtx): string | undefined => {
  const value = raw?.trim();
  if (!value) return undefined;
  // curl and undici accept a bare host:port and mean http://host:port.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  try {
    const url = new URL(withScheme);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  } catch {
    // reported below
  }
  // The value may carry a password: name the variable only.
  ctx.addIssue({
    code: "custom",
    message: `${name} must be an http(s) proxy URL such as http://proxy.example:3128`,
  });
  return undefined;
};

/** The proxy variables: lowercase first, as curl and undici read them. */
export function proxyFromEnv(env: Env): ProxyConfig | undefined {
  const pick = (lower: string, upper: string) => (env[lower] !== undefined ? lower : upper);
  const httpsName = pick("https_proxy", "HTTPS_PROXY");
  const httpName = pick("http_proxy", "HTTP_PROXY");
  const issues: string[] = [];
  const parse = (name: string) =>
    z
      .string()
      .optional()
      .transform((raw, ctx) => proxyUrl(name, raw, ctx))
      .safeParse(env[name]);
  const https = parse(httpsName);
  const http = parse(httpName);
  for (const result of [https, http])
    if (!result.success) issues.push(...result.error.issues.map((i) => i.message));
  if (issues.length > 0) throw new ConfigError(issues.join("; "));
  const httpsProxy = https.data;
  const httpProxy = http.data;
  if (!httpsProxy && !httpProxy) return undefined;
  const noProxy = (env.no_proxy ?? env.NO_PROXY ?? "").trim();
  return Object.freeze({ httpsProxy, httpProxy, noProxy });
}
