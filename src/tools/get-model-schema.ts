import { z } from "zod";
import { FalResponseError } from "../errors.js";
import { modelPageUrl } from "../fal/catalog.js";
import {
  componentsFor,
  findIoSchemas,
  formatField,
  inlineRefs,
  summarizeObject,
} from "../fal/openapi-summary.js";
import { formatPrice, type UnitPrice } from "../fal/pricing.js";
import { defineTool, READ_ONLY, type ToolContext, orNull, anyJson } from "./define.js";
import { endpointIdSchema } from "./schemas.js";
import { asRecord } from "../util/json.js";

const fieldSchema = z.object({
  name: z.string(),
  type: z
    .string()
    .describe(
      "Readable type, e.g. string, integer, array of string, string enum | object {width: integer, height: integer}.",
    ),
  required: z.boolean(),
  nullable: z.boolean().optional(),
  default: anyJson().optional(),
  enum: z
    .array(z.union([z.string().describe("a text value"), z.number(), z.boolean()]))
    .optional()
    .describe("Allowed values (or presets, when the type is a union)."),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  min_items: z.number().optional(),
  max_items: z.number().optional(),
  description: z.string().optional(),
  accepts: z.string().optional().describe("For media URL fields: what may be passed."),
  example: anyJson().optional(),
});

const priceSchema = z.object({ unit_price: z.number(), unit: z.string(), currency: z.string() });

/** The price of one endpoint for the schema summary; undefined without a key or when pricing fails. */
export async function optionalPrice(
  context: ToolContext,
  endpointId: string,
): Promise<UnitPrice | undefined> {
  const key = context.config.falKey;
  if (!key) return undefined;
  try {
    const prices = await context.catalog.prices([endpointId], key, context.signal);
    return prices.find((price) => price.endpoint_id === endpointId);
  } catch (error) {
    if (context.signal.aborted) throw error;
    // The price is a courtesy here: the schema stands on its own, get_pricing reports failures.
    await context.log(
      "debug",
      `no price for ${endpointId} in get_model_schema: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
}

export const getModelSchema = defineTool({
  name: "get_model_schema",
  title: "Get a fal model's inputs and outputs",
  description:
    "The input parameters (names, types, required, defaults, allowed values, limits, descriptions) and output fields of one fal model endpoint. " +
    "Call it before run_model or submit_job so the input uses the right field names and values. " +
    'detail "summary" (default) is compact; "full" returns the raw Input/Output JSON schemas. Free: no generation cost.',
  inputSchema: z.strictObject({
    endpoint_id: endpointIdSchema.describe(
      "The model's endpoint id, e.g. fal-ai/flux/dev or fal-ai/kling-video/v2.1/master/image-to-video (search_models finds ids).",
    ),
    detail: z
      .enum(["summary", "full"])
      .default("summary")
      .describe(
        '"summary" (default): one entry per field, $refs and unions resolved, in fal\'s display order. "full": the Input and Output JSON schemas with $refs inlined.',
      ),
  }),
  outputSchema: z.object({
    endpoint_id: z.string(),
    display_name: orNull(z.string()),
    category: orNull(z.string()),
    model_url: z.string().describe("The model's page on fal.ai."),
    detail: z.enum(["summary", "full"]),
    source: z.enum(["platform-api", "public-openapi"]).describe("Where the schema came from."),
    input: z.array(fieldSchema).optional().describe("summary: input fields in fal's display order."),
    output: z.array(fieldSchema).optional().describe("summary: output fields."),
    input_schema: z
      .record(z.string(), anyJson())
      .optional()
      .describe("full: the Input JSON schema, $refs inlined."),
    output_schema: z
      .record(z.string(), anyJson())
      .optional()
      .describe("full: the Output JSON schema, $refs inlined."),
    components: z
      .record(z.string(), anyJson())
      .optional()
      .describe("full: schemas still referenced by $ref (recursive ones)."),
    price: priceSchema.optional().describe("Unit price, when a fal key is configured."),
  }),
  annotations: READ_ONLY,
  async handler(args, context) {
    const endpointId = args.endpoint_id.trim();
    const [answer, price] = await Promise.all([
      context.catalog.modelSchema(endpointId, context.signal),
      optionalPrice(context, endpointId),
    ]);
    const io = findIoSchemas(answer.document, endpointId);
    if (!io.input) {
      throw new FalResponseError(
        `fal's schema of ${endpointId} has no Input schema (${answer.source}). See ${modelPageUrl(endpointId)}/api for its inputs.`,
      );
    }
    const metadata = metadataOf(answer.document);
    const displayName = answer.model?.has_metadata ? answer.model.display_name : null;
    const category = answer.model?.category ?? metadata.category ?? null;
    const base = {
      endpoint_id: endpointId,
      display_name: displayName,
      category,
      model_url: modelPageUrl(endpointId),
      detail: args.detail,
      source: answer.source,
      ...(price
        ? { price: { unit_price: price.unit_price, unit: price.unit, currency: price.currency } }
        : {}),
    };
    const header = [
      `${endpointId}${displayName ? ` — ${displayName}` : ""}${category ? ` (${category})` : ""}`,
      `Model page: ${modelPageUrl(endpointId)}`,
      ...(price ? [`Price: ${formatPrice(price)}`] : []),
    ];
    const sourceNote =
      answer.source === "public-openapi"
        ? [`(Schema from fal's public openapi.json: ${answer.fallbackReason ?? "the catalog had none"}.)`]
        : [];

    if (args.detail === "full") {
      const input = inlineRefs(io.input, io.components);
      const output = io.output ? inlineRefs(io.output, io.components) : undefined;
      const unresolved = [...input.unresolved, ...(output?.unresolved ?? [])];
      const components = unresolved.length > 0 ? componentsFor(unresolved, io.components) : undefined;
      const structured = {
        ...base,
        input_schema: asRecord(input.schema),
        ...(output ? { output_schema: asRecord(output.schema) } : {}),
        ...(components ? { components } : {}),
      };
      return {
        structuredContent: structured,
        text: [
          ...header,
          ...sourceNote,
          `Input schema: ${JSON.stringify(structured.input_schema)}`,
          ...(structured.output_schema ? [`Output schema: ${JSON.stringify(structured.output_schema)}`] : []),
          ...(components ? [`Components: ${JSON.stringify(components)}`] : []),
        ].join("\n"),
      };
    }

    const input = summarizeObject(io.input, io.components);
    const output = summarizeObject(io.output, io.components);
    const hasMedia = input.some((field) => field.accepts);
    return {
      structuredContent: { ...base, input, output },
      text: [
        ...header,
        ...sourceNote,
        `Input (${input.length} field${input.length === 1 ? "" : "s"}; only the required ones must be set):`,
        ...input.map(formatField),
        ...(hasMedia
          ? [
              "Media fields (*_url, *_urls) take a public URL, a data: URI, or a local file path that fal-mcp uploads for you.",
            ]
          : []),
        `Output:`,
        ...(output.length > 0 ? output.map(formatField) : ["- (not described by fal)"]),
      ].join("\n"),
    };
  },
});

function metadataOf(document: unknown): { category: string | undefined } {
  const parsed = z
    .looseObject({
      info: z
        .looseObject({ "x-fal-metadata": z.looseObject({ category: z.string().nullish() }).nullish() })
        .nullish(),
    })
    .safeParse(document);
  return {
    category: (parsed.success ? parsed.data.info?.["x-fal-metadata"]?.category : undefined) ?? undefined,
  };
}
