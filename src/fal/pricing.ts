import { z } from "zod";

/** One endpoint's unit price, as `GET /v1/models/pricing` gives it. */
export interface UnitPrice {
  endpoint_id: string;
  unit_price: number;
  /** What one unit is: image, second, megapixels, 1000 characters, … */
  unit: string;
  /** ISO 4217, e.g. USD. */
  currency: string;
}

/** fal's pricing answer. `prices` is required, so an answer of another shape is an error, not "no price". */
export const pricesResponseSchema = z.looseObject({
  prices: z.array(
    z.looseObject({
      endpoint_id: z.string().nullish(),
      unit_price: z.union([z.number(), z.string()]).nullish(),
      unit: z.string().nullish(),
      currency: z.string().nullish(),
    }),
  ),
  next_cursor: z.string().nullish(),
  has_more: z.boolean().nullish(),
});

/** Reads fal's pricing answer leniently: entries without an id or a numeric price are skipped. */
export function parsePrices(data: z.output<typeof pricesResponseSchema>): {
  prices: UnitPrice[];
  next_cursor: string | null;
  has_more: boolean;
} {
  const prices: UnitPrice[] = [];
  for (const entry of data.prices) {
    const price = typeof entry.unit_price === "string" ? Number(entry.unit_price) : entry.unit_price;
    if (!entry.endpoint_id || price === null || price === undefined || !Number.isFinite(price)) continue;
    prices.push({
      endpoint_id: entry.endpoint_id,
      unit_price: price,
      unit: entry.unit?.trim() || "unit",
      currency: entry.currency?.trim() || "USD",
    });
  }
  return { prices, next_cursor: data.next_cursor ?? null, has_more: data.has_more ?? false };
}

export interface PriceLine extends UnitPrice {
  estimated_cost?: number;
}

export interface PriceReport {
  prices: PriceLine[];
  /** Ids fal gave no price for (unknown, private, or free). */
  not_found: string[];
  total_estimated_cost?: number;
  currency?: string;
  note: string;
}

/** Rounds money to a tenth of a cent's hundredth: enough for unit prices like 0.00111. */
export function roundMoney(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** Prices in the order asked, with `unit_price × quantity` estimates when a quantity is given. */
export function buildPriceReport(
  endpointIds: readonly string[],
  prices: readonly UnitPrice[],
  quantity?: number,
): PriceReport {
  const byId = new Map(prices.map((price) => [price.endpoint_id, price]));
  const lines: PriceLine[] = [];
  const notFound: string[] = [];
  for (const id of new Set(endpointIds)) {
    const price = byId.get(id);
    if (!price) {
      notFound.push(id);
      continue;
    }
    lines.push(
      quantity === undefined
        ? { ...price }
        : { ...price, estimated_cost: roundMoney(price.unit_price * quantity) },
    );
  }
  const report: PriceReport = {
    prices: lines,
    not_found: notFound,
    note: "fal lists one unit price per endpoint; variants priced by resolution, duration, audio or mode are not expressed, so estimates are approximate. Prices may reflect your account's discounts.",
  };
  const currencies = new Set(lines.map((line) => line.currency));
  if (currencies.size === 1) report.currency = lines[0]?.currency;
  if (quantity !== undefined && currencies.size === 1) {
    report.total_estimated_cost = roundMoney(
      lines.reduce((sum, line) => sum + (line.estimated_cost ?? 0), 0),
    );
    if (lines.length > 1) report.note += ` The total assumes ${quantity} units of each endpoint.`;
  }
  return report;
}

/** `$0.025 per image` */
export function formatPrice(price: UnitPrice): string {
  const amount =
    price.currency === "USD"
      ? `$${formatNumber(price.unit_price)}`
      : `${formatNumber(price.unit_price)} ${price.currency}`;
  return `${amount} per ${price.unit}`;
}

export function formatMoney(value: number, currency: string): string {
  return currency === "USD" ? `$${formatNumber(value)}` : `${formatNumber(value)} ${currency}`;
}

function formatNumber(value: number): string {
  return String(roundMoney(value));
}
