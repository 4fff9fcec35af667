import { PermissionError, type BillingEvent } from "../fal/billing.js";
import { formatMoney, roundMoney, type UnitPrice } from "../fal/pricing.js";

/**
 * The money lines of a paid answer: the estimate made before the submit, and what the job cost
 * afterwards (billed units × unit price, and fal's own billing-event `cost_total` where the key
 * may read it). Missing figures degrade to a note saying which and why; they never fail the answer.
 */

export interface CostReport {
  /** USD estimated before the submit; null when unknown or not recorded. */
  estimate_usd: number | null;
  /** Billed units (x-fal-billable-units), when fal sent them. */
  billed_units: number | null;
  unit: string | null;
  unit_price: number | null;
  /** billed_units × unit_price. */
  units_cost_usd: number | null;
  /** fal's billing event cost_total, when readable and already there. */
  billed_cost_usd: number | null;
  /** The best figure: fal's cost_total, else units × price; null when neither is known. */
  cost_usd: number | null;
  cost_source: "billing-event" | "billed-units" | null;
  /** Why a figure is missing. */
  notes: string[];
}

export interface SettleSources {
  unitPrice(): Promise<UnitPrice | undefined>;
  billingEvent(): Promise<BillingEvent | undefined>;
}

function why(error: unknown): string {
  if (error instanceof PermissionError) return `the key lacks the ${error.permission} permission`;
  return error instanceof Error ? error.message : String(error);
}

/** Billed units × unit price, in the price's currency; undefined without both. */
export function costFromUnits(
  billableUnits: number | undefined,
  price: UnitPrice | undefined,
): number | undefined {
  if (billableUnits === undefined || !price || !Number.isFinite(billableUnits)) return undefined;
  return roundMoney(billableUnits * price.unit_price);
}

export async function settleCost(
  known: { estimateUsd: number | null | undefined; billableUnits: number | undefined },
  sources: SettleSources,
): Promise<CostReport> {
  const notes: string[] = [];
  let price: UnitPrice | undefined;
  try {
    price = await sources.unitPrice();
  } catch (error) {
    notes.push(`The unit price could not be read (${why(error)}).`);
  }
  const units = known.billableUnits;
  const unitsCost = costFromUnits(units, price);
  if (units === undefined) notes.push("fal sent no billed units with this result.");

  let event: BillingEvent | undefined;
  try {
    event = await sources.billingEvent();
    if (!event) notes.push("fal's billing record of this job is not there yet (it can lag by minutes).");
  } catch (error) {
    notes.push(`fal's billing record could not be read (${why(error)}).`);
  }
  const billed = event?.costTotal;
  const cost = billed ?? unitsCost;
  return {
    estimate_usd: known.estimateUsd ?? null,
    billed_units: units ?? null,
    unit: price?.unit ?? null,
    unit_price: price?.unit_price ?? null,
    units_cost_usd: unitsCost ?? null,
    billed_cost_usd: billed ?? null,
    cost_usd: cost ?? null,
    cost_source: billed !== undefined ? "billing-event" : unitsCost !== undefined ? "billed-units" : null,
    notes,
  };
}

/** "Cost: $0.05 (2 image × $0.025; fal's billing says $0.05). Estimated before: $0.05." */
export function describeCost(report: CostReport): string {
  const parts: string[] = [];
  if (report.cost_usd !== null) {
    const detail: string[] = [];
    if (report.units_cost_usd !== null && report.unit_price !== null)
      detail.push(`${report.billed_units} ${report.unit} × ${formatMoney(report.unit_price, "USD")}`);
    if (report.billed_cost_usd !== null)
      detail.push(`fal's billing says ${formatMoney(report.billed_cost_usd, "USD")}`);
    parts.push(
      `Cost: ${formatMoney(report.cost_usd, "USD")}${detail.length > 0 ? ` (${detail.join("; ")})` : ""}.`,
    );
  } else {
    parts.push("Cost: not known yet.");
  }
  parts.push(
    report.estimate_usd !== null
      ? `Estimated before: ${formatMoney(report.estimate_usd, "USD")}.`
      : "Estimated before: unknown.",
  );
  if (report.cost_usd === null && report.notes.length > 0) parts.push(report.notes.join(" "));
  return parts.join(" ");
}
