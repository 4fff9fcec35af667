import { z } from "zod";
import type { JobContext, ProgressSink } from "../jobs/context.js";

/**
 * What a handler may use besides its arguments: the job context (config, fal, the call's abort
 * signal, log, roots) and progress, which the MCP layer sends as notifications/progress when the
 * client asked for them. The signal fires when the client cancels the call or its own timeout
 * expires: stop waiting, never cancel a fal job. No MCP SDK types leak in here.
 */
export interface ToolContext extends JobContext, ProgressSink {}

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** Extra content blocks beside the summary text (an inline image preview). */
export type ExtraContent = { type: "image"; data: string; mimeType: string };

export interface ToolOutput<Output> {
  /** Matches the tool's outputSchema. */
  structuredContent: Output;
  /** A short summary a person would want to read (URLs, paths, request id). */
  text: string;
  extraContent?: ExtraContent[];
}

export interface ToolDefinition<
  Input extends z.ZodObject = z.ZodObject,
  Output extends z.ZodObject = z.ZodObject,
> {
  name: string;
  title: string;
  /** When to use the tool and what it costs. */
  description: string;
  inputSchema: Input;
  outputSchema: Output;
  annotations: ToolAnnotations;
  /** Sends a paid job to fal (run_model, submit_job): marked for approval with FAL_MCP_CONFIRM=always. */
  paid?: boolean;
  handler(args: z.output<Input>, context: ToolContext): Promise<ToolOutput<z.input<Output>>>;
}

/** Exists only for type inference: ties handler types to the schemas. */
export function defineTool<Input extends z.ZodObject, Output extends z.ZodObject>(
  definition: ToolDefinition<Input, Output>,
): ToolDefinition<Input, Output> {
  return definition;
}

/** Read-only discovery tools: catalog, schema, pricing, docs, recommendations. */
export const READ_ONLY: ToolAnnotations = Object.freeze({
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
});

/**
 * `schema` or null, advertised as `anyOf` branches with one `type` each: zod's `.nullable()` writes
 * a `type` array (["string","null"]), which clients mapping schemas onto a single-`type` dialect
 * (Gemini's OpenAPI subset) reject. The described null branch keeps zod from merging the two.
 */
export function orNull<T extends z.ZodType>(schema: T): z.ZodUnion<[T, z.ZodNull]> {
  return z.union([schema, z.null().describe("null: not known or not applicable")]);
}

const JSON_TYPES = [
  ["string", "text"],
  ["number", "a number"],
  ["boolean", "true or false"],
  ["null", "null"],
  ["array", "a list"],
  ["object", "an object"],
] as const;

/**
 * Any JSON value (fal's free-form model inputs and outputs). `z.unknown()` advertises `{}`, a schema
 * with no keyword that strict clients flag; this advertises JSON's six types as `anyOf` branches
 * (described, so zod does not merge them into a `type` array) and validates exactly as before.
 */
export function anyJson(): z.ZodUnknown {
  return z.unknown().meta({ anyOf: JSON_TYPES.map(([type, description]) => ({ type, description })) });
}
