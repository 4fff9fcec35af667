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
