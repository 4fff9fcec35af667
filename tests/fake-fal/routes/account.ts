// api.fal.ai account data: request history (§7.4), billing events (§7.2) and the credit balance
// (§7.3), each behind the key permission fal documents for it (§7.9).
import type { Core, Ctx } from "../core.js";
import { platformError, sendJson } from "../http.js";
import type { FakeJob } from "../jobs.js";
import { DAY_MS, multi, page, paging, timeWindow } from "./params.js";

const iso = (t: number): string => new Date(t).toISOString();
const money = (usd: number): number => Math.round(usd * 1e9) / 1e9;

/** What a job was charged, or null when it is not billed (not done, failed, cancelled). */
export function billedCost(
  core: Core,
  job: FakeJob,
): { units: number; unitPrice: number; unit: string; cost: number } | null {
  if (job.state !== "COMPLETED") return null;
  // 5xx failures are never billed; a 422 "may be billed if GPU time was spent" [fal docs]. The
  // fake bills neither failures nor cancelled jobs (a choice; fal's exact rule is [unverified]).
  if (job.failure()) return null;
  const spec = core.models.get(job.endpointId);
  if (!spec) return null;
  core.ensureOutput(job);
  const units = job.billableUnits ?? 1;
  return {
    units,
    unitPrice: spec.price.unit_price,
    unit: spec.price.unit,
    cost: money(units * spec.price.unit_price),
  };
}

/**
 * Jobs whose billing event is visible now (completed at least billingEventLagMs ago), of `jobs`
 * (every job by default).
 */
function billedJobs(
  core: Core,
  jobs: Iterable<FakeJob> = core.jobs.values(),
): { job: FakeJob; cost: NonNullable<ReturnType<typeof billedCost>> }[] {
  const now = core.now();
  const out = [];
  for (const job of jobs) {
    if (job.state !== "COMPLETED" || now < job.endAt + core.settings.billingEventLagMs) continue;
    const cost = billedCost(core, job);
    if (cost) out.push({ job, cost });
  }
  return out;
}

export function handleAccount(core: Core, ctx: Ctx, p: string): boolean {
  const method = ctx.req.method ?? "GET";
  if (method !== "GET") return false;
  if (p === "/v1/models/requests/by-endpoint") {
    if (core.authorize(ctx, true) && core.requirePermission(ctx, "models:requests:read")) history(core, ctx);
    return true;
  }
  if (p === "/v1/models/billing-events") {
    if (core.authorize(ctx, true) && core.requirePermission(ctx, "billing:usage:read"))
      billingEvents(core, ctx);
    return true;
  }
  if (p === "/v1/account/billing") {
    if (core.authorize(ctx, true) && core.requirePermission(ctx, "billing:usage:read")) credits(core, ctx);
    return true;
  }
  return false;
}

/**
 * GET /v1/models/billing-events. Non-cost field names, the list key `billing_events`, the
 * parameter names and the 24 h default window are [unverified] (§7.2); the cost fields are fal's.
 */
function billingEvents(core: Core, ctx: Ctx): void {
  const q = ctx.query;
  const ids = new Set(multi(q, "endpoint_id"));
  const requestId = q.get("request_id");
  const win = timeWindow(ctx, core.now(), DAY_MS);
  if (!win.ok) return;
  const pg = paging(ctx, 100, 10_000);
  if (!pg.ok) return;
  // A request id names at most one job: looked up, not scanned for, as a warehouse would index it.
  // A scan prices every job the fake ever ran, which made each lookup cost the fake (on the same
  // cores as the server under test) more the longer a test or benchmark ran.
  const candidates = requestId ? [core.jobs.get(requestId)].filter((job) => job !== undefined) : undefined;
  const events = billedJobs(core, candidates)
    .filter(({ job }) => !ids.size || ids.has(job.endpointId))
    .filter(({ job }) => job.endAt >= win.start && job.endAt <= win.end)
    .sort((a, b) => b.job.endAt - a.job.endAt)
    .map(({ job, cost }) => ({
      request_id: job.requestId,
      endpoint_id: job.endpointId,
      timestamp: iso(job.endAt),
      unit: cost.unit,
      quantity: cost.units,
      unit_price: cost.unitPrice,
      cost_subtotal: cost.cost,
      cost_discount: 0,
      cost_total: cost.cost,
      cost_estimate_nano_usd: Math.round(cost.cost * 1e9),
      currency: "USD",
    }));
  sendJson(ctx.res, 200, { ...page(events, pg, "billing_events"), as_of: iso(core.now()) });
}

/** GET /v1/account/billing[?expand=credits]: the balance is the setting minus what was billed. */
function credits(core: Core, ctx: Ctx): void {
  const body: Record<string, unknown> = { username: "fake-user" };
  if (multi(ctx.query, "expand").includes("credits")) {
    const spent = billedJobs(core).reduce((s, b) => s + b.cost.cost, 0);
    body.credits = { current_balance: money(core.settings.creditBalance - spent), currency: "USD" };
  }
  sendJson(ctx.res, 200, body);
}

/**
 * GET /v1/models/requests/by-endpoint. Every job the fake created appears (including those whose
 * submit answer a fault dropped), historyLagMs after it arrived. The list key `items` is
 * [unverified]; sorting is not modelled (newest first).
 */
function history(core: Core, ctx: Ctx): void {
  const q = ctx.query;
  const ids = multi(q, "endpoint_id");
  if (!ids.length) return void platformError(ctx.res, 400, "validation_error", "endpoint_id is required");
  if (ids.length > 50)
    return void platformError(ctx.res, 400, "validation_error", "endpoint_id accepts at most 50 values");
  const status = q.get("status");
  if (status !== null && !["success", "error", "user_error"].includes(status))
    return void platformError(
      ctx.res,
      400,
      "validation_error",
      "status must be one of: success, error, user_error",
    );
  const requestId = q.get("request_id");
  // The default window is the last 24 h, widened to 90 days when request_id is given.
  const win = timeWindow(ctx, core.now(), requestId ? 90 * DAY_MS : DAY_MS);
  if (!win.ok) return;
  const pg = paging(ctx, 50);
  if (!pg.ok) return;
  const payloads = multi(q, "expand").includes("payloads");
  const wanted = new Set(ids);
  const now = core.now();
  const items = [];
  for (const job of [...core.jobs.values()].reverse()) {
    if (!wanted.has(job.endpointId) || (requestId && job.requestId !== requestId)) continue;
    if (now < job.createdAt + core.settings.historyLagMs) continue;
    if (job.createdAt < win.start || job.createdAt > win.end) continue;
    const done = job.state === "COMPLETED";
    if (done) core.ensureOutput(job);
    const failure = done ? job.failure() : null;
    const code = done ? (failure ? failure.status : 200) : null;
    const kind =
      code === null ? null : code < 400 ? "success" : code < 500 && code !== 499 ? "user_error" : "error";
    if (status && kind !== status) continue;
    const item: Record<string, unknown> = {
      request_id: job.requestId,
      endpoint_id: job.endpointId,
      sent_at: iso(job.createdAt),
      started_at: now >= job.startAt ? iso(job.startAt) : null,
      ended_at: done ? iso(job.endAt) : null,
      status_code: code,
      duration: done ? Math.max(0, job.endAt - job.startAt) / 1000 : null,
    };
    if (payloads) {
      // X-Fal-Store-IO: 0 means fal kept no payloads to return (inference, §7.4).
      item.json_input = job.storeIo ? job.input : null;
      item.json_output = job.storeIo && done ? (failure ? failure.body : job.output) : null;
    }
    items.push(item);
  }
  sendJson(ctx.res, 200, page(items, pg, "items"));
}
