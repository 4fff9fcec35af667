/**
 * fal's eleven tool names, in tools/list order: a contract (prompts written for fal's hosted server
 * carry over). Tests compare the server against this list; they never derive it from the registry.
 */
export const TOOL_NAMES = [
  "search_models",
  "get_model_schema",
  "get_pricing",
  "search_docs",
  "recommend_model",
  "run_model",
  "submit_job",
  "check_job",
  "get_job_result",
  "cancel_job",
  "upload_file",
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];
