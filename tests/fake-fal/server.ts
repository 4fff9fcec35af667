// A faithful fake of fal for tests: one loopback HTTP server that answers for every fal host.
// Requests arrive as http://127.0.0.1:PORT/<original host>/<original path>?<query> (the upstream
// redirect of fal-mcp), so the first path segment selects the host. See fal-platform-api.md §17.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CATALOG } from "./catalog.js";
import { Core, type Ctx } from "./core.js";
import { handleControl } from "./control.js";
import { streamFault } from "./streams.js";
import { isObject, nginxPage, NGINX_TEXT, sendJson, sendText } from "./http.js";
import { handleQueue, handleRun } from "./routes/queue.js";
import { handleCdn, handleRest } from "./routes/storage.js";
import { handleApi, handleDocs, handleFalAi } from "./routes/platform.js";
import type { AppliedFault, KeyPreset, Permission, TransferRecord } from "./hostile-types.js";
import type {
  Behavior,
  FakeFalOptions,
  FakeFalSettings,
  Fault,
  FaultRule,
  Job,
  LoggedRequest,
  ModelSpec,
  RequestFilter,
  UploadRecord,
  WrongRootRequest,
} from "./types.js";

export type * from "./types.js";
export type * from "./hostile-types.js";
export { CATALOG, generateCatalog, appRoot } from "./catalog.js";
export { PRESETS, PRESET_KEYS } from "./core.js";
export { PRIVATE_MEDIA_URLS, privateUrls } from "./hostile.js";

export const DEFAULT_KEYS = ["test-key-id:test-key-secret", "test-key"];

export interface FakeFal {
  /** `http://127.0.0.1:PORT`: use as FAL_MCP_BASE_URL. */
  readonly url: string;
  readonly port: number;
  readonly keys: ReadonlySet<string>;
  /** Switches that can be flipped while running. */
  readonly settings: FakeFalSettings;
  readonly catalog: ModelSpec[];
  /** Every request received (except /__control), in order. */
  readonly requests: LoggedRequest[];
  readonly jobs: ReadonlyMap<string, Job>;
  /** Completed uploads, keyed by file_url. */
  readonly uploads: ReadonlyMap<string, UploadRecord>;
  /** status/result/cancel requests that used something other than the app root. */
  readonly wrongRootRequests: WrongRootRequest[];
  /** Requests to signed upload URLs that carried an Authorization header. */
  readonly authLeaks: number;
  /** Per-fake temp folder for uploads (removed on close). */
  readonly tmpDir: string;
  /** Unexpected exceptions inside the fake (should stay empty). */
  readonly errors: string[];
  /** Hostile bodies streamed by gzip-bomb, trickle and huge-body faults, with how each ended. */
  readonly transfers: readonly TransferRecord[];
  /** Every fault applied, in order (kind, host, method, path, time). */
  readonly appliedFaults: readonly AppliedFault[];
  /** `http://127.0.0.1:PORT` of the loopback canary; hostile private-urls outputs point at it. */
  readonly canaryUrl: string;
  /** TCP connections the canary accepted: a client that refuses private URLs leaves it at 0. */
  readonly canaryConnections: number;
  /** Limits a key to a preset or a permission list (null: every permission). reset() restores. */
  setPermissions(key: string, permissions: KeyPreset | Permission[] | null): void;
  now(): number;
  advanceTime(ms: number): void;
  setBehavior(endpointId: string, partial: Partial<Behavior>): void;
  jobsFor(endpointId: string): Job[];
  countRequests(filter?: RequestFilter): number;
  inject(rule: FaultRule): () => void;
  clearFaults(): void;
  /** Forgets requests, jobs, faults, behaviour overrides and counters. */
  reset(): void;
  close(): Promise<void>;
}

class FakeFalServer extends Core implements FakeFal {
  readonly errors: string[] = [];
  readonly sockets = new Set<Socket>();
  closed = false;
  server = createServer();
  /** Loopback listener that only counts connections: hostile URLs point at it (README "canary"). */
  canary = createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "image/png" });
    res.end(Buffer.from("89504e470d0a1a0a", "hex"));
  });

  // ------------------------------------------------------------ dispatch

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? "/";
    const qi = raw.indexOf("?");
    const pathPart = qi >= 0 ? raw.slice(0, qi) : raw;
    const search = qi >= 0 ? raw.slice(qi) : "";
    const segs = pathPart.split("/");
    const host = (segs[1] ?? "").toLowerCase();
    const path = "/" + segs.slice(2).join("/");
    const method = (req.method ?? "GET").toUpperCase();

    if (host === "__control") return handleControl(this, req, res, path);

    const key = this.parseKey(req.headers.authorization);
    const ctx: Ctx = {
      req,
      res,
      host,
      path,
      search,
      query: new URLSearchParams(search),
      key,
      keyOk: key !== null && this.keys.has(key),
      locked: key !== null && this.lockedKeys.has(key),
    };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined) continue;
      headers[k] = k === "authorization" ? "<redacted>" : Array.isArray(v) ? v.join(", ") : v;
    }
    this.requests.push({
      method,
      host,
      path,
      search,
      headers,
      hadAuth: req.headers.authorization !== undefined,
      keyOk: ctx.keyOk,
      time: this.now(),
    });

    const rule = this.takeFault(host, method, path);
    if (rule) return this.applyFault(rule.fault, ctx);
    return this.route(ctx);
  }

  private async route(ctx: Ctx): Promise<void> {
    const h = ctx.host;
    if (h === "api.fal.ai") return handleApi(this, ctx);
    if (h === "fal.ai" || h === "www.fal.ai") return handleFalAi(this, ctx);
    if (h === "docs.fal.ai") return handleDocs(this, ctx);
    if (h === "queue.fal.run") return handleQueue(this, ctx);
    if (h === "fal.run") return handleRun(this, ctx);
    if (h === "rest.fal.ai" || h === "rest.alpha.fal.ai") return handleRest(this, ctx);
    if (h === "fal.media" || h.endsWith(".fal.media")) return handleCdn(this, ctx);
    ctx.req.resume();
    sendJson(ctx.res, 404, { detail: `Unknown host '${h}': the fake of fal serves only fal hosts` });
  }

  // ------------------------------------------------------------ faults

  private async applyFault(fault: Fault, ctx: Ctx): Promise<void> {
    const { req, res } = ctx;
    switch (fault.kind) {
      case "drop-before":
        req.socket.destroy();
        return;
      case "status": {
        if (fault.afterHandler) {
          replaceAnswer(res, () => this.applyFault({ ...fault, afterHandler: false }, ctx));
          return this.route(ctx);
        }
        req.resume();
        const body = fault.body ?? { detail: NGINX_TEXT[fault.status] ?? "Error" };
        if (typeof body === "string")
          sendText(
            res,
            fault.status,
            body,
            fault.headers?.["content-type"] ?? "text/plain; charset=utf-8",
            fault.headers,
          );
        else sendJson(res, fault.status, body, fault.headers);
        return;
      }
      case "html":
        req.resume();
        sendText(res, fault.status, nginxPage(fault.status), "text/html", { Server: "nginx" });
        return;
      case "wrong-shape":
        req.resume();
        sendJson(res, 200, fault.body ?? { unexpected: true });
        return;
      case "delay":
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            this.timers.delete(t);
            resolve();
          }, fault.ms);
          this.timers.add(t);
        });
        if (this.closed) return;
        return this.route(ctx);
      case "gzip-bomb":
      case "trickle":
      case "huge-body":
        return streamFault(this, ctx, fault);
      case "drop-after":
      case "reset-mid-body":
      case "truncated-json":
      case "stall-body":
        intercept(res, fault);
        return this.route(ctx);
    }
  }

  // ------------------------------------------------------------ lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const canaryDone = new Promise<void>((resolve) => this.canary.close(() => resolve()));
    this.canary.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await done;
    await canaryDone;
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}

/**
 * Lets the real handler run (its side effects happen) but discards its answer, then calls
 * `answer` to send another one in its place.
 */
function replaceAnswer(res: ServerResponse, answer: () => Promise<void>): void {
  const r = res as unknown as { writeHead: unknown; write: unknown; end: unknown; setHeader: unknown };
  const original = { writeHead: r.writeHead, write: r.write, end: r.end, setHeader: r.setHeader };
  r.writeHead = () => res;
  r.write = () => true;
  r.setHeader = () => res;
  r.end = () => {
    Object.assign(r, original);
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    void answer();
    return res;
  };
}

/**
 * Rewrites how a response leaves the server, for faults that need the handler to run first
 * (so side effects such as job creation really happen) but the answer to be lost or damaged.
 */
function intercept(
  res: ServerResponse,
  fault: Extract<Fault, { kind: "drop-after" | "reset-mid-body" | "truncated-json" | "stall-body" }>,
): void {
  // Keep the original methods: the overrides below replace them on the instance.
  const writeHead = res.writeHead.bind(res);
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  const origWriteHead = (status: number): ServerResponse => writeHead(status);
  const origWrite = (chunk: Buffer, cb?: () => void): boolean => (cb ? write(chunk, cb) : write(chunk));
  const origEnd = (chunk?: Buffer): ServerResponse => (chunk ? end(chunk) : end());
  const toBuf = (chunk: unknown): Buffer | null =>
    chunk === undefined || chunk === null || typeof chunk === "function"
      ? null
      : Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk as string);
  const callback = (args: unknown[]): (() => void) | undefined =>
    args.find((a): a is () => void => typeof a === "function");
  const r = res as unknown as {
    writeHead: (status: number, ...rest: unknown[]) => ServerResponse;
    write: (chunk: unknown, ...rest: unknown[]) => boolean;
    end: (chunk?: unknown, ...rest: unknown[]) => ServerResponse;
  };
  let status = 200;
  r.writeHead = (s: number, ...rest: unknown[]) => {
    status = s;
    // Headers passed to writeHead (not used by the fake's own routes) are kept via setHeader.
    const h = rest.find((x) => isObject(x));
    if (h) for (const [k, val] of Object.entries(h)) res.setHeader(k, val as string);
    if (fault.kind === "stall-body") origWriteHead(s);
    return res;
  };

  if (fault.kind === "drop-after") {
    r.write = (_c, ...rest) => (callback(rest)?.(), true);
    r.end = () => {
      res.socket?.destroy();
      return res;
    };
    return;
  }

  if (fault.kind === "stall-body") {
    const declared = Number(res.getHeader("content-length"));
    let budget =
      fault.afterBytes ?? (Number.isFinite(declared) && declared > 0 ? Math.floor(declared / 2) : 1024);
    r.write = (c, ...rest) => {
      const buf = toBuf(c);
      if (!res.headersSent) origWriteHead(status);
      if (buf && budget > 0) {
        const part = buf.subarray(0, budget);
        budget -= part.length;
        origWrite(part);
      }
      callback(rest)?.();
      return true; // swallow the rest: the body stalls until the client gives up
    };
    r.end = (c, ...rest) => {
      if (c !== undefined && typeof c !== "function") r.write(c);
      callback([c, ...rest])?.();
      return res;
    };
    return;
  }

  const chunks: Buffer[] = [];
  r.write = (c, ...rest) => {
    const buf = toBuf(c);
    if (buf) chunks.push(buf);
    callback(rest)?.();
    return true;
  };
  r.end = (c?: unknown) => {
    const buf = toBuf(c);
    if (buf) chunks.push(buf);
    const full = Buffer.concat(chunks);
    const half = full.subarray(0, Math.floor(full.length / 2));
    if (fault.kind === "truncated-json") {
      res.setHeader("Content-Length", String(half.length));
      if (!res.getHeader("content-type")) res.setHeader("Content-Type", "application/json");
      origWriteHead(status);
      origEnd(half);
    } else {
      res.setHeader("Content-Length", String(full.length));
      origWriteHead(status);
      origWrite(half, () => res.socket?.destroy());
    }
    return res;
  };
}

export async function startFakeFal(options: FakeFalOptions = {}): Promise<FakeFal> {
  const settings: FakeFalSettings = {
    validateAtSubmit: options.validateAtSubmit ?? false,
    runningJobsCompleteOnCancel: options.runningJobsCompleteOnCancel ?? false,
    resultRetentionMs: options.resultRetentionMs ?? null,
    docsToolName: options.docsToolName ?? "search_fal",
    docsPlainJson: options.docsPlainJson ?? false,
    imageBytes: options.imageBytes ?? null,
    videoBytes: options.videoBytes ?? 256 * 1024,
    billingEventLagMs: options.billingEventLagMs ?? 0,
    historyLagMs: options.historyLagMs ?? 0,
    creditBalance: options.creditBalance ?? 42.5,
    uploadTargetTtlMs: options.uploadTargetTtlMs ?? 60 * 60_000,
    maxSinglePutBytes: options.maxSinglePutBytes ?? 90 * 1024 * 1024,
    partDigest: options.partDigest ?? "md5",
    queueUrlStyle: options.queueUrlStyle ?? "app-root",
  };
  const tmp = await mkdtemp(join(tmpdir(), "fake-fal-"));
  const fake = new FakeFalServer(
    settings,
    options.keys ?? DEFAULT_KEYS,
    options.lockedKeys ?? [],
    options.catalog ?? CATALOG,
    tmp,
  );
  for (const [key, perms] of Object.entries(options.keyPermissions ?? {})) fake.setPermissions(key, perms);
  fake.freezeInitialPermissions();
  fake.canary.on("connection", () => fake.canaryConnections++);
  await new Promise<void>((resolve) => fake.canary.listen(0, "127.0.0.1", resolve));
  const canaryAddr = fake.canary.address();
  fake.canaryUrl = `http://127.0.0.1:${typeof canaryAddr === "object" && canaryAddr ? canaryAddr.port : 0}`;
  const server = fake.server;
  // Uploads of 1–2 GB must not hit Node's default request timeout.
  server.requestTimeout = 0;
  server.on("connection", (s: Socket) => {
    fake.sockets.add(s);
    s.on("close", () => fake.sockets.delete(s));
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    fake.handle(req, res).catch((e: unknown) => {
      const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
      fake.errors.push(msg);
      if (!res.headersSent && !res.destroyed)
        sendJson(res, 500, { detail: `Internal error in the fake: ${String(e)}` });
      else res.destroy();
    });
  });
  server.on("clientError", (_err, socket: Socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  fake.port = typeof addr === "object" && addr ? addr.port : 0;
  fake.url = `http://127.0.0.1:${fake.port}`;
  return fake;
}
