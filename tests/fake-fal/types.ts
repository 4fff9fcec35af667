// Shared types of the fake of fal. Kept apart from server.ts so the catalog, routes and tests can
// import them without pulling in the HTTP server.
import type { HostileOutput, KeyPreset, Permission } from "./hostile-types.js";

/** What kind of output a model produces; drives the generated output JSON and media files. */
export type OutputKind =
  | "image" // {images:[Image], seed, timings, has_nsfw_concepts, prompt}
  | "image-single" // {image: Image, seed, timings} (upscalers, background removal)
  | "video" // {video: File}
  | "audio" // {audio: File}
  | "audio-file" // {audio_file: File} (stable-audio)
  | "mesh" // {model_mesh: File}
  | "text" // {text, chunks}
  | "lora" // {diffusers_lora_file: File, config_file: File}
  | "echo" // the input, verbatim
  | "fail"; // COMPLETED with error; result answers the failure

/** How a failed job fails (result answer, and the error/error_type on the COMPLETED status). */
export type Failure =
  | {
      /** 422 with a pydantic-style `detail[]` (fal's model validation errors). */
      kind: "validation";
      detail: ValidationDetail[];
      /** `error` string on the COMPLETED status. */
      error?: string;
      /** `error_type` on the COMPLETED status. */
      errorType?: string;
    }
  | {
      /** Flat `{detail, error_type}` with `X-Fal-Error-Type` (request/infrastructure errors). */
      kind: "flat";
      status: number;
      detail: string;
      errorType: string;
    };

export interface ValidationDetail {
  loc: (string | number)[];
  msg: string;
  type: string;
  url?: string;
  ctx?: Record<string, unknown>;
  input?: unknown;
}

export interface LogLine {
  message: string;
  level: "STDERR" | "STDOUT" | "ERROR" | "INFO" | "WARN" | "DEBUG";
}

/** Timing and output behaviour of one endpoint. Jobs snapshot it when they are created. */
export interface Behavior {
  /** Time spent IN_QUEUE (fake clock). */
  queueMs: number;
  /** Time spent IN_PROGRESS (fake clock). */
  runMs: number;
  /** Extra synthetic queue position at submit, decreasing linearly to 0 over queueMs. */
  queuePosition: number;
  /** Log lines, emitted evenly over the run. */
  logs: string[];
  output: OutputKind;
  /** Used when output is "fail" (and for a cancelled job's shape, not configurable). */
  failure?: Failure;
  /** Size in bytes of generated video files (default 256 KiB). */
  videoBytes?: number;
  /** Approximate size in bytes of generated PNGs (default: a small solid-colour PNG). */
  imageBytes?: number;
  /** A hostile output instead of the normal one (issue 11); see hostile-types.ts. */
  hostile?: HostileOutput;
  /**
   * The request id the submit answers with instead of a UUID, e.g. `../../x`; `"caller-key"` uses
   * the submitting key itself. The job is then addressed by it (URL-encoded in the queue URLs).
   */
  requestId?: string;
}

export type FieldType = "string" | "integer" | "number" | "boolean" | "array" | "object";

/** A compact description of one input field, from which the OpenAPI Input schema is generated. */
export interface FieldSpec {
  name: string;
  type: FieldType;
  /** Element type for arrays. */
  items?: "string" | "integer" | "number" | "object";
  required?: boolean;
  default?: unknown;
  enum?: (string | number)[];
  min?: number;
  max?: number;
  /** Rendered as `anyOf: [{type}, {type: "null"}]`. */
  nullable?: boolean;
  /** `image_size`: `anyOf: [{$ref: ImageSize}, {enum: [...]}]`. */
  imageSize?: boolean;
  description: string;
  examples?: unknown[];
}

export interface ModelMetadata {
  display_name: string;
  category: string;
  description: string;
  status: "active" | "deprecated";
  tags: string[];
  updated_at: string;
  is_favorited: boolean | null;
  thumbnail_url: string;
  model_url: string;
  date: string;
  highlighted: boolean;
  pinned: boolean;
  duration_estimate?: number;
  kind?: "inference" | "training";
  license_type?: "commercial" | "research" | "private";
}

export interface Price {
  unit_price: number;
  unit: string;
  currency: "USD";
}

export interface ModelSpec {
  endpoint_id: string;
  metadata: ModelMetadata;
  inputs: FieldSpec[];
  price: Price;
  /** Units billed by a typical call (for `historical_api_price` estimates). */
  typicalUnits: number;
  behavior: Behavior;
  /** `expansion_failed`: expand gives the error object and the public openapi.json a 500. */
  openapi?: "ok" | "expansion_failed";
}

/** Queue state as fal reports it. */
export type QueueState = "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED";

export interface Job {
  requestId: string;
  endpointId: string;
  /** App root used by status/result/cancel URLs. */
  root: string;
  input: unknown;
  /** "queue" for queue submits, "run" for fal.run synchronous runs. */
  via: "queue" | "run";
  createdAt: number;
  startAt: number;
  endAt: number;
  behavior: Behavior;
  /** Input validation errors found at submit; the job then fails with a 422. */
  invalid?: ValidationDetail[];
  cancelled: boolean;
  cancelledAt?: number;
  /** Output JSON once produced (lazily, at the first read after completion). */
  output?: unknown;
  billableUnits?: number;
  /** Headers the submit carried (lower-cased, auth redacted), e.g. x-fal-queue-priority. */
  headers: Record<string, string>;
  /** `X-Fal-Store-IO: 0` was sent: no payloads kept (history has none; short result retention). */
  readonly storeIo: boolean;
  /** Parsed `X-Fal-Object-Lifecycle-Preference`, or null (absent or not JSON). */
  readonly lifecycle: Record<string, unknown> | null;
  /** Current state, computed from the fake clock. */
  readonly state: QueueState;
}

export type Fault =
  | {
      kind: "status";
      status: number;
      body?: string | object;
      headers?: Record<string, string>;
      /**
       * Run the real handler first (a submit creates its job), then answer this error instead:
       * the "fal received it but the gateway answered 502/503" case.
       */
      afterHandler?: boolean;
    }
  | { kind: "html"; status: number }
  | { kind: "drop-before" }
  | { kind: "drop-after" }
  | { kind: "delay"; ms: number }
  | { kind: "reset-mid-body" }
  | { kind: "truncated-json" }
  | { kind: "wrong-shape"; body?: object }
  | { kind: "stall-body"; afterBytes?: number }
  /** 200 `Content-Encoding: gzip` JSON that decodes to `decodedBytes` (default 1 GiB), streamed. */
  | { kind: "gzip-bomb"; decodedBytes?: number; status?: number }
  /**
   * A body that trickles `bytesPerTick` (default 4) every `intervalMs` (default 200) until
   * `totalBytes` (default: forever). Serves the media at the path if there is one (its type and
   * bytes, then zeros), else `contentType` zeros. `contentLength` declares a length (default:
   * totalBytes when bounded, else none).
   */
  | {
      kind: "trickle";
      bytesPerTick?: number;
      intervalMs?: number;
      totalBytes?: number | null;
      contentType?: string;
      contentLength?: number;
    }
  /**
   * A fast body of `bodyBytes` zeros (default: unbounded) declaring `contentLength` (default
   * 10 GiB; null: none), for size caps; records whether the client closed at its cap.
   */
  | { kind: "huge-body"; bodyBytes?: number | null; contentLength?: number | null; contentType?: string };

export interface FaultRule {
  /** Original host, e.g. `queue.fal.run`; `*.fal.media` matches any CDN host. */
  host?: string;
  method?: string;
  /** Path without host and query. A string matches exactly, or as a prefix when it ends in `*`. */
  path?: string | RegExp;
  /** How many requests it applies to; unlimited when absent. */
  times?: number;
  fault: Fault;
}

export interface LoggedRequest {
  method: string;
  host: string;
  path: string;
  search: string;
  headers: Record<string, string>;
  hadAuth: boolean;
  keyOk: boolean;
  /** Fake-clock time. */
  time: number;
}

export interface RequestFilter {
  host?: string;
  method?: string;
  path?: string | RegExp;
}

export interface UploadRecord {
  size: number;
  sha256: string;
  contentType: string;
  fileName: string;
  multipart: boolean;
  parts: number;
}

export interface WrongRootRequest {
  method: string;
  path: string;
  requestId: string;
  usedRoot: string;
  expectedRoot: string | null;
}

/** Switches that may be flipped at run time through `fake.settings`. */
export interface FakeFalSettings {
  /** 422 on the submit POST instead of a job that completes with a 422 result. */
  validateAtSubmit: boolean;
  /** A cancelled IN_PROGRESS job still completes normally (fal lets the app decide). */
  runningJobsCompleteOnCancel: boolean;
  /** Result answers 404 this long after completion; unlimited when null. */
  resultRetentionMs: number | null;
  /** Name of the docs search tool on docs.fal.ai/mcp (fal renamed it once). */
  docsToolName: string;
  /** Answer docs MCP calls with plain JSON instead of an SSE body. */
  docsPlainJson: boolean;
  /** Default size of generated PNGs in bytes (null: small solid-colour PNG). */
  imageBytes: number | null;
  /** Default size of generated MP4s in bytes. */
  videoBytes: number;
  /** A billing event appears this long (fake clock) after its job completed (warehouse lag). */
  billingEventLagMs: number;
  /** A request appears in request history this long (fake clock) after its submit arrived. */
  historyLagMs: number;
  /** Credit balance before any fake job was billed; the balance shown is this minus billed cost. */
  creditBalance: number;
  /** A signed upload target is refused (403) this long (fake clock) after initiate. */
  uploadTargetTtlMs: number;
  /** Largest single (non-multipart) PUT accepted; larger gets 413 (fal: 90 MiB). */
  maxSinglePutBytes: number;
  /**
   * Digest of a multipart part, returned as its etag: `md5` (default, like S3-style storage) or
   * `sha256`, for the bench: md5 runs at ~540 MiB/s on one core here against sha256's ~1,240
   * (SHA extensions), so with md5 the fake's single core, not the sender, limits multipart uploads
   * while curl's single PUT (hashed with sha256) is not limited alike.
   */
  partDigest: "md5" | "sha256";
  /**
   * Form of the URLs a submit answers: `app-root` (default, fal's queue docs), `response-suffix`
   * (`response_url` ends in `/response`, which the fake then serves), `full-id` (all three under
   * the full endpoint id, which the fake then also answers). Both variants are seen in fal's docs.
   */
  queueUrlStyle: "app-root" | "response-suffix" | "full-id";
}

export interface FakeFalOptions extends Partial<FakeFalSettings> {
  port?: number;
  /** Accepted keys (`Authorization: Key <k>`). */
  keys?: string[];
  /** Keys of locked accounts: 403 "User is locked". */
  lockedKeys?: string[];
  /** Permissions per key (a preset name or a list); keys not listed have every permission. */
  keyPermissions?: Record<string, KeyPreset | Permission[]>;
  /** Model catalog; default the hand-written fixture catalog. */
  catalog?: ModelSpec[];
}
