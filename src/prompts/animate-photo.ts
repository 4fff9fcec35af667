import { z } from "zod";
import { CONFIRM_COST, definePrompt, localFileStep, userMessage } from "./define.js";

export const animatePhoto = definePrompt({
  name: "animate_photo",
  title: "Animate a photo",
  description:
    "Turns a still photo into a short video with an image-to-video model: submits the job, follows it, saves the video.",
  argsSchema: z.object({
    photo_path: z.string().min(1).describe("Absolute path of the photo (or an https URL)."),
    motion: z
      .string()
      .optional()
      .describe("What should move and how, e.g. 'slow push-in, hair moving in the wind'."),
    duration_seconds: z
      .string()
      .optional()
      .describe("Video length in seconds, e.g. '5' (the model's default when empty)."),
  }),
  messages: ({ photo_path, motion, duration_seconds }) =>
    userMessage(
      `Animate this photo into a short video${motion ? `: ${motion}` : " with subtle, natural motion"}${duration_seconds ? `, about ${duration_seconds} seconds long` : ""}.`,
      /^https?:\/\//.test(photo_path) ? `The photo is at ${photo_path}.` : localFileStep(photo_path),
      "Steps, with fal-mcp's tools:",
      [
        "1. search_models with category image-to-video (or recommend_model with the task) and pick one endpoint.",
        "2. get_model_schema for it: find the image field (image_url or similar), the prompt, and the duration and aspect ratio options.",
        `3. get_pricing for it; video is usually priced per second, so multiply by the duration. ${CONFIRM_COST}`,
        "4. submit_job with the endpoint_id and the input (video takes minutes; do not use run_model and do not submit twice).",
        "5. check_job with the request_id to follow the job until it is COMPLETED; wait between checks.",
        "6. get_job_result with the request_id to fetch the video and save it.",
        "7. Tell me the saved path, the duration, the request_id and the cost.",
      ].join("\n"),
    ),
});
