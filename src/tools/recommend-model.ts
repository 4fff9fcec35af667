import { z } from "zod";
import type { CatalogModel } from "../fal/catalog.js";
import { formatPrice, type UnitPrice } from "../fal/pricing.js";
import { CATEGORIES, inferCategory, rankModels, taskKeywords } from "../fal/recommend.js";
import { defineTool, READ_ONLY, type ToolContext, orNull } from "./define.js";

// Words that name a modality: they match most models of a category, so they make poor searches.
const GENERIC_WORDS = new Set(
  "image images picture pictures photo photos video videos audio sound clip text speech voice model generate generation animate animation art".split(
    " ",
  ),
);

/** Up to three words worth a catalog search, most distinctive first. */
export function searchWords(keywords: readonly string[]): string[] {
  const specific = keywords.filter((word) => !GENERIC_WORDS.has(word) && word.length > 2);
  return (specific.length > 0 ? specific : keywords.filter((word) => word.length > 2)).slice(0, 3);
}

async function pricesFor(context: ToolContext, ids: string[]): Promise<Map<string, UnitPrice>> {
  const key = context.config.falKey;
  if (!key || ids.length === 0) return new Map();
  try {
    const { prices } = await context.catalog.pricesOf(ids, key, context.signal);
    return new Map(prices.map((price) => [price.endpoint_id, price]));
  } catch (error) {
    if (context.signal.aborted) throw error;
    // Prices are a courtesy here: the ranking stands without them (get_pricing reports failures).
    await context.log(
      "debug",
      `recommend_model: no prices (${error instanceof Error ? error.message : String(error)})`,
    );
    return new Map();
  }
}

export const recommendModel = defineTool({
  name: "recommend_model",
  title: "Recommend fal models for a task",
  description:
    'Suggests the best fal models for a task described in plain words ("animate this photo", "transcribe a podcast", "logo for a bakery"), ranked from the live catalog, with a one-line reason each and the unit price when FAL_KEY is set. ' +
    "The category is inferred from the task unless given. Use it when the user has not named a model; then get_model_schema on the pick. Free: no generation cost.",
  inputSchema: z.strictObject({
    task: z
      .string()
      .trim()
      .min(1)
      .max(1000)
      .describe(
        'What the user wants to make or do, in plain words, e.g. "turn this product photo into a 5-second video". 1–1000 characters.',
      ),
    category: z
      .enum(CATEGORIES)
      .optional()
      .describe(`Restrict to one fal category: ${CATEGORIES.join(", ")}. Omit to infer it from the task.`),
    limit: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(5)
      .describe("How many models to recommend, 1–20. Default 5."),
  }),
  outputSchema: z.object({
    recommendations: z.array(
      z.object({
        endpoint_id: z.string(),
        display_name: z.string(),
        category: orNull(z.string()),
        reason: z.string().describe("Why it was picked, in one line."),
        unit_price: z.number().optional(),
        unit: z.string().optional(),
        currency: z.string().optional(),
      }),
    ),
    inferred_category: z
      .string()
      .optional()
      .describe("The category inferred from the task, when none was given."),
    category_source: z.enum(["given", "inferred", "none"]),
  }),
  annotations: READ_ONLY,
  async handler(args, context) {
    const inference = args.category ? undefined : inferCategory(args.task);
    const category = args.category ?? inference?.category;
    const categorySource: "given" | "inferred" | "none" = args.category
      ? "given"
      : inference
        ? "inferred"
        : "none";
    const keywords = taskKeywords(args.task);
    const words = searchWords(keywords);
    const catalog = context.catalog;
    const signal = context.signal;

    const searches: Promise<CatalogModel[]>[] = [];
    if (category)
      searches.push(
        catalog.search({ category, status: "active", limit: 100 }, signal).then((page) => page.models),
      );
    for (const word of words) {
      searches.push(
        catalog
          .search({ query: word, category, status: "active", limit: 30 }, signal)
          .then((page) => page.models),
      );
    }
    let candidates = (await Promise.all(searches)).flat();
    if (candidates.length === 0 && !category) {
      // Nothing in the task matched a model: fal's own listing of active models is the fallback.
      candidates = (await catalog.search({ status: "active", limit: 50 }, signal)).models;
    }
    const ranked = rankModels(candidates, {
      keywords,
      category,
      categoryNote: args.category ? "given" : inference ? `inferred from '${inference.matched}'` : undefined,
      limit: args.limit,
    });
    const prices = await pricesFor(
      context,
      ranked.map((entry) => entry.model.endpoint_id),
    );
    const recommendations = ranked.map(({ model, reason }) => {
      const price = prices.get(model.endpoint_id);
      return {
        endpoint_id: model.endpoint_id,
        display_name: model.display_name,
        category: model.category,
        reason,
        ...(price ? { unit_price: price.unit_price, unit: price.unit, currency: price.currency } : {}),
      };
    });

    const lines: string[] = [];
    const categoryText = category
      ? `${category} (${args.category ? "given" : `inferred from '${inference?.matched ?? ""}'`})`
      : "any category (none inferred from the task)";
    if (recommendations.length === 0) {
      lines.push(
        `No active fal models found for ${categoryText}. Try search_models with other keywords, or another category.`,
      );
    } else {
      lines.push(
        `Recommended fal models for "${args.task.length > 80 ? `${args.task.slice(0, 79)}…` : args.task}" — ${categoryText}:`,
      );
      for (const [index, entry] of ranked.entries()) {
        const price = prices.get(entry.model.endpoint_id);
        lines.push(
          `${index + 1}. ${entry.model.endpoint_id} — ${entry.model.display_name}${price ? ` — ${formatPrice(price)}` : ""}: ${entry.reason}`,
        );
      }
      lines.push("Next: get_model_schema with the chosen endpoint_id to see its inputs.");
      if (!context.config.falKey) lines.push("(Prices need FAL_KEY; get_pricing shows them once it is set.)");
    }
    return {
      structuredContent: {
        recommendations,
        ...(inference ? { inferred_category: inference.category } : {}),
        category_source: categorySource,
      },
      text: lines.join("\n"),
    };
  },
});
