import { animatePhoto } from "./animate-photo.js";
import { compareModels } from "./compare-models.js";
import type { PromptDefinition } from "./define.js";
import { productShot } from "./product-shot.js";

export type { PromptDefinition, PromptMessage } from "./define.js";

/** The prompt registry, in the order prompts/list shows them. */
export const prompts: readonly PromptDefinition[] = [productShot, animatePhoto, compareModels];
