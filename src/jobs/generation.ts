/**
 * What fal's hosted server adds around a generation call, in fal's own terms: the two retention
 * arguments as request headers (fal-platform-api.md §11.1), the `recipe` that says how to run the
 * same job again, and `poll_after_seconds` for a job still pending.
 */

export { MAX_EXPIRATION_SECONDS } from "../config.js";

export interface RetentionOptions {
  /** Seconds fal's CDN keeps the generated media; undefined leaves the account's default. */
  expirationSeconds?: number | undefined;
  /** false: fal stores no request or response payload (X-Fal-Store-IO: 0). */
  storePayload: boolean;
}

/** The retention of a call: its arguments, else the settings (FAL_MCP_MEDIA_EXPIRATION_SECONDS, FAL_MCP_STORE_PAYLOAD). */
export function retentionOf(
  config: { mediaExpirationSeconds: number | undefined; storePayload: boolean },
  args: { expiration_seconds?: number | undefined; store_payload?: boolean | undefined },
): RetentionOptions {
  return {
    expirationSeconds: args.expiration_seconds ?? config.mediaExpirationSeconds,
    storePayload: args.store_payload ?? config.storePayload,
  };
}

/** The headers for a submit: `X-Fal-Object-Lifecycle-Preference` and `X-Fal-Store-IO`, lower-cased. */
export function generationHeaders(options: RetentionOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.expirationSeconds !== undefined)
    headers["x-fal-object-lifecycle-preference"] = JSON.stringify({
      expiration_duration_seconds: options.expirationSeconds,
    });
  if (!options.storePayload) headers["x-fal-store-io"] = "0";
  return headers;
}

/** Inputs larger than this are left out of the recipe (they stay in the local job record). */
export const MAX_RECIPE_INPUT_BYTES = 2048;

export type Recipe =
  | { endpoint_id: string; input: Record<string, unknown> }
  | { endpoint_id: string; input_omitted: true; reason: "store_payload_false" | "too_large" };

/**
 * fal's `recipe`: `{endpoint_id, input}` to run the same job again, or `{endpoint_id,
 * input_omitted: true}` when no payload is to be kept (store_payload false). An input over 2 KB
 * is omitted too, so the answer stays small enough for clients that show it whole to the model.
 */
export function recipeOf(endpointId: string, input: Record<string, unknown>, storePayload: boolean): Recipe {
  if (!storePayload) return { endpoint_id: endpointId, input_omitted: true, reason: "store_payload_false" };
  if (Buffer.byteLength(JSON.stringify(input)) > MAX_RECIPE_INPUT_BYTES)
    return { endpoint_id: endpointId, input_omitted: true, reason: "too_large" };
  return { endpoint_id: endpointId, input };
}

/**
 * When to look again at a pending job: soon for a short queue or a job already running, later
 * the further back in the queue it is. Whole seconds, 2–60.
 */
export function pollAfterSeconds(status: string, queuePosition: number | undefined): number {
  if (status === "IN_QUEUE") return Math.min(60, 5 + 2 * Math.max(0, queuePosition ?? 0));
  if (status === "IN_PROGRESS") return 10;
  return status === "COMPLETED" ? 2 : 15;
}
