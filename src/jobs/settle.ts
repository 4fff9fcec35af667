import { findBillingEvent } from "../fal/billing.js";
import type { JobContext } from "./context.js";
import { settleCost, type CostReport, type SettleSources } from "./cost-report.js";
import type { JobRecord } from "./store.js";

/**
 * The cost of a completed job, from billed units × unit price and fal's billing event. Never
 * throws: a figure that cannot be read becomes a note. It only reads: the caller keeps the cost in
 * the job record (so the daily cap counts what was really billed), in one write with the files.
 */
export async function lookupJobCost(
  context: JobContext,
  job: { endpointId: string; requestId: string },
  record: JobRecord | undefined,
  billableUnits: number | null,
  sources: SettleSources = costSources(context, job, record),
): Promise<CostReport> {
  return settleCost(
    { estimateUsd: record?.estimate_usd, billableUnits: billableUnits ?? undefined },
    sources,
  );
}

/**
 * The cost's two reads (the unit price, fal's billing event), started now: they need only the
 * job's id, so a caller runs them beside the result fetch instead of after it.
 */
export function costSources(
  context: JobContext,
  job: { endpointId: string; requestId: string },
  record: JobRecord | undefined,
): SettleSources {
  const { fal } = context;
  const submitted = record ? Date.parse(record.submitted_at) : NaN;
  const start = new Date((Number.isFinite(submitted) ? submitted : Date.now() - 86_400_000) - 60_000);
  return {
    unitPrice: started(async () => {
      const found = await context.catalog.pricesOf(
        [job.endpointId],
        fal.requireKey("Pricing"),
        context.signal,
      );
      return found.prices.find((price) => price.endpoint_id === job.endpointId);
    }),
    billingEvent: started(async () =>
      findBillingEvent(
        { http: fal.http, key: fal.requireKey("Reading billing events"), signal: context.signal },
        { endpointId: job.endpointId, requestId: job.requestId, start, end: new Date(Date.now() + 60_000) },
      ),
    ),
  };
}

/** A read started at once; its failure is settleCost's to report (or dropped with the call). */
function started<T>(read: () => Promise<T>): () => Promise<T> {
  const promise = read();
  promise.catch(() => undefined);
  return () => promise;
}
