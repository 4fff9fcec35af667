import type { z } from "zod";

/**
 * An MCP prompt, SDK-free: the MCP layer registers each one with `registerPrompt(name, {title,
 * description, argsSchema}, (args) => ({ messages: messages(args) }))`. Claude Desktop lists prompts
 * in its "+" menu; the text tells the assistant which fal-mcp tools to call, in which order.
 */
export interface PromptDefinition<Args extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  /** Prompt arguments arrive as strings (MCP prompt arguments are string-valued). */
  argsSchema: Args;
  messages(args: z.output<Args>): PromptMessage[];
}

export interface PromptMessage {
  role: "user" | "assistant";
  content: { type: "text"; text: string };
}

/** Keeps the argument type of each prompt (the registry array widens it). */
export function definePrompt<Args extends z.ZodObject>(
  prompt: PromptDefinition<Args>,
): PromptDefinition<Args> {
  return prompt;
}

/** One user message made of paragraphs; empty paragraphs (an optional argument not given) are left out. */
export function userMessage(...paragraphs: (string | false | undefined)[]): PromptMessage[] {
  const text = paragraphs.filter((paragraph): paragraph is string => Boolean(paragraph)).join("\n\n");
  return [{ role: "user", content: { type: "text", text } }];
}

/** The money rule every prompt repeats: the price is known and accepted before a paid call. */
export const CONFIRM_COST =
  "Before any paid call, call get_pricing for the endpoint, tell me the expected cost in US dollars, and wait for my go-ahead.";

/** How a local file gets to fal. */
export function localFileStep(path: string): string {
  return `My file is at ${path}. Pass that absolute path as the value of the model's URL field (for example image_url): fal-mcp uploads it to fal's CDN first. If the model needs a URL before the run, call upload_file with the path. Note that an uploaded file becomes a public URL.`;
}
