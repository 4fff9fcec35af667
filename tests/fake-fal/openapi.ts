// Generates a model's OpenAPI 3.0.4 document in the shape fal publishes (see the flux/dev fixture
// described in fal-platform-api.md §5), from the compact field list of the catalog.
import type { FieldSpec, ModelSpec, OutputKind } from "./types.js";

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** `fal-ai/flux/dev` → `FluxDev`: fal names schemas after the path without the owner. */
export function schemaBaseName(endpointId: string): string {
  const parts = endpointId.split("/");
  return parts
    .slice(1)
    .join(" ")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

const title = (name: string): string =>
  name
    .split("_")
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : w))
    .join(" ");

function fieldSchema(field: FieldSpec): Json {
  const base: Json = {};
  if (field.type === "array") {
    base.type = "array";
    base.items = field.items === "object" ? { type: "object" } : { type: field.items ?? "string" };
  } else {
    base.type = field.type;
  }
  if (field.enum && !field.imageSize) base.enum = field.enum;
  if (field.min !== undefined) base.minimum = field.min;
  if (field.max !== undefined) base.maximum = field.max;

  let schema: Json;
  if (field.imageSize) {
    // fal: anyOf [$ref ImageSize, {enum, type: string}]
    schema = { anyOf: [ref("ImageSize"), { enum: field.enum ?? [], type: "string" }] };
  } else if (field.nullable) {
    schema = { anyOf: [base, { type: "null" }] };
  } else {
    schema = base;
  }
  schema = { title: title(field.name), ...schema, description: field.description };
  if (field.default !== undefined) schema.default = field.default;
  if (field.examples) schema.examples = field.examples;
  return schema;
}

const FILE_SCHEMA: Json = {
  title: "File",
  type: "object",
  properties: {
    url: { title: "Url", type: "string", description: "The URL where the file can be downloaded from." },
    content_type: {
      title: "Content Type",
      type: "string",
      description: "The mime type of the file.",
      examples: ["image/png"],
    },
    file_name: {
      title: "File Name",
      type: "string",
      description: "The name of the file. It will be auto-generated if not provided.",
    },
    file_size: { title: "File Size", type: "integer", description: "The size of the file in bytes." },
  },
  "x-fal-order-properties": ["url", "content_type", "file_name", "file_size"],
  required: ["url"],
};

const IMAGE_SCHEMA: Json = {
  title: "Image",
  type: "object",
  description: "Represents an image file.",
  properties: {
    url: { title: "Url", type: "string", description: "The URL where the file can be downloaded from." },
    width: { title: "Width", type: "integer", description: "The width of the image in pixels." },
    height: { title: "Height", type: "integer", description: "The height of the image in pixels." },
    content_type: {
      title: "Content Type",
      type: "string",
      default: "image/jpeg",
      description: "The mime type of the file.",
    },
  },
  "x-fal-order-properties": ["url", "width", "height", "content_type"],
  required: ["url"],
};

const IMAGE_SIZE_SCHEMA: Json = {
  title: "ImageSize",
  type: "object",
  properties: {
    width: {
      title: "Width",
      type: "integer",
      default: 512,
      maximum: 14142,
      exclusiveMinimum: 0,
      description: "The width of the generated image.",
    },
    height: {
      title: "Height",
      type: "integer",
      default: 512,
      maximum: 14142,
      exclusiveMinimum: 0,
      description: "The height of the generated image.",
    },
  },
  "x-fal-order-properties": ["width", "height"],
};

function outputSchema(kind: OutputKind, name: string, inputs: FieldSpec[]): Json {
  const props: Record<string, Json> = {};
  const required: string[] = [];
  const file = (key: string, description: string): void => {
    props[key] = { title: title(key), description, allOf: [ref("File")] };
    required.push(key);
  };
  switch (kind) {
    case "image":
      props.images = {
        title: "Images",
        type: "array",
        items: ref("Image"),
        description: "The generated image files info.",
      };
      props.timings = { title: "Timings", type: "object", additionalProperties: { type: "number" } };
      props.seed = { title: "Seed", type: "integer", description: "Seed of the generated Image." };
      props.has_nsfw_concepts = {
        title: "Has Nsfw Concepts",
        type: "array",
        items: { type: "boolean" },
        description: "Whether the generated images contain NSFW concepts.",
      };
      props.prompt = {
        title: "Prompt",
        type: "string",
        description: "The prompt used for generating the image.",
      };
      required.push("images", "timings", "seed", "has_nsfw_concepts", "prompt");
      break;
    case "image-single":
      props.image = { title: "Image", description: "The resulting image.", allOf: [ref("Image")] };
      props.seed = { title: "Seed", type: "integer" };
      props.timings = { title: "Timings", type: "object", additionalProperties: { type: "number" } };
      required.push("image");
      break;
    case "video":
      file("video", "The generated video.");
      break;
    case "audio":
      file("audio", "The generated audio file.");
      break;
    case "audio-file":
      file("audio_file", "The generated audio clip.");
      break;
    case "mesh":
      file("model_mesh", "Generated 3D mesh file (GLB).");
      props.timings = { title: "Timings", type: "object", additionalProperties: { type: "number" } };
      break;
    case "text":
      props.text = { title: "Text", type: "string", description: "The generated or transcribed text." };
      props.chunks = {
        title: "Chunks",
        type: "array",
        items: { type: "object" },
        description: "Timestamped chunks.",
      };
      required.push("text");
      break;
    case "lora":
      file("diffusers_lora_file", "URL to the trained diffusers LoRA weights.");
      file("config_file", "URL to the training configuration file.");
      break;
    case "echo":
      // The echo model returns its input: same properties.
      for (const field of inputs) props[field.name] = fieldSchema(field);
      break;
    case "fail":
      props.images = { title: "Images", type: "array", items: ref("Image") };
      break;
  }
  return {
    title: `${name}Output`,
    type: "object",
    properties: props,
    "x-fal-order-properties": Object.keys(props),
    required,
  };
}

function inputSchema(spec: ModelSpec, name: string): Json {
  const properties: Record<string, Json> = {};
  for (const field of spec.inputs) properties[field.name] = fieldSchema(field);
  const required = spec.inputs.filter((i) => i.required).map((i) => i.name);
  const schema: Json = {
    title: `${name}Input`,
    type: "object",
    properties,
    "x-fal-order-properties": spec.inputs.map((i) => i.name),
  };
  if (required.length) schema.required = required;
  return schema;
}

const QUEUE_STATUS: Json = {
  type: "object",
  title: "QueueStatus",
  properties: {
    status: { type: "string", enum: ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"] },
    request_id: { type: "string", description: "The request id." },
    response_url: { type: "string", description: "The response url." },
    status_url: { type: "string", description: "The status url." },
    cancel_url: { type: "string", description: "The cancel url." },
    logs: { type: "object", description: "The logs.", additionalProperties: true },
    metrics: { type: "object", description: "The metrics.", additionalProperties: true },
    queue_position: { type: "integer", description: "The queue position." },
  },
  required: ["status", "request_id"],
};

const requestIdParam: Json = {
  name: "request_id",
  in: "path",
  required: true,
  schema: { type: "string", description: "Request ID" },
};

/** The OpenAPI document of one endpoint, as `fal.ai/api/openapi/queue/openapi.json` serves it. */
export function buildOpenApi(spec: ModelSpec): Json {
  const id = spec.endpoint_id;
  const name = schemaBaseName(id);
  const schemas: Record<string, Json> = {
    QueueStatus: QUEUE_STATUS,
    [`${name}Input`]: inputSchema(spec, name),
    [`${name}Output`]: outputSchema(spec.behavior.output, name, spec.inputs),
  };
  if (spec.inputs.some((i) => i.imageSize)) schemas.ImageSize = IMAGE_SIZE_SCHEMA;
  const out = spec.behavior.output;
  if (out === "image" || out === "image-single" || out === "fail") schemas.Image = IMAGE_SCHEMA;
  if (["video", "audio", "audio-file", "mesh", "lora"].includes(out)) schemas.File = FILE_SCHEMA;

  const security = [{ apiKeyAuth: [] }];
  const json = (schema: Json): Json => ({ "application/json": { schema } });
  return {
    openapi: "3.0.4",
    info: {
      title: `Queue OpenAPI for ${id}`,
      version: "1.0.0",
      description: `The OpenAPI schema for the ${id} queue.`,
      "x-fal-metadata": {
        endpointId: id,
        category: spec.metadata.category,
        thumbnailUrl: spec.metadata.thumbnail_url,
        playgroundUrl: `https://fal.ai/models/${id}`,
        documentationUrl: `https://fal.ai/models/${id}/api`,
      },
    },
    components: {
      securitySchemes: {
        apiKeyAuth: { type: "apiKey", in: "header", name: "Authorization", description: "Fal Key" },
      },
      schemas,
    },
    paths: {
      [`/${id}/requests/{request_id}/status`]: {
        get: {
          parameters: [
            requestIdParam,
            {
              name: "logs",
              in: "query",
              required: false,
              schema: {
                type: "number",
                description: "Whether to include logs (`1`) in the response or not (`0`).",
              },
            },
          ],
          responses: { "200": { description: "The request status.", content: json(ref("QueueStatus")) } },
        },
      },
      [`/${id}/requests/{request_id}/cancel`]: {
        put: {
          parameters: [requestIdParam],
          responses: {
            "200": {
              description: "The request was cancelled.",
              content: json({
                type: "object",
                properties: {
                  success: {
                    type: "boolean",
                    description: "Whether the request was cancelled successfully.",
                  },
                },
              }),
            },
          },
        },
      },
      [`/${id}`]: {
        post: {
          requestBody: { required: true, content: json(ref(`${name}Input`)) },
          responses: { "200": { description: "The request status.", content: json(ref("QueueStatus")) } },
        },
      },
      [`/${id}/requests/{request_id}`]: {
        get: {
          parameters: [requestIdParam],
          responses: {
            "200": { description: "Result of the request.", content: json(ref(`${name}Output`)) },
          },
        },
      },
    },
    servers: [{ url: "https://queue.fal.run" }],
    security,
  };
}
