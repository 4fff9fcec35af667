// The shape every benchmark row returns: table lines for people, figures for the JSON file.

export interface TableLine {
  /** What is measured, e.g. "spawn → tools/list answered". */
  measure: string;
  /** fal-mcp's figure, formatted. */
  falMcp: string;
  /** The comparison's figure, formatted, with what it is. */
  baseline: string;
  /** Ratio or overhead, formatted. */
  comparison: string;
  /** The target and whether it was met, e.g. "≤ 2× floor: met". */
  target: string;
}

export interface RowResult {
  id: string;
  title: string;
  status: "ok" | "skipped" | "failed";
  /** Why the row was skipped or failed. */
  reason?: string;
  lines: TableLine[];
  /** Raw figures (ms, bytes, ratios) and samples for the JSON file. */
  figures: Record<string, unknown>;
  notes: string[];
  durationMs?: number;
}

export interface RowContext {
  /** The fake of fal's URL (FAL_MCP_BASE_URL). */
  fakeUrl: string;
  /** A scratch folder for output, state and test files; removed at the end. */
  scratch: string;
  /** Fewer runs and smaller files (a smoke run). */
  quick: boolean;
  /** Environment for the server (key, base URL, folders). */
  env: Record<string, string>;
  log(message: string): void;
}

export const verdict = (met: boolean, target: string, by?: string): string =>
  `${target}: ${met ? "met" : `MISSED${by ? ` (${by})` : ""}`}`;

export function skipped(id: string, title: string, reason: string): RowResult {
  return { id, title, status: "skipped", reason, lines: [], figures: {}, notes: [] };
}
