/** Human-readable figures for messages. */

/** "512 B", "1.5 KiB", "120 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** "1.5 s", "30 s": budgets are often below 10 s in tests and settings. */
export function formatSeconds(ms: number): string {
  return `${ms < 10_000 && ms % 1000 !== 0 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)} s`;
}

/** ANSI/VT escape sequences (CSI, OSC, and single-character escapes). */
// eslint-disable-next-line no-control-regex -- matching terminal escapes is the point
const ESCAPES = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g;

/**
 * Text that came from a model or from fal, made safe to show on one line: escape sequences and
 * control or format characters removed, any whitespace run (newlines included) made one space,
 * and cut at `maxChars` with "…". Only the first 4 × maxChars characters are ever read.
 */
export function oneLine(text: string, maxChars: number): string {
  const cleaned = text
    .slice(0, maxChars * 4)
    .replace(ESCAPES, " ")
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, " ")
    .replace(/[\p{Cf}\p{Co}\p{Cs}]/gu, "")
    .replace(/\s+/g, " ")
    .trim();
  return cleaned.length > maxChars ? `${cleaned.slice(0, maxChars - 1).trimEnd()}…` : cleaned;
}

/** "4.2 s", "12 s", "2 min 5 s", "1 h 3 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 10) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const total = Math.round(seconds);
  if (total < 3600) return `${Math.floor(total / 60)} min${total % 60 ? ` ${total % 60} s` : ""}`;
  const minutes = Math.round(total / 60);
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ""}`;
}
