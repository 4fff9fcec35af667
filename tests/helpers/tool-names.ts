/**
 * fal's nine tool names, in tools/list order: a contract (prompts written for fal's hosted server
 * carry over). Tests compare the server against this list; they never derive it from the registry.
 */
export const TOOL_NAMES = [
  "search_models",
  "get_model_schema",
  "get_pricing",
  "search_docs",
  "run_model",
  "submit_job",
  "check_job",
  "upload_file",
  "recommend_model",
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];
