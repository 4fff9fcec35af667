import { cancelJob } from "./cancel-job.js";
import { checkJob } from "./check-job.js";
import type { ToolDefinition } from "./define.js";
import { getJobResult } from "./get-job-result.js";
import { getModelSchema } from "./get-model-schema.js";
import { getPricing } from "./get-pricing.js";
import { recommendModel } from "./recommend-model.js";
import { runModel } from "./run-model.js";
import { searchDocs } from "./search-docs.js";
import { searchModels } from "./search-models.js";
import { submitJob } from "./submit-job.js";
import { uploadFile } from "./upload-file.js";

/**
 * The tool registry, in the order tools/list shows them: fal's hosted MCP server's eleven tools,
 * with its names, argument names and order, so prompts, skills and docs written for it carry
 * over. A test pins this list and its annotations.
 */
export const tools: readonly ToolDefinition[] = [
  searchModels,
  getModelSchema,
  getPricing,
  searchDocs,
  recommendModel,
  runModel,
  submitJob,
  checkJob,
  getJobResult,
  cancelJob,
  uploadFile,
];
