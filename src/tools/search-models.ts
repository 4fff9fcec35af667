import { z } from "zod";
import type { CatalogModel } from "../fal/catalog.js";
import { defineTool, READ_ONLY, orNull } from "./define.js";

/**
 * One model in an answer, in fal's own shape (`endpoint_id, name, category, description`) and
 * compact: 20 of them stay under 4 KB for clients that show the model the JSON itself.
 */
export const modelEntrySchema = z.object({
  endpoint_id: z
    .string()
    .describe(
      "The id to pass to get_model_schema, run_model or submit_job, e.g. fal-ai/flux/dev. Its page: https://fal.ai/models/<endpoint_id>.",
    ),
  name: z.string(),
  category: orNull(z.string()).describe("e.g. text-to-image; null for endpoints without catalog metadata."),
  description: z.string().describe("The first sentence of fal's description."),
  status: orNull(z.string()).describe("active or deprecated; null when unknown."),
});

/** The first sentence of a description, for one-line listings. */
export function firstSentence(text: string, max = 160): string {
  const clean = text.replace(/\s+/g, " ").trim();
  const sentence = /^(.+?[.!?])(?:\s|$)/.exec(clean)?.[1] ?? clean;
  return sentence.length <= max ? sentence : `${sentence.slice(0, max - 1).trimEnd()}…`;
}

type ModelEntry = z.infer<typeof modelEntrySchema>;

export function toModelEntry(model: CatalogModel, descriptionChars = 140): ModelEntry {
  return {
    endpoint_id: model.endpoint_id,
    name: model.display_name,
    category: model.category,
    description: firstSentence(model.description, descriptionChars),
    status: model.status,
  };
}

/** Room for a page of models in structuredContent (the text keeps the longer lines). */
const ENTRIES_BUDGET_BYTES = 3600;

/** The entries of a page, descriptions shortened (down to 40 characters) until the page fits the budget. */
export function compactEntries(models: readonly CatalogModel[]): ModelEntry[] {
  let entries = models.map((model) => toModelEntry(model));
  for (
    let chars = 120;
    chars >= 40 && Buffer.byteLength(JSON.stringify(entries)) > ENTRIES_BUDGET_BYTES;
    chars -= 20
  )
    entries = models.map((model) => toModelEntry(model, chars));
  return entries;
}

/** `fal-ai/flux/dev — FLUX.1 [dev] (text-to-image): first sentence.` */
export function modelLine(model: CatalogModel): string {
  const category = model.category ? ` (${model.category})` : "";
  const deprecated = model.status === "deprecated" ? " [deprecated]" : "";
  const about = firstSentence(model.description);
  return `${model.endpoint_id} — ${model.display_name}${category}${deprecated}${about ? `: ${about}` : ""}`;
}

export const searchModels = defineTool({
  name: "search_models",
  title: "Search fal models",
  description:
    "Search fal.ai's catalog of generative-media models (image, video, audio, speech, 3D, training) by keyword and/or category. " +
    "Use it to find an endpoint_id before get_model_schema, get_pricing or run_model; recommend_model ranks models for a task instead. " +
    "Free: reads the public catalog, no generation cost. Results are paged: pass next_cursor back as cursor for more.",
  inputSchema: z.strictObject({
    query: z
      .string()
      .max(500)
      .optional()
      .describe(
        'Free-text search over model names, descriptions and categories, e.g. "flux", "upscale", "kling". Omit to list a category.',
      ),
    category: z
      .string()
      .max(100)
      .optional()
      .describe(
        "Only models of this fal category: text-to-image, image-to-image, text-to-video, image-to-video, video-to-video, text-to-audio, audio-to-audio, text-to-speech, speech-to-text, image-to-3d, training, …",
      ),
    status: z
      .enum(["active", "deprecated", "all"])
      .default("active")
      .describe('"active" (default) hides deprecated models; "deprecated" lists only those; "all" both.'),
    limit: z.number().int().min(1).max(100).default(20).describe("Models per page, 1–100. Default 20."),
    cursor: z
      .string()
      .max(1000)
      .optional()
      .describe("The next_cursor of the previous page, to get the next page. Omit for the first page."),
  }),
  outputSchema: z.object({
    models: z.array(modelEntrySchema),
    total_shown: z.number().describe("Models on this page."),
    next_cursor: orNull(z.string()).describe("Pass as cursor to get the next page; null on the last page."),
    has_more: z.boolean(),
  }),
  annotations: READ_ONLY,
  async handler(args, context) {
    const page = await context.catalog.search(
      {
        query: args.query,
        category: args.category,
        status: args.status,
        limit: args.limit,
        cursor: args.cursor,
      },
      context.signal,
    );
    const filters = [
      args.query ? `"${args.query}"` : undefined,
      args.category,
      args.status !== "all" ? args.status : undefined,
    ]
      .filter(Boolean)
      .join(", ");
    const lines =
      page.models.length === 0
        ? [
            `No fal models found${filters ? ` for ${filters}` : ""}. Try fewer or other keywords, another category, or status "all".`,
          ]
        : [
            `${page.models.length} fal model${page.models.length === 1 ? "" : "s"}${filters ? ` for ${filters}` : ""}:`,
            ...page.models.map(modelLine),
          ];
    if (page.has_more && page.next_cursor)
      lines.push(`More results: call search_models again with cursor "${page.next_cursor}".`);
    return {
      structuredContent: {
        models: compactEntries(page.models),
        total_shown: page.models.length,
        next_cursor: page.next_cursor,
        has_more: page.has_more,
      },
      text: lines.join("\n"),
    };
  },
});
