// Types of the fake's hostile scenarios and account model (issues 11 and 13). Kept apart from
// types.ts so that file stays small; server.ts re-exports both.

/**
 * A hostile model output, switched on per endpoint with `fake.setBehavior(id, {hostile})` (or
 * POST /__control/behavior). Jobs snapshot it at submit. See README.md "Hostile outputs".
 */
export type HostileOutput =
  /** `{data: [[[…]]]}` nested `depth` arrays deep (default 6000), sent as raw JSON text. */
  | { kind: "deep"; depth?: number }
  /** About `bytes` (default 3 MiB) of output: a `text` field, or a real PNG as a data: URI. */
  | { kind: "large"; bytes?: number; as?: "text" | "data-uri" }
  /**
   * The caller's own key echoed back: in an output field (`debug`), in a status log line, and in
   * the query string of a signed media URL (default: all three).
   */
  | { kind: "echo-key"; in?: ("output" | "logs" | "signed-url")[] }
  /** Image URLs at loopback/private/link-local/metadata addresses (default PRIVATE_MEDIA_URLS + canary). */
  | { kind: "private-urls"; urls?: string[] }
  /** The image URL serves an HTML page labelled `Content-Type: image/png`. */
  | { kind: "html-as-png" }
  /**
   * Real media with insane facts beside them: images[0] claims width 10^12 and a string height,
   * images[1] a string width with a newline and ANSI; the video claims duration "forever" and
   * 10^12 frames; the echoed `prompt` is 100 KB of ANSI-coloured lines.
   */
  | { kind: "bad-facts" };

/** Key permissions as fal names them (fal-platform-api.md §7.9); `model:execute` is the fake's name. */
export type Permission =
  | "model:execute"
  | "billing:usage:read"
  | "models:requests:read"
  | "assets:read"
  | "assets:write"
  | "account:settings:read"
  | "account:settings:write";

export type KeyPreset = "full" | "api" | "read-only" | "billing";

/** One connection the fake streamed a hostile body on (gzip bomb, trickle, huge body). */
export interface TransferRecord {
  id: number;
  fault: "gzip-bomb" | "trickle" | "huge-body";
  host: string;
  path: string;
  /** Bytes written to the socket (compressed bytes for the gzip bomb). */
  wireBytes: number;
  /** Bytes of the body before compression (equals wireBytes except for the gzip bomb). */
  bodyBytes: number;
  /** The client closed the connection before the fake finished the body. */
  closedByClient: boolean;
  /** The fake wrote the whole body (false while it is still streaming or after a client close). */
  finished: boolean;
  /** Wall-clock ms (not the fake clock: these measure real time on the wire). */
  startedAt: number;
  endedAt: number | null;
}

/** One fault that was applied to a request (for "retried or not" assertions). */
export interface AppliedFault {
  kind: string;
  host: string;
  method: string;
  path: string;
  /** Fake-clock time. */
  time: number;
}
