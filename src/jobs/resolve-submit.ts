import type { HistoryItem } from "../fal/billing.js";
import { canonicalJson } from "./spend-gate.js";

/**
 * Resolving an unconfirmed submit (the connection broke after the POST was sent, so the job may
 * exist without us knowing its request id) from fal's request history, before the user is told
 * to look at the dashboard (fal-platform-api.md §7.4): the endpoint's requests around the
 * attempt, matched on the input that was sent and on the time fal received them.
 */

export type Resolution =
  | { kind: "found"; requestId: string; matchedBy: "input" | "time" }
  | { kind: "several"; requestIds: string[] }
  | { kind: "none" };

/** fal received the request at most this long before our attempt was recorded (clock skew)… */
const BEFORE_MS = 2 * 60_000;
/** …and at most this long after we started sending it. */
const AFTER_MS = 10 * 60_000;

export interface Attempt {
  /** When the attempt started (the record's submitted_at). */
  submittedAt: Date;
  /** What was sent, in the record's summarised form. */
  inputSummary: unknown;
  /** Request ids already known locally: never resolve to a job that is someone else's record. */
  knownRequestIds?: ReadonlySet<string>;
}

/**
 * Picks the attempt's request among history items. `summarize` turns a stored input into the
 * record's summarised form, so a long prompt cut in the record still matches. Without stored
 * inputs (payload storage off) a single request in a narrow window is taken as the match.
 */
export function matchAttempt(
  attempt: Attempt,
  items: readonly HistoryItem[],
  summarize: (input: unknown) => unknown,
): Resolution {
  const at = attempt.submittedAt.getTime();
  const inWindow = items.filter((item) => {
    if (attempt.knownRequestIds?.has(item.requestId)) return false;
    const received = item.receivedAt ? Date.parse(item.receivedAt) : NaN;
    return Number.isFinite(received) && received >= at - BEFORE_MS && received <= at + AFTER_MS;
  });
  const wanted = canonicalJson(attempt.inputSummary);
  const withInput = inWindow.filter((item) => item.input !== undefined && item.input !== null);
  const byInput = withInput.filter((item) => canonicalJson(summarize(item.input)) === wanted);
  const ids = [...new Set(byInput.map((item) => item.requestId))];
  if (ids.length === 1) return { kind: "found", requestId: ids[0]!, matchedBy: "input" };
  if (ids.length > 1) return { kind: "several", requestIds: ids };
  if (withInput.length === 0) {
    const near = inWindow.filter((item) => Math.abs(Date.parse(item.receivedAt!) - at) <= 60_000);
    const nearIds = [...new Set(near.map((item) => item.requestId))];
    if (nearIds.length === 1) return { kind: "found", requestId: nearIds[0]!, matchedBy: "time" };
    if (nearIds.length > 1) return { kind: "several", requestIds: nearIds };
  }
  return { kind: "none" };
}

export interface ResolveOptions {
  attempt: Attempt;
  /** The endpoint's request history between two instants. */
  history(start: Date, end: Date): Promise<readonly HistoryItem[]>;
  summarize: (input: unknown) => unknown;
  now?: () => Date;
  /** Requests can take a moment to appear: one more look after this delay when the first finds none. */
  retryDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export async function resolveAttempt(options: ResolveOptions): Promise<Resolution> {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const start = new Date(options.attempt.submittedAt.getTime() - BEFORE_MS);
  let resolution = matchAttempt(options.attempt, await options.history(start, now()), options.summarize);
  if (resolution.kind === "none" && (options.retryDelayMs ?? 2000) > 0) {
    await sleep(options.retryDelayMs ?? 2000);
    resolution = matchAttempt(options.attempt, await options.history(start, now()), options.summarize);
  }
  return resolution;
}
