import { z } from "zod";
import { FalApiError } from "../errors.js";
import type { Secret } from "../secret.js";
import { PLATFORM_API } from "./catalog.js";
import type { FalHttpClient } from "./http.js";

/**
 * fal's money APIs on api.fal.ai/v1 (fal-platform-api.md §6.2, §7.2–7.4, §7.9): the cost
 * estimate, per-request billing events, the credit balance and the request history. Each answer
 * is read leniently; a 403 becomes a PermissionError naming the key permission that is missing,
 * so callers can degrade (say which figure could not be read) instead of failing a paid answer.
 */

export interface BillingClientOptions {
  http: FalHttpClient;
  key: Secret;
  signal?: AbortSignal | undefined;
}

/** A Platform API answered 403: the key lacks `permission`. Never retried. */
export class PermissionError extends FalApiError {
  override name = "PermissionError";
  readonly permission: string;
  constructor(permission: string, what: string, cause: FalApiError) {
    super({
      status: 403,
      requestId: cause.requestId,
      errorType: cause.errorType,
      message: `fal refused to show ${what}: this key lacks the "${permission}" permission (HTTP 403).`,
      nextStep: `To see ${what}, use a key created with the Billing, Read-only or Full preset (it includes ${permission}) at https://fal.ai/dashboard/keys. Running models works without it.`,
    });
    this.permission = permission;
  }
}

/**
 * How long a refused permission is remembered. A key's permissions come from the preset it was
 * created with, and run_model reads the billing event of every job it completes: without this, a
 * key made with fal's API preset (the usual key, without billing:usage:read) sent fal one request
 * per job that fal refused. Minutes, not the process's life, in case a key's permissions change.
 */
export const REFUSAL_MEMORY_MS = 10 * 60_000;

/**
 * Refusals by permission, per http client. createFal builds one client per key (one for a stdio
 * process, one per request in HTTP mode), so a refusal is only ever applied to the key it was for.
 */
type Refusals = Map<string, { cause: FalApiError; until: number }>;
const refusals = new WeakMap<FalHttpClient, Refusals>();

/** Throws the PermissionError of a refusal of `permission` this client's key got lately, if any. */
function throwIfRefused(options: BillingClientOptions, permission: string, what: string): void {
  const known = refusals.get(options.http)?.get(permission);
  if (known && Date.now() < known.until) throw new PermissionError(permission, what, known.cause);
}

/** A 403 as a PermissionError, remembered for the key; any other error as it is. */
function withPermission(
  options: BillingClientOptions,
  error: unknown,
  permission: string,
  what: string,
): unknown {
  if (!(error instanceof FalApiError && error.status === 403)) return error;
  // A locked account (balance exhausted) is refused too, until it is topped up: not remembered.
  if (!/locked|balance/i.test(error.message)) {
    let known = refusals.get(options.http);
    if (!known) refusals.set(options.http, (known = new Map() as Refusals));
    known.set(permission, { cause: error, until: Date.now() + REFUSAL_MEMORY_MS });
  }
  return new PermissionError(permission, what, error);
}

const money = z.union([z.number(), z.string()]).nullish();

function toNumber(value: number | string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  const number = typeof value === "number" ? value : Number(value);
  return Number.isFinite(number) ? number : undefined;
}

// ---------------------------------------------------------------- estimate (§6.2)

const estimateSchema = z.looseObject({ total_cost: money, currency: z.string().nullish() });

export type EstimateRequest =
  | { kind: "unit_price"; endpointId: string; unitQuantity: number }
  | { kind: "historical_api_price"; endpointId: string; callQuantity: number };

export interface EstimateAnswer {
  totalCost: number;
  currency: string;
}

/** fal's own estimate: unit price × quantity, or its historical average price per call. */
export async function estimateCost(
  options: BillingClientOptions,
  request: EstimateRequest,
): Promise<EstimateAnswer> {
  const body =
    request.kind === "unit_price"
      ? {
          estimate_type: "unit_price",
          endpoints: { [request.endpointId]: { unit_quantity: Math.max(0.000001, request.unitQuantity) } },
        }
      : {
          estimate_type: "historical_api_price",
          endpoints: {
            [request.endpointId]: { call_quantity: Math.max(1, Math.round(request.callQuantity)) },
          },
        };
  const response = await options.http.request({
    method: "POST",
    url: `${PLATFORM_API}/models/pricing/estimate`,
    what: `the cost estimate for ${request.endpointId}`,
    key: options.key,
    body,
    // An estimate changes nothing on fal: safe to retry.
    idempotent: true,
    schema: estimateSchema,
    signal: options.signal,
  });
  const total = toNumber(response.data.total_cost);
  if (total === undefined || total < 0) {
    throw new FalApiError({
      status: response.status,
      message: `fal's cost estimate for ${request.endpointId} had no usable total_cost.`,
    });
  }
  return { totalCost: total, currency: response.data.currency?.trim() || "USD" };
}

// ---------------------------------------------------------------- billing events (§7.2)

const billingEventSchema = z.looseObject({
  request_id: z.string().nullish(),
  endpoint_id: z.string().nullish(),
  timestamp: z.string().nullish(),
  unit_quantity: money,
  quantity: money,
  cost_subtotal: money,
  cost_discount: money,
  cost_total: money,
  cost_estimate_nano_usd: money,
  currency: z.string().nullish(),
});

/** The list sits under one of these keys depending on the API version; all are accepted. */
const billingEventsSchema = z.looseObject({
  billing_events: z.array(z.unknown()).nullish(),
  events: z.array(z.unknown()).nullish(),
  items: z.array(z.unknown()).nullish(),
  data: z.array(z.unknown()).nullish(),
  next_cursor: z.string().nullish(),
  has_more: z.boolean().nullish(),
});

export interface BillingEvent {
  requestId: string;
  endpointId: string | undefined;
  timestamp: string | undefined;
  units: number | undefined;
  /** USD after discounts: cost_total, else cost_estimate_nano_usd / 1e9. */
  costTotal: number | undefined;
}

export const BILLING_PERMISSION = "billing:usage:read";
const BILLING_EVENTS_WHAT = "what each job cost (billing events)";
export const REQUESTS_PERMISSION = "models:requests:read";

/** The billing event of one request, looked up by endpoint over a window; undefined when fal has none (yet). */
export async function findBillingEvent(
  options: BillingClientOptions,
  query: { endpointId: string; requestId: string; start: Date; end: Date },
): Promise<BillingEvent | undefined> {
  throwIfRefused(options, BILLING_PERMISSION, BILLING_EVENTS_WHAT);
  let cursor: string | undefined;
  // Billing data lags by minutes and a busy endpoint has many events: a few pages are enough.
  for (let page = 0; page < 5; page++) {
    let data: z.output<typeof billingEventsSchema>;
    try {
      const response = await options.http.request({
        method: "GET",
        url: `${PLATFORM_API}/models/billing-events`,
        what: "billing events",
        key: options.key,
        query: {
          endpoint_id: query.endpointId,
          request_id: query.requestId,
          start: query.start.toISOString(),
          end: query.end.toISOString(),
          limit: 100,
          cursor,
        },
        idempotent: true,
        schema: billingEventsSchema,
        signal: options.signal,
      });
      data = response.data;
    } catch (error) {
      throw withPermission(options, error, BILLING_PERMISSION, BILLING_EVENTS_WHAT);
    }
    const list = data.billing_events ?? data.events ?? data.items ?? data.data ?? [];
    for (const raw of list) {
      const parsed = billingEventSchema.safeParse(raw);
      if (!parsed.success || parsed.data.request_id !== query.requestId) continue;
      const event = parsed.data;
      const nano = toNumber(event.cost_estimate_nano_usd);
      return {
        requestId: query.requestId,
        endpointId: event.endpoint_id ?? undefined,
        timestamp: event.timestamp ?? undefined,
        units: toNumber(event.unit_quantity) ?? toNumber(event.quantity),
        costTotal: toNumber(event.cost_total) ?? (nano === undefined ? undefined : nano / 1e9),
      };
    }
    if (!data.has_more || !data.next_cursor) return undefined;
    cursor = data.next_cursor;
  }
  return undefined;
}

// ---------------------------------------------------------------- credits (§7.3)

const billingSchema = z.looseObject({
  credits: z.looseObject({ current_balance: money, currency: z.string().nullish() }).nullish(),
});

export interface CreditBalance {
  balance: number;
  currency: string;
}

/** The account's credit balance; undefined when fal's answer holds none. */
export async function creditBalance(options: BillingClientOptions): Promise<CreditBalance | undefined> {
  throwIfRefused(options, BILLING_PERMISSION, "the credit balance");
  try {
    const response = await options.http.request({
      method: "GET",
      url: `${PLATFORM_API}/account/billing`,
      what: "the credit balance",
      key: options.key,
      query: { expand: "credits" },
      idempotent: true,
      schema: billingSchema,
      signal: options.signal,
    });
    const balance = toNumber(response.data.credits?.current_balance);
    if (balance === undefined) return undefined;
    return { balance, currency: response.data.credits?.currency?.trim() || "USD" };
  } catch (error) {
    throw withPermission(options, error, BILLING_PERMISSION, "the credit balance");
  }
}

// ---------------------------------------------------------------- request history (§7.4)

const historyItemSchema = z.looseObject({
  request_id: z.string(),
  endpoint_id: z.string().nullish(),
  started_at: z.string().nullish(),
  sent_at: z.string().nullish(),
  ended_at: z.string().nullish(),
  status_code: z.number().nullish(),
  json_input: z.unknown().optional(),
});

const historySchema = z.looseObject({
  items: z.array(z.unknown()).nullish(),
  requests: z.array(z.unknown()).nullish(),
  data: z.array(z.unknown()).nullish(),
  next_cursor: z.string().nullish(),
  has_more: z.boolean().nullish(),
});

export interface HistoryItem {
  requestId: string;
  endpointId: string | undefined;
  /** When fal received it: sent_at, else started_at. */
  receivedAt: string | undefined;
  statusCode: number | undefined;
  /** The stored input, when payloads were asked for and stored. */
  input: unknown;
}

/** Requests to one endpoint in a time window, newest pages first, with their inputs when fal stored them. */
export async function requestHistory(
  options: BillingClientOptions,
  query: { endpointId: string; start: Date; end: Date; maxPages?: number },
): Promise<HistoryItem[]> {
  throwIfRefused(options, REQUESTS_PERMISSION, "the request history");
  const items: HistoryItem[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < (query.maxPages ?? 3); page++) {
    let data: z.output<typeof historySchema>;
    try {
      const response = await options.http.request({
        method: "GET",
        url: `${PLATFORM_API}/models/requests/by-endpoint`,
        what: "the request history",
        key: options.key,
        query: {
          endpoint_id: query.endpointId,
          start: query.start.toISOString(),
          end: query.end.toISOString(),
          expand: "payloads",
          limit: 100,
          cursor,
        },
        idempotent: true,
        schema: historySchema,
        signal: options.signal,
      });
      data = response.data;
    } catch (error) {
      throw withPermission(options, error, REQUESTS_PERMISSION, "the request history");
    }
    for (const raw of data.items ?? data.requests ?? data.data ?? []) {
      const parsed = historyItemSchema.safeParse(raw);
      if (!parsed.success) continue;
      items.push({
        requestId: parsed.data.request_id,
        endpointId: parsed.data.endpoint_id ?? undefined,
        receivedAt: parsed.data.sent_at ?? parsed.data.started_at ?? undefined,
        statusCode: parsed.data.status_code ?? undefined,
        input: parsed.data.json_input,
      });
    }
    if (!data.has_more || !data.next_cursor) break;
    cursor = data.next_cursor;
  }
  return items;
}
