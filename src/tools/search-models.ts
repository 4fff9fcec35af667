import { z } from "zod";
import type { CatalogModel } from "../fal/catalog.js";
import { defineTool, READ_ONLY, orNull } from "./define.js";

export const modelEntrySchema = z.object({
  endpoint_id: z
    .string()
    .describe("The id to pass to get_model_schema, run_model or submit_job, e.g. fal-ai/flux/dev."),
  display_name: z.string(),
  category: orNull(z.string()).describe("e.g. text-to-image; null for endpoints without catalog metadata."),
  description: z.string(),
  status: orNull(z.string()).describe("active or deprecated; null when unknown."),
  tags: z.array(z.string()),
  model_url: z.string().describe("The model's page on fal.ai."),
  thumbnail_url: orNull(z.string()),
});

/** The first sentence of a description, for one-line listings. */
export function firstSentence(text: string, max = 160): string {
  const clean = text.replace(/\s+/g, " ").trim();
  const sentence = /^(.+?[.!?])(?:\s|$)/.exec(clean)?.[1] ?? clean;
  return sentence.length <= max ? sentence : `${sentence.slice(0, max - 1).trimEnd()}…`;
}

export function toModelEntry(model: CatalogModel): z.infer<typeof modelEntrySchema> {
  return {
    endpoint_id: model.endpoint_id,
    display_name: model.display_name,
    category: model.category,
    description: model.description,
    status: model.status,
    tags: model.tags,
    model_url: model.model_url,
    thumbnail_url: model.thumbnail_url,
  };
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
        models: page.models.map(toModelEntry),
        next_cursor: page.next_cursor,
        has_more: page.has_more,
      },
      text: lines.join("\n"),
    };
  },
});
