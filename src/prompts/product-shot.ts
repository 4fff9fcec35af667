import { z } from "zod";
import { CONFIRM_COST, definePrompt, localFileStep, userMessage } from "./define.js";

export const productShot = definePrompt({
  name: "product_shot",
  title: "Product shot",
  description:
    "A studio-quality product photo from a description, or from a photo of the product: picks a model, checks the price, runs it and saves the image.",
  argsSchema: z.object({
    product: z.string().min(1).describe("What the product is, e.g. 'a matte black ceramic coffee mug'."),
    setting: z
      .string()
      .optional()
      .describe("Scene and style, e.g. 'white seamless studio background, soft shadows'."),
    photo_path: z
      .string()
      .optional()
      .describe("Absolute path of a photo of the real product to keep its look (optional)."),
  }),
  messages: ({ product, setting, photo_path }) =>
    userMessage(
      `Make a product shot of ${product}${setting ? `, ${setting}` : ", on a clean studio background with soft, even light"}.`,
      "Steps, with fal-mcp's tools:",
      [
        photo_path
          ? "1. recommend_model with a task like 'edit a product photo into a studio product shot' (image-to-image or image-editing); search_models if you need more candidates."
          : "1. recommend_model with a task like 'photorealistic product photography' (text-to-image); search_models if you need more candidates.",
        "2. get_model_schema for the endpoint you pick, to learn its input fields (prompt, image size or aspect ratio, number of images).",
        `3. get_pricing for that endpoint. ${CONFIRM_COST}`,
        "4. run_model with the endpoint_id and an input that follows the schema: one image, a detailed prompt naming the product, the background, the lighting and the camera angle.",
        "5. If the answer's status is IN_QUEUE or IN_PROGRESS, call check_job with its request_id until it is COMPLETED; never run the model again for the same shot.",
        "6. Tell me what was made: the saved file path, its size and dimensions, the request_id and the cost.",
      ].join("\n"),
      photo_path && localFileStep(photo_path),
    ),
});
