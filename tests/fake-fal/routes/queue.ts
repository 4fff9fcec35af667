// queue.fal.run (submit, status, status stream, result, cancel) and fal.run (synchronous run).
import { appRoot } from "../catalog.js";
import type { Core, Ctx } from "../core.js";
import { readJson, safeDecode, sendJson, toJsonText } from "../http.js";
import { type FakeJob, queuePosition, queueUrls } from "../jobs.js";
import type { ModelSpec } from "../types.js";

const REQUEST_PATH = /^\/(.+?)\/requests\/([^/]+)(\/status\/stream|\/status|\/cancel|\/response)?\/?$/;

/** fal keeps a result 1 h, or 6 min when it is 10 KB or more, when payload storage is off (§8.5). */
const NO_STORE_RETENTION_MS = 60 * 60_000;
const NO_STORE_LARGE_RETENTION_MS = 6 * 60_000;

/** Request headers worth keeping on a job (lower-cased; auth is never kept). */
function jobHeaders(ctx: Ctx): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.req.headers)) {
    if (k.startsWith("x-fal-") && typeof v === "string") out[k] = v;
  }
  return out;
}

function notFoundApp(core: Core, ctx: Ctx, id: string): void {
  const root = appRoot(id);
  if (core.roots.has(root)) sendJson(ctx.res, 404, { detail: "Not Found" });
  else sendJson(ctx.res, 404, { detail: `Application '${root.split("/").pop() ?? id}' not found` });
}

function lookupModel(core: Core, ctx: Ctx): ModelSpec | null {
  const id = ctx.path.replace(/^\/+|\/+$/g, "");
  const spec = core.models.get(id);
  if (!spec) notFoundApp(core, ctx, id);
  return spec ?? null;
}

export async function handleQueue(core: Core, ctx: Ctx): Promise<void> {
  const { req, res } = ctx;
  const matched = REQUEST_PATH.exec(ctx.path);
  // `…/response` is a result URL only in the response-suffix style (fal's docs disagree, §3.3).
  const m =
    matched && (matched[3] !== "/response" || core.settings.queueUrlStyle === "response-suffix")
      ? matched
      : null;
  if (m) {
    const [, usedRoot = "", requestId = "", op = ""] = m;
    const expectedMethod = op === "/cancel" ? "PUT" : "GET";
    if (req.method !== expectedMethod) {
      sendJson(res, 405, { detail: "Method Not Allowed" });
      return;
    }
    if (!core.authorize(ctx) || !core.requirePermission(ctx, "model:execute", false)) return;
    const job = findJob(core, ctx, usedRoot, safeDecode(requestId));
    if (!job) {
      if (op === "/cancel") sendJson(res, 404, { status: "NOT_FOUND" });
      else sendJson(res, 404, { detail: "Request not found" });
      return;
    }
    if (op === "/status") return status(core, ctx, job);
    if (op === "/status/stream") return statusStream(core, ctx, job);
    if (op === "/cancel") return cancel(core, ctx, job);
    return result(core, ctx, job);
  }
  if (req.method !== "POST") {
    // e.g. a GET on `…/requests/<id>/response`: not a queue route.
    const known = core.models.has(ctx.path.replace(/^\/+|\/+$/g, ""));
    sendJson(res, known ? 405 : 404, { detail: known ? "Method Not Allowed" : "Not Found" });
    return;
  }
  if (!core.authorize(ctx) || !core.requirePermission(ctx, "model:execute", false)) return;
  const spec = lookupModel(core, ctx);
  if (!spec) return;
  const body = await readJson(req, res);
  if (!body.ok) return;
  const job = core.createJob(spec, body.value, "queue", jobHeaders(ctx), true, ctx.key);
  if (job.invalid && core.settings.validateAtSubmit) {
    core.jobs.delete(job.requestId);
    sendJson(res, 422, { detail: job.invalid }, { "x-fal-request-id": job.requestId });
    return;
  }
  sendJson(
    res,
    200,
    {
      status: "IN_QUEUE",
      request_id: job.requestId,
      ...queueUrls(job, core.settings.queueUrlStyle),
      queue_position: queuePosition(job, core.jobs.values(), core.now()),
    },
    { "x-fal-request-id": job.requestId },
  );
}

/** Finds a queue job by id, answering only on its app root; other roots are logged and miss. */
function findJob(core: Core, ctx: Ctx, usedRoot: string, requestId: string): FakeJob | null {
  const job = core.jobs.get(requestId);
  if (job && job.via === "queue" && job.root === usedRoot) return job;
  // In the full-id URL style the fake also answers on the full endpoint id it handed out.
  if (job && job.via === "queue" && core.settings.queueUrlStyle === "full-id" && job.endpointId === usedRoot)
    return job;
  const expected = job ? job.root : core.models.has(usedRoot) ? appRoot(usedRoot) : null;
  if (expected !== null && expected !== usedRoot) {
    core.wrongRootRequests.push({
      method: ctx.req.method ?? "GET",
      path: ctx.path,
      requestId,
      usedRoot,
      expectedRoot: expected,
    });
  }
  return null;
}

function statusBody(
  core: Core,
  job: FakeJob,
  withLogs: boolean,
): { code: number; body: Record<string, unknown> } {
  const state = job.state;
  const body: Record<string, unknown> = {
    status: state,
    request_id: job.requestId,
    ...queueUrls(job, core.settings.queueUrlStyle),
  };
  if (state === "IN_QUEUE") body.queue_position = queuePosition(job, core.jobs.values(), core.now());
  body.logs = withLogs ? job.logs() : null;
  if (state === "COMPLETED") {
    core.ensureOutput(job);
    body.metrics = { inference_time: Math.max(0, job.endAt - job.startAt) / 1000 };
    const failure = job.failure();
    if (failure) {
      body.error = failure.error;
      body.error_type = failure.errorType;
    }
  }
  return { code: state === "COMPLETED" ? 200 : 202, body };
}

const wantsLogs = (ctx: Ctx): boolean => ["1", "true"].includes(ctx.query.get("logs") ?? "");

function status(core: Core, ctx: Ctx, job: FakeJob): void {
  const { code, body } = statusBody(core, job, wantsLogs(ctx));
  sendJson(ctx.res, code, body, { "x-fal-request-id": job.requestId });
}

function statusStream(core: Core, ctx: Ctx, job: FakeJob): void {
  const { res } = ctx;
  res.setHeader("Content-Type", "text/event-stream");
  res.setHeader("Cache-Control", "no-cache");
  res.setHeader("Connection", "keep-alive");
  res.setHeader("x-fal-request-id", job.requestId);
  res.writeHead(200);
  let last = "";
  let sinceKeepAlive = 0;
  const tick = (): boolean => {
    const { body } = statusBody(core, job, wantsLogs(ctx));
    const data = JSON.stringify(body);
    if (data !== last) {
      res.write(`data: ${data}\n\n`);
      last = data;
    } else if ((sinceKeepAlive += 250) >= 15_000) {
      res.write(": keep-alive\n\n");
      sinceKeepAlive = 0;
    }
    return body.status === "COMPLETED";
  };
  if (tick()) {
    res.end();
    return;
  }
  const timer = setInterval(() => {
    if (res.destroyed || tick()) {
      clearInterval(timer);
      core.timers.delete(timer);
      if (!res.destroyed) res.end();
    }
  }, 250);
  core.timers.add(timer);
  res.on("close", () => {
    clearInterval(timer);
    core.timers.delete(timer);
  });
}

function result(core: Core, ctx: Ctx, job: FakeJob): void {
  const { res } = ctx;
  const rid = { "x-fal-request-id": job.requestId };
  if (job.state !== "COMPLETED") {
    sendJson(res, 400, { detail: "Request is still in progress" }, rid);
    return;
  }
  if (core.now() > job.endAt + retentionOf(core, job)) {
    sendJson(res, 404, { detail: "Request result not found. It may have expired." }, rid);
    return;
  }
  const failure = job.failure();
  if (failure) {
    sendJson(res, failure.status, failure.body, { ...rid, ...failure.headers });
    return;
  }
  core.ensureOutput(job);
  sendJson(res, 200, job.output, { ...rid, "x-fal-billable-units": String(job.billableUnits ?? 1) });
}

/** How long a result stays readable: the setting, and fal's short window without payload storage. */
function retentionOf(core: Core, job: FakeJob): number {
  let ms = core.settings.resultRetentionMs ?? Infinity;
  if (!job.storeIo) {
    core.ensureOutput(job);
    const large = job.output !== undefined && toJsonText(job.output).length >= 10 * 1024;
    ms = Math.min(ms, large ? NO_STORE_LARGE_RETENTION_MS : NO_STORE_RETENTION_MS);
  }
  return ms;
}

function cancel(core: Core, ctx: Ctx, job: FakeJob): void {
  const state = job.state;
  const now = core.now();
  if (state === "COMPLETED") {
    sendJson(ctx.res, 400, { status: "ALREADY_COMPLETED" });
    return;
  }
  job.cancelled = true;
  job.cancelledAt = now;
  if (state === "IN_QUEUE") {
    // A queued request is removed from the queue.
    job.cancelEffective = true;
    job.startAt = now;
    job.endAt = now;
  } else if (!core.settings.runningJobsCompleteOnCancel) {
    job.cancelEffective = true;
    job.endAt = now;
  }
  sendJson(ctx.res, 202, { status: "CANCELLATION_REQUESTED" });
}

/** POST fal.run/<id>: runs at once and answers the output (or the model's error) directly. */
export async function handleRun(core: Core, ctx: Ctx): Promise<void> {
  const { req, res } = ctx;
  if (req.method !== "POST") {
    sendJson(res, 405, { detail: "Method Not Allowed" });
    return;
  }
  if (!core.authorize(ctx) || !core.requirePermission(ctx, "model:execute", false)) return;
  const spec = lookupModel(core, ctx);
  if (!spec) return;
  const body = await readJson(req, res);
  if (!body.ok) return;
  const job = core.createJob(spec, body.value, "run", jobHeaders(ctx), true, ctx.key);
  const rid = { "x-fal-request-id": job.requestId };
  const failure = job.failure();
  if (failure) {
    sendJson(res, failure.status, failure.body, { ...rid, ...failure.headers });
    return;
  }
  core.ensureOutput(job);
  sendJson(res, 200, job.output, { ...rid, "x-fal-billable-units": String(job.billableUnits ?? 1) });
}
