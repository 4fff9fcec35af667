// Small statistics and formatting helpers for the benchmark table.

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const ms = (value: number): string =>
  Number.isFinite(value) ? (value < 10 ? value.toFixed(2) : value.toFixed(1)) + " ms" : "n/a";
/** A difference in ms with its sign: "+1.20 ms", "−0.35 ms". */
export const signedMs = (value: number): string => `${value < 0 ? "−" : "+"}${ms(Math.abs(value))}`;
export const mib = (bytes: number): string =>
  Number.isFinite(bytes) ? (bytes / 1048576).toFixed(1) + " MiB" : "n/a";
export const mibps = (bytesPerSecond: number): string =>
  Number.isFinite(bytesPerSecond) ? (bytesPerSecond / 1048576).toFixed(0) + " MiB/s" : "n/a";
export const ratio = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) + "×" : "n/a");

/** Runs `fn` `times` times in sequence and returns the results. */
export async function repeat<T>(times: number, fn: (index: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < times; i++) out.push(await fn(i));
  return out;
}
