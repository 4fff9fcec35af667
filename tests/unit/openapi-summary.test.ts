import { describe, expect, it } from "vitest";
import {
  componentsFor,
  describeType,
  findIoSchemas,
  formatField,
  inlineRefs,
  MEDIA_URL_HINT,
  MEDIA_URLS_HINT,
  summarizeObject,
} from "../../src/fal/openapi-summary.js";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Shaped like fal's published document for fal-ai/flux/dev (fal-platform-api.md §5). */
function fluxDevDoc(): Record<string, unknown> {
  return {
    openapi: "3.0.4",
    info: {
      title: "Queue OpenAPI for fal-ai/flux/dev",
      "x-fal-metadata": { endpointId: "fal-ai/flux/dev", category: "text-to-image" },
    },
    components: {
      schemas: {
        QueueStatus: {
          type: "object",
          properties: { status: { type: "string", enum: ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"] } },
        },
        FluxDevInput: {
          title: "BaseInput",
          type: "object",
          // Declared out of display order on purpose: x-fal-order-properties decides.
          properties: {
            num_images: {
              title: "Num Images",
              type: "integer",
              default: 1,
              minimum: 1,
              maximum: 4,
              description: "The number of images to generate.",
            },
            prompt: {
              title: "Prompt",
              type: "string",
              description: "The prompt to generate an image from.",
              examples: ["A cat"],
            },
            image_size: {
              title: "Image Size",
              anyOf: [
                ref("ImageSize"),
                { enum: ["square_hd", "square", "portrait_4_3", "landscape_16_9"], type: "string" },
              ],
              default: "landscape_4_3",
              description: "The size of the generated image.",
            },
            seed: {
              title: "Seed",
              anyOf: [{ type: "integer" }, { type: "null" }],
              description: "The same seed gives the same image.",
            },
            guidance_scale: {
              title: "Guidance scale (CFG)",
              type: "number",
              default: 3.5,
              minimum: 1,
              maximum: 20,
            },
            reference_image_url: {
              title: "Reference",
              anyOf: [{ type: "string" }, { type: "null" }],
              description: "An image to follow.",
            },
            mask_urls: {
              type: "array",
              items: { type: "string" },
              minItems: 1,
              maxItems: 3,
              description: "Masks.",
            },
            loras: { type: "array", items: ref("LoraWeight"), default: [], description: "LoRAs to apply." },
            acceleration: { allOf: [ref("Acceleration")], description: "Speed mode." },
          },
          "x-fal-order-properties": [
            "prompt",
            "image_size",
            "num_images",
            "seed",
            "guidance_scale",
            "reference_image_url",
            "mask_urls",
            "loras",
            "acceleration",
          ],
          required: ["prompt"],
        },
        FluxDevOutput: {
          type: "object",
          properties: {
            images: { type: "array", items: ref("Image"), description: "The generated image files info." },
            timings: { type: "object", additionalProperties: { type: "number" } },
            seed: { type: "integer" },
            has_nsfw_concepts: { type: "array", items: { type: "boolean" } },
          },
          "x-fal-order-properties": ["images", "timings", "seed", "has_nsfw_concepts"],
          required: ["images", "seed"],
        },
        ImageSize: {
          type: "object",
          properties: {
            width: { type: "integer", default: 512, maximum: 14142, exclusiveMinimum: 0 },
            height: { type: "integer", default: 512 },
          },
          "x-fal-order-properties": ["width", "height"],
        },
        Image: {
          type: "object",
          properties: {
            url: { type: "string" },
            width: { type: "integer" },
            height: { type: "integer" },
            content_type: { type: "string" },
          },
          required: ["url"],
        },
        LoraWeight: {
          type: "object",
          properties: { path: { type: "string" }, scale: { type: "number", default: 1 } },
          required: ["path"],
        },
        Acceleration: { type: "string", enum: ["none", "regular", "high"], default: "none" },
      },
    },
    paths: {
      "/fal-ai/flux/dev/requests/{request_id}/status": {
        get: { responses: { "200": { content: { "application/json": { schema: ref("QueueStatus") } } } } },
      },
      "/fal-ai/flux/dev": {
        post: {
          requestBody: { required: true, content: { "application/json": { schema: ref("FluxDevInput") } } },
          responses: { "200": { content: { "application/json": { schema: ref("QueueStatus") } } } },
        },
      },
      "/fal-ai/flux/dev/requests/{request_id}": {
        get: { responses: { "200": { content: { "application/json": { schema: ref("FluxDevOutput") } } } } },
      },
    },
  };
}

describe("findIoSchemas", () => {
  it("takes the Input from the POST body and the Output from the result GET, not QueueStatus", () => {
    const io = findIoSchemas(fluxDevDoc(), "fal-ai/flux/dev");
    expect(io.inputName).toBe("FluxDevInput");
    expect(io.outputName).toBe("FluxDevOutput");
    expect(Object.keys((io.input?.properties as object) ?? {})).toContain("prompt");
    expect(Object.keys((io.output?.properties as object) ?? {})).toEqual([
      "images",
      "timings",
      "seed",
      "has_nsfw_concepts",
    ]);
  });

  it("falls back to components named *Input / *Output when paths are missing", () => {
    const doc = fluxDevDoc();
    doc.paths = {};
    const io = findIoSchemas(doc, "fal-ai/flux/dev");
    expect(io.inputName).toBe("FluxDevInput");
    expect(io.outputName).toBe("FluxDevOutput");
  });

  it("copes with a document that is not an object", () => {
    const io = findIoSchemas("nonsense");
    expect(io.input).toBeUndefined();
    expect(io.output).toBeUndefined();
  });
});

describe("summarizeObject on a flux/dev-like schema", () => {
  const io = findIoSchemas(fluxDevDoc(), "fal-ai/flux/dev");
  const fields = summarizeObject(io.input, io.components);
  const byName = new Map(fields.map((field) => [field.name, field]));

  it("lists fields in fal's display order", () => {
    expect(fields.map((field) => field.name)).toEqual([
      "prompt",
      "image_size",
      "num_images",
      "seed",
      "guidance_scale",
      "reference_image_url",
      "mask_urls",
      "loras",
      "acceleration",
    ]);
  });

  it("marks required fields and carries descriptions and examples", () => {
    expect(byName.get("prompt")).toMatchObject({
      type: "string",
      required: true,
      description: "The prompt to generate an image from.",
      example: "A cat",
    });
    expect(byName.get("num_images")).toMatchObject({
      type: "integer",
      required: false,
      default: 1,
      minimum: 1,
      maximum: 4,
    });
  });

  it("describes image_size as the union of presets and {width, height}", () => {
    const size = byName.get("image_size");
    expect(size?.type).toBe("object {width: integer, height: integer} | string enum");
    expect(size?.enum).toEqual(["square_hd", "square", "portrait_4_3", "landscape_16_9"]);
    expect(size?.default).toBe("landscape_4_3");
  });

  it("resolves nullable anyOf to the inner type", () => {
    expect(byName.get("seed")).toMatchObject({ type: "integer", nullable: true, required: false });
    expect(byName.get("reference_image_url")).toMatchObject({ type: "string", nullable: true });
  });

  it("spells out arrays of referenced objects and keeps item limits", () => {
    expect(byName.get("loras")?.type).toBe("array of object {path: string, scale: number}");
    expect(byName.get("mask_urls")).toMatchObject({ type: "array of string", min_items: 1, max_items: 3 });
  });

  it("resolves allOf: [$ref] to an enum with its values and keeps the use-site description", () => {
    expect(byName.get("acceleration")).toMatchObject({
      type: "string enum",
      enum: ["none", "regular", "high"],
      description: "Speed mode.",
      default: "none",
    });
  });

  it("falls back to the title when there is no description", () => {
    expect(byName.get("guidance_scale")?.description).toBe("Guidance scale (CFG)");
  });

  it("adds the media hint to *_url and *_urls fields only", () => {
    expect(byName.get("reference_image_url")?.accepts).toBe(MEDIA_URL_HINT);
    expect(byName.get("mask_urls")?.accepts).toBe(MEDIA_URLS_HINT);
    expect(byName.get("prompt")?.accepts).toBeUndefined();
    expect(MEDIA_URL_HINT).toMatch(/local file path/);
  });

  it("summarises output fields too", () => {
    const output = summarizeObject(io.output, io.components);
    expect(output.map((field) => [field.name, field.type, field.required])).toEqual([
      [
        "images",
        "array of object {url: string, width: integer, height: integer, content_type: string}",
        true,
      ],
      ["timings", "object (map of number)", false],
      ["seed", "integer", true],
      ["has_nsfw_concepts", "array of boolean", false],
    ]);
  });

  it("formats one readable line per field", () => {
    expect(formatField(byName.get("num_images")!)).toBe(
      "- num_images (integer): The number of images to generate. Range 1–4. Default 1.",
    );
    expect(formatField(byName.get("prompt")!)).toBe(
      "- prompt (string, required): The prompt to generate an image from.",
    );
    expect(formatField(byName.get("image_size")!)).toContain(
      "One of: square_hd, square, portrait_4_3, landscape_16_9.",
    );
  });
});

describe("describeType edge cases", () => {
  it("survives dangling and self references", () => {
    const components = {
      Node: { type: "object", properties: { child: ref("Node"), value: { type: "string" } } },
    };
    expect(describeType(ref("Missing"), components)).toBe("Missing");
    // Nested two levels, then named instead of expanded forever.
    expect(describeType(ref("Node"), components)).toMatch(/^object \{child: object \{child: object/);
  });

  it("handles OpenAPI 3.1 type arrays and const", () => {
    expect(describeType({ type: ["string", "null"] }, {})).toBe("string");
    expect(describeType({ const: "fixed" }, {})).toBe('"fixed"');
  });
});

describe("inlineRefs", () => {
  it("inlines references and keeps use-site siblings", () => {
    const io = findIoSchemas(fluxDevDoc(), "fal-ai/flux/dev");
    const { schema, unresolved } = inlineRefs(io.input, io.components);
    expect(unresolved).toEqual([]);
    expect(JSON.stringify(schema)).not.toContain("$ref");
    const props = (
      schema as { properties: Record<string, { anyOf?: unknown[]; description?: string; enum?: unknown }> }
    ).properties;
    expect(props.image_size?.anyOf?.[0]).toMatchObject({
      type: "object",
      properties: { width: { type: "integer" } },
    });
    expect(props.acceleration).toMatchObject({
      allOf: [{ type: "string", enum: ["none", "regular", "high"] }],
      description: "Speed mode.",
    });
  });

  it("leaves recursive references as $ref and reports them, with the components they need", () => {
    const components = {
      Tree: {
        type: "object",
        properties: { children: { type: "array", items: ref("Tree") }, leaf: ref("Leaf") },
      },
      Leaf: { type: "string" },
    };
    const { schema, unresolved } = inlineRefs(ref("Tree"), components);
    expect(unresolved).toEqual(["Tree"]);
    expect(JSON.stringify(schema)).toContain('"$ref":"#/components/schemas/Tree"');
    expect(Object.keys(componentsFor(unresolved, components)).sort()).toEqual(["Leaf", "Tree"]);
  });
});
