// The fake's state and its public API (FakeFal). The HTTP plumbing lives in server.ts and the
// per-host routes under routes/; they all share one Core.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { appRoot } from "./catalog.js";
import { FakeJob, generateOutput, validateInput } from "./jobs.js";
import { MediaStore } from "./media.js";
import { buildOpenApi } from "./openapi.js";
import { platformError, sendJson } from "./http.js";
import type { AppliedFault, KeyPreset, Permission, TransferRecord } from "./hostile-types.js";
import type {
  Behavior,
  FakeFalSettings,
  FaultRule,
  Job,
  LoggedRequest,
  ModelSpec,
  RequestFilter,
  UploadRecord,
  WrongRootRequest,
} from "./types.js";

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  /** Original host (first path segment). */
  host: string;
  /** Path without the host segment, e.g. `/fal-ai/flux/dev`. */
  path: string;
  /** `?…` or empty. */
  search: string;
  query: URLSearchParams;
  key: string | null;
  keyOk: boolean;
  locked: boolean;
}

export interface UploadSession {
  token: string;
  sig: string;
  fileName: string;
  contentType: string;
  multipart: boolean;
  fileUrl: string;
  /** Decoded CDN path of the final file. */
  filePath: string;
  parts: Map<number, { path: string; size: number; etag: string }>;
  done: boolean;
  /** Fake-clock time of initiate; the signed target expires settings.uploadTargetTtlMs later. */
  createdAt: number;
}

export interface ActiveFault {
  id: number;
  rule: FaultRule;
  remaining: number;
}

export const matchPath = (pattern: string | RegExp | undefined, path: string): boolean => {
  if (pattern === undefined) return true;
  if (pattern instanceof RegExp) {
    pattern.lastIndex = 0;
    return pattern.test(path);
  }
  return pattern.endsWith("*") ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
};

export const matchHost = (pattern: string | undefined, host: string): boolean => {
  if (pattern === undefined) return true;
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1));
  return host === pattern.toLowerCase();
};

/** Permission presets (fal-platform-api.md §7.9; which presets hold which permission is partly [unverified]). */
export const PRESETS: Record<KeyPreset, Permission[]> = {
  full: [
    "model:execute",
    "billing:usage:read",
    "models:requests:read",
    "assets:read",
    "assets:write",
    "account:settings:read",
    "account:settings:write",
  ],
  // The default preset runs models; it may not read billing data or request history.
  api: ["model:execute"],
  // [unverified] whether Read-only may run models; the fake says no, so tests can cover that 403.
  "read-only": ["billing:usage:read", "models:requests:read", "assets:read", "account:settings:read"],
  billing: ["billing:usage:read"],
};

/** Keys the fake accepts by default besides DEFAULT_KEYS, each limited to one preset. */
export const PRESET_KEYS: Record<Exclude<KeyPreset, "full">, string> = {
  api: "test-key-api-preset",
  "read-only": "test-key-read-only",
  billing: "test-key-billing",
};

export class Core {
  url = "";
  port = 0;
  readonly settings: FakeFalSettings;
  readonly keys: Set<string>;
  readonly lockedKeys: Set<string>;
  readonly catalog: ModelSpec[];
  readonly models = new Map<string, ModelSpec>();
  /** App roots of the catalog (to tell "unknown app" from "unknown path of a known app"). */
  readonly roots = new Set<string>();
  readonly jobs = new Map<string, FakeJob>();
  readonly media = new MediaStore();
  readonly uploads = new Map<string, UploadRecord>();
  readonly uploadSessions = new Map<string, UploadSession>();
  readonly requests: LoggedRequest[] = [];
  readonly wrongRootRequests: WrongRootRequest[] = [];
  authLeaks = 0;
  readonly faults: ActiveFault[] = [];
  /** Every fault applied, in order. */
  readonly appliedFaults: AppliedFault[] = [];
  /** Hostile bodies streamed (gzip bomb, trickle, huge body). */
  readonly transfers: TransferRecord[] = [];
  /** Permissions of restricted keys; a key not in the map has every permission. */
  readonly permissions = new Map<string, Set<Permission>>();
  private initialPermissions = new Map<string, Set<Permission>>();
  /** Connections accepted by the loopback canary (a client fetched a URL it must refuse). */
  canaryConnections = 0;
  canaryUrl = "";
  readonly timers = new Set<NodeJS.Timeout>();
  private offset = 0;
  private faultSeq = 0;
  private readonly overrides = new Map<string, Partial<Behavior>>();
  private readonly openapiCache = new Map<string, Record<string, unknown>>();

  constructor(
    settings: FakeFalSettings,
    keys: string[],
    lockedKeys: string[],
    catalog: ModelSpec[],
    readonly tmpDir: string,
  ) {
    this.settings = settings;
    this.keys = new Set(keys);
    this.lockedKeys = new Set(lockedKeys);
    this.catalog = catalog;
    for (const [preset, key] of Object.entries(PRESET_KEYS)) {
      this.keys.add(key);
      this.permissions.set(key, new Set(PRESETS[preset as KeyPreset]));
    }
    for (const m of catalog) {
      this.models.set(m.endpoint_id, m);
      this.roots.add(appRoot(m.endpoint_id));
    }
  }

  // ------------------------------------------------------------ clock

  /** Fake-clock time in ms: wall time plus whatever advanceTime added. */
  now(): number {
    return Date.now() + this.offset;
  }

  advanceTime(ms: number): void {
    this.offset += Math.max(0, ms);
  }

  // ------------------------------------------------------------ models and behaviour

  behaviorFor(endpointId: string): Behavior {
    const spec = this.models.get(endpointId);
    if (!spec) throw new Error(`unknown endpoint ${endpointId}`);
    return { ...spec.behavior, ...this.overrides.get(endpointId) };
  }

  /** Overrides an endpoint's behaviour for jobs created from now on. */
  setBehavior(endpointId: string, partial: Partial<Behavior>): void {
    if (!this.models.has(endpointId)) throw new Error(`unknown endpoint ${endpointId}`);
    this.overrides.set(endpointId, { ...this.overrides.get(endpointId), ...partial });
  }

  openapiFor(spec: ModelSpec): Record<string, unknown> {
    let doc = this.openapiCache.get(spec.endpoint_id);
    if (!doc) this.openapiCache.set(spec.endpoint_id, (doc = buildOpenApi(spec)));
    return doc;
  }

  // ------------------------------------------------------------ auth

  parseKey(header: string | undefined): string | null {
    if (!header) return null;
    const m = /^Key\s+(.+)$/.exec(header.trim());
    return m ? m[1]!.trim() : null;
  }

  /** Answers 401/403 when the request has no accepted key. `platform` selects the error envelope. */
  authorize(ctx: Ctx, platform = false): boolean {
    if (ctx.locked) {
      const message =
        "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.";
      if (platform) sendJson(ctx.res, 403, { error: { type: "authorization_error", message } });
      else sendJson(ctx.res, 403, { detail: message });
      return false;
    }
    if (ctx.keyOk) return true;
    if (platform)
      sendJson(ctx.res, 401, { error: { type: "authorization_error", message: "Authentication required" } });
    else sendJson(ctx.res, 401, { detail: "Unauthorized" });
    return false;
  }

  /** Limits `key` to a preset or a list of permissions; null gives it every permission again. */
  setPermissions(key: string, permissions: KeyPreset | Permission[] | null): void {
    if (permissions === null) this.permissions.delete(key);
    else
      this.permissions.set(
        key,
        new Set(typeof permissions === "string" ? PRESETS[permissions] : permissions),
      );
  }

  /** Remembers the permissions set at start, which reset() restores. */
  freezeInitialPermissions(): void {
    this.initialPermissions = new Map([...this.permissions].map(([k, v]) => [k, new Set(v)]));
  }

  hasPermission(key: string | null, permission: Permission): boolean {
    if (key === null) return false;
    return this.permissions.get(key)?.has(permission) ?? true;
  }

  /**
   * Answers 403 when the (accepted) key lacks `permission`. Platform endpoints use fal's error
   * envelope; the body wording is [unverified] (§7.9), the fake names the permission.
   */
  requirePermission(ctx: Ctx, permission: Permission, platform = true): boolean {
    if (this.hasPermission(ctx.key, permission)) return true;
    const message = `This API key does not have the required permission: ${permission}`;
    if (platform) platformError(ctx.res, 403, "authorization_error", message);
    else sendJson(ctx.res, 403, { detail: message });
    return false;
  }

  // ------------------------------------------------------------ jobs

  createJob(
    spec: ModelSpec,
    input: unknown,
    via: "queue" | "run",
    headers: Record<string, string>,
    validate: boolean,
    callerKey: string | null = null,
  ): FakeJob {
    const behavior = this.behaviorFor(spec.endpoint_id);
    const now = this.now();
    const invalid = validate ? validateInput(spec.inputs, input) : [];
    const startAt = via === "run" ? now : now + behavior.queueMs;
    // Invalid input fails as soon as a runner picks the job up.
    const endAt = via === "run" || invalid.length ? startAt : startAt + behavior.runMs;
    const requestId =
      behavior.requestId === "caller-key"
        ? (callerKey ?? randomUUID())
        : (behavior.requestId ?? randomUUID());
    const job = new FakeJob(
      () => this.now(),
      requestId,
      spec.endpoint_id,
      appRoot(spec.endpoint_id),
      input,
      via,
      now,
      startAt,
      endAt,
      behavior,
      headers,
    );
    if (invalid.length) job.invalid = invalid;
    if (callerKey !== null) job.callerKey = callerKey;
    // A hostile fixed request id replaces the previous job of that id.
    this.jobs.delete(job.requestId);
    this.jobs.set(job.requestId, job);
    return job;
  }

  /** Generates the output of a completed, successful job on first use. */
  ensureOutput(job: FakeJob): void {
    if (job.output !== undefined || job.state !== "COMPLETED" || job.failure()) return;
    const spec = this.models.get(job.endpointId);
    if (!spec) return;
    const { output, units } = generateOutput(spec, job, this.media, {
      ...this.settings,
      canaryUrl: this.canaryUrl,
    });
    job.output = output;
    job.billableUnits = units;
    // X-Fal-Object-Lifecycle-Preference: output media expire N s after completion (fake clock).
    const ttl = job.lifecycle?.expiration_duration_seconds;
    if (typeof ttl === "number" && ttl >= 0) this.media.expireUrlsIn(output, job.endAt + ttl * 1000);
  }

  jobsFor(endpointId: string): Job[] {
    return [...this.jobs.values()].filter((j) => j.endpointId === endpointId);
  }

  // ------------------------------------------------------------ request log and faults

  countRequests(filter: RequestFilter = {}): number {
    return this.requests.filter(
      (r) =>
        matchHost(filter.host, r.host) &&
        (!filter.method || r.method === filter.method.toUpperCase()) &&
        matchPath(filter.path, r.path),
    ).length;
  }

  /** Adds a fault rule; returns a function that removes it. */
  inject(rule: FaultRule): () => void {
    const id = ++this.faultSeq;
    this.faults.push({ id, rule, remaining: rule.times ?? Infinity });
    return () => {
      const i = this.faults.findIndex((f) => f.id === id);
      if (i >= 0) this.faults.splice(i, 1);
    };
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** First matching fault (decrementing its count), or null. */
  takeFault(host: string, method: string, path: string): FaultRule | null {
    for (let i = 0; i < this.faults.length; i++) {
      const f = this.faults[i]!;
      const r = f.rule;
      if (
        !matchHost(r.host, host) ||
        (r.method && r.method.toUpperCase() !== method) ||
        !matchPath(r.path, path)
      )
        continue;
      f.remaining--;
      if (f.remaining <= 0) this.faults.splice(i, 1);
      this.appliedFaults.push({ kind: r.fault.kind, host, method, path, time: this.now() });
      return r;
    }
    return null;
  }

  /** Forgets requests, jobs, faults, overrides and counters (uploads and media stay). */
  reset(): void {
    this.requests.length = 0;
    this.wrongRootRequests.length = 0;
    this.jobs.clear();
    this.faults.length = 0;
    this.overrides.clear();
    this.authLeaks = 0;
    this.appliedFaults.length = 0;
    this.transfers.length = 0;
    this.canaryConnections = 0;
    this.permissions.clear();
    for (const [k, v] of this.initialPermissions) this.permissions.set(k, new Set(v));
  }

  /** Summary for GET /__control/. */
  summary(): Record<string, unknown> {
    const jobsByEndpoint: Record<string, Record<string, number>> = {};
    for (const j of this.jobs.values()) {
      const e = (jobsByEndpoint[j.endpointId] ??= {
        total: 0,
        IN_QUEUE: 0,
        IN_PROGRESS: 0,
        COMPLETED: 0,
        cancelled: 0,
      });
      e.total = (e.total ?? 0) + 1;
      e[j.state] = (e[j.state] ?? 0) + 1;
      if (j.cancelled) e.cancelled = (e.cancelled ?? 0) + 1;
    }
    return {
      url: this.url,
      now: new Date(this.now()).toISOString(),
      clockOffsetMs: this.offset,
      settings: this.settings,
      models: this.catalog.length,
      requests: this.requests.length,
      jobs: jobsByEndpoint,
      uploads: Object.fromEntries(this.uploads),
      authLeaks: this.authLeaks,
      canaryConnections: this.canaryConnections,
      transfers: this.transfers,
      appliedFaults: this.appliedFaults,
      permissions: Object.fromEntries([...this.permissions].map(([k, v]) => [k, [...v]])),
      wrongRootRequests: this.wrongRootRequests,
      faults: this.faults.map((f) => ({
        id: f.id,
        remaining: f.remaining,
        ...f.rule,
        path: f.rule.path instanceof RegExp ? String(f.rule.path) : f.rule.path,
      })),
    };
  }
}
