import { clampDepth, MAX_JSON_DEPTH, valueDepth } from "../util/json-bounds.js";
import type { Redactor } from "../util/redact-deep.js";
import { fitResult, type ResultBudget } from "../util/result-budget.js";

/**
 * The last step of every tool result before it leaves the process: the key removed from all of
 * it (text, structuredContent, strings and keys alike: fal can echo the key anywhere), depth
 * bounded, and the whole result fitted into the client's budget. What does not fit is kept in
 * full in a JSON file (stdio mode) and replaced by a short summary that names the file; in HTTP
 * mode, where nothing is written, the summary says so.
 */

export interface GuardedParts {
  text: string;
  structuredContent?: Record<string, unknown> | undefined;
  images: { data: string; mimeType: string }[];
}

export interface ResultGuardOptions {
  redactor: Redactor;
  budget: ResultBudget;
  /** Writes the full (already redacted) result JSON and returns its path; absent in HTTP mode. */
  spill?: ((json: string) => Promise<string>) | undefined;
}

export async function guardResult(parts: GuardedParts, options: ResultGuardOptions): Promise<GuardedParts> {
  const { redactor } = options;
  let structured = parts.structuredContent ? redactor.value(parts.structuredContent) : undefined;
  if (structured && valueDepth(structured, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
    structured = clampDepth(structured, MAX_JSON_DEPTH) as Record<string, unknown>;
  const redacted: GuardedParts = {
    text: redactor.text(parts.text),
    structuredContent: structured,
    images: parts.images,
  };
  // Try without a note first: most results fit as they are.
  const trial = fitResult({ ...redacted, structured }, options.budget, "");
  if (!trial.shortened)
    return { text: trial.text, structuredContent: trial.structured, images: trial.images };

  let note: string;
  if (options.spill) {
    try {
      const file = await options.spill(
        JSON.stringify({ text: redacted.text, structuredContent: structured }, null, 1),
      );
      note = `This result was too large to show in full (FAL_MCP_MAX_RESULT_BYTES). The full result is saved in ${file}; long values above are shortened.`;
    } catch (error) {
      note = `This result was too large to show in full (FAL_MCP_MAX_RESULT_BYTES), and it could not be saved to a file (${redactor.text(error instanceof Error ? error.message : String(error))}); long values above are shortened. check_job / get_job_result return it again from the job record.`;
    }
  } else {
    note =
      "This result was too large to show in full (FAL_MCP_MAX_RESULT_BYTES); long values above are shortened. In HTTP mode nothing is written to disk: fetch the job's result again for the full output.";
  }
  const fitted = fitResult({ ...redacted, structured }, options.budget, note);
  const dropped =
    fitted.droppedImages > 0 ? `\n(The inline preview was left out to stay within the budget.)` : "";
  return { text: fitted.text + dropped, structuredContent: fitted.structured, images: fitted.images };
}
