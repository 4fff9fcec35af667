import { z } from "zod";
import { CONFIRM_COST, definePrompt, userMessage } from "./define.js";

export const compareModels = definePrompt({
  name: "compare_models",
  title: "Compare models on one prompt",
  description:
    "Runs the same prompt on a few fal models side by side and reports cost, time and where each result was saved.",
  argsSchema: z.object({
    prompt: z.string().min(1).describe("The prompt every model gets."),
    category: z
      .string()
      .optional()
      .describe("fal category, e.g. text-to-image (default), text-to-video, text-to-speech."),
    models: z
      .string()
      .optional()
      .describe("Comma-separated endpoint ids to compare; empty to let the assistant pick three."),
  }),
  messages: ({ prompt, category, models }) =>
    userMessage(
      `Compare fal models on this prompt: "${prompt}".`,
      models
        ? `Use these endpoints: ${models}.`
        : `Pick three well-known endpoints in the ${category ?? "text-to-image"} category with search_models (or recommend_model), with different price points.`,
      "Steps, with fal-mcp's tools:",
      [
        "1. get_model_schema for each endpoint, so each input uses that model's own field names; keep the settings comparable (same size or aspect ratio, one output each).",
        `2. get_pricing with all the endpoint ids at once (comma-separated), and show me the expected cost of each and the total. ${CONFIRM_COST}`,
        "3. Run each one: run_model for images and speech; for video, submit_job for each, then check_job until COMPLETED and get_job_result. Run every model once: never resubmit a job that is still running.",
        "4. Report a table: endpoint, cost, time taken, saved file path, and one line on how the result differs. Name which one you would pick and why.",
      ].join("\n"),
    ),
});
