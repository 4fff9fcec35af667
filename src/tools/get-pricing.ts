import { z } from "zod";
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { creditBalance, PermissionError } from "../fal/billing.js";
import { buildPriceReport, formatMoney, formatPrice } from "../fal/pricing.js";
import { errorMessage } from "../util/errors.js";
import { defineTool, orNull, READ_ONLY } from "./define.js";
import { endpointIdSchema } from "./schemas.js";

const MAX_IDS = 50;

/** The ids of both forms (fal's comma list and our array), trimmed and deduplicated: 1 to 50. */
function endpointIdsOf(args: {
  endpoint_id?: string | undefined;
  endpoint_ids?: string[] | undefined;
}): string[] {
  const given = [...(args.endpoint_id?.split(",") ?? []), ...(args.endpoint_ids ?? [])]
    .map((id) => id.trim())
    .filter((id) => id !== "");
  const ids = [...new Set(given)];
  if (ids.length === 0)
    throw new InvalidArgumentError(
      "get_pricing needs endpoint_id (one id or a comma-separated list) or endpoint_ids (a list); none was given.",
      'Call it again with e.g. endpoint_id: "fal-ai/flux/dev".',
    );
  if (ids.length > MAX_IDS)
    throw new InvalidArgumentError(
      `get_pricing takes at most ${MAX_IDS} endpoint ids at once; ${ids.length} were given.`,
      `Ask for the prices in batches of ${MAX_IDS} or fewer.`,
    );
  // The comma form gets the same check as each entry of the list.
  const bad = ids.find((id) => !endpointIdSchema.safeParse(id).success);
  if (bad !== undefined)
    throw new InvalidArgumentError(
      `endpoint_id: "${bad.slice(0, 80)}" is not an endpoint id.`,
      "Endpoint ids look like fal-ai/flux/dev (owner/app[/path]); search_models finds them.",
    );
  return ids;
}

export const getPricing = defineTool({
  name: "get_pricing",
  title: "Get fal model prices",
  description:
    "Unit prices of fal model endpoints (such as $0.025 per image or $0.10 per second of video), with an optional cost estimate for a quantity of units. " +
    "Use it before running paid or long jobs (video, training) to tell the user what it will cost. Needs FAL_KEY; prices reflect the account's discounts. Free to call.",
  inputSchema: z.strictObject({
    endpoint_id: z
      .string()
      .min(3)
      .max(50 * 301)
      .optional()
      .describe(
        'fal\'s form: one endpoint id, or up to 50 separated by commas, e.g. "fal-ai/flux/dev" or "fal-ai/flux/dev,fal-ai/kling-video/v2.1/master/image-to-video". Give this or endpoint_ids.',
      ),
    endpoint_ids: z
      .array(endpointIdSchema.describe("An endpoint id, e.g. fal-ai/flux/dev."))
      .min(1)
      .max(MAX_IDS)
      .optional()
      .describe(
        '1–50 fal endpoint ids as a list, e.g. ["fal-ai/flux/dev", "fal-ai/kling-video/v2.1/master/image-to-video"]. Give this or endpoint_id.',
      ),
    quantity: z
      .number()
      .positive()
      .max(1e9)
      .optional()
      .describe(
        "Units to estimate for each endpoint, in the endpoint's own unit (images, seconds of video, megapixels, …), e.g. 4. Omit for unit prices only.",
      ),
  }),
  outputSchema: z.object({
    prices: z.array(
      z.object({
        endpoint_id: z.string(),
        unit_price: z.number(),
        unit: z.string().describe("What one unit is: image, second, megapixels, …"),
        currency: z.string().describe("ISO 4217, e.g. USD."),
        estimated_cost: z.number().optional().describe("unit_price × quantity, when a quantity was given."),
      }),
    ),
    not_found: z.array(z.string()).describe("Endpoint ids fal has no price for (unknown or private ids)."),
    total_estimated_cost: z
      .number()
      .optional()
      .describe("Sum of the estimates, when they share one currency."),
    currency: z.string().optional(),
    credits: z
      .object({
        balance: orNull(z.number()).describe("The account's credit balance; null when it could not be read."),
        currency: orNull(z.string()),
        note: z
          .string()
          .optional()
          .describe("Why the balance is missing (e.g. the key permission it needs)."),
      })
      .describe("The account's remaining credit, when the key may read it."),
    note: z.string(),
  }),
  annotations: READ_ONLY,
  async handler(args, context) {
    const ids = endpointIdsOf(args);
    const key = context.fal.requireKey("get_pricing");
    const [{ prices }, credits] = await Promise.all([
      context.catalog.pricesOf(ids, key, context.signal),
      readCredits(context.fal.http, key, context.signal),
    ]);
    const report = buildPriceReport(ids, prices, args.quantity);
    if (report.prices.length === 0) {
      throw new NotFoundError(
        `fal has no price for ${ids.map((id) => `"${id}"`).join(", ")}.`,
        "Check the ids (they look like fal-ai/flux/dev); search_models finds the right endpoint_id.",
      );
    }
    const lines = report.prices.map(
      (line) =>
        `${line.endpoint_id}: ${formatPrice(line)}${line.estimated_cost !== undefined ? ` → about ${formatMoney(line.estimated_cost, line.currency)} for ${args.quantity} × ${line.unit}` : ""}`,
    );
    if (report.total_estimated_cost !== undefined && report.prices.length > 1 && report.currency) {
      lines.push(`Total: about ${formatMoney(report.total_estimated_cost, report.currency)}`);
    }
    if (report.not_found.length > 0) {
      lines.push(
        `No price found for: ${report.not_found.join(", ")} (unknown ids? search_models finds the right endpoint_id).`,
      );
    }
    lines.push(
      credits.balance !== null
        ? `Credit balance: ${formatMoney(credits.balance, credits.currency ?? "USD")}.`
        : `Credit balance: not shown (${credits.note ?? "unknown"}).`,
    );
    lines.push(`Note: ${report.note}`);
    return { structuredContent: { ...report, credits }, text: lines.join("\n") };
  },
});

/** The balance, or why it is missing: a pricing answer never fails over it. */
async function readCredits(
  http: Parameters<typeof creditBalance>[0]["http"],
  key: Parameters<typeof creditBalance>[0]["key"],
  signal: AbortSignal,
): Promise<{ balance: number | null; currency: string | null; note?: string }> {
  try {
    const credits = await creditBalance({ http, key, signal });
    if (!credits) return { balance: null, currency: null, note: "fal's billing answer had no balance" };
    return { balance: credits.balance, currency: credits.currency };
  } catch (error) {
    if (signal.aborted) throw error;
    return {
      balance: null,
      currency: null,
      note:
        error instanceof PermissionError
          ? `this key lacks the ${error.permission} permission; a key with the Billing, Read-only or Full preset shows it`
          : `fal's billing API failed: ${errorMessage(error)}`,
    };
  }
}
