import { findBillingEvent } from "../fal/billing.js";
import { errorMessage } from "../util/errors.js";
import type { JobContext } from "./context.js";
import { settleCost, type CostReport } from "./cost-report.js";
import type { JobRecord } from "./store.js";

/**
 * The cost of a completed job, from billed units × unit price and fal's billing event, kept in
 * the job record (so the daily cap counts what was really billed). Never throws: a figure that
 * cannot be read becomes a note.
 */
export async function settleJobCost(
  context: JobContext,
  job: { endpointId: string; requestId: string },
  record: JobRecord | undefined,
  billableUnits: number | null,
): Promise<CostReport> {
  const { fal } = context;
  const submitted = record ? Date.parse(record.submitted_at) : NaN;
  const start = new Date((Number.isFinite(submitted) ? submitted : Date.now() - 86_400_000) - 60_000);
  const report = await settleCost(
    { estimateUsd: record?.estimate_usd, billableUnits: billableUnits ?? undefined },
    {
      unitPrice: async () => {
        const found = await context.catalog.pricesOf(
          [job.endpointId],
          fal.requireKey("Pricing"),
          context.signal,
        );
        return found.prices.find((price) => price.endpoint_id === job.endpointId);
      },
      billingEvent: () =>
        findBillingEvent(
          { http: fal.http, key: fal.requireKey("Reading billing events"), signal: context.signal },
          { endpointId: job.endpointId, requestId: job.requestId, start, end: new Date(Date.now() + 60_000) },
        ),
    },
  );
  if (report.cost_usd !== null && record) {
    await context.jobs
      .update(job.requestId, { cost_usd: report.cost_usd, cost_source: report.cost_source })
      .catch((error: unknown) =>
        context.log(
          "warning",
          `Could not keep the cost of ${job.requestId} in the job record: ${errorMessage(error)}`,
        ),
      );
  }
  return report;
}
