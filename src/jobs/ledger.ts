import { z } from "zod";

/**
 * Today's spending, for FAL_MCP_MAX_COST_PER_DAY. The day is the user's local day (the time zone
 * of this process, as the user's clock shows it). The sum is read from the durable job record,
 * so it holds across restarts and across processes sharing the state folder; calls that passed
 * the gate but are not recorded yet are held as reservations in memory, so two calls at once
 * cannot both slip under the cap within one process.
 *
 * A job counts with its cost afterwards when it is known (billing event, or billed units × unit
 * price), else with its estimate before. A job without either counts as 0 and is reported as
 * such. Failed and unconfirmed submits count too: fal may bill a failed job, and an unconfirmed
 * submit may be running.
 */

/** The money fields of a job record (other fields are not read here). */
export const recordMoneySchema = z.looseObject({
  submitted_at: z.string(),
  endpoint_id: z.string().nullish(),
  /** USD estimated before the submit; null when it could not be estimated. */
  estimate_usd: z.number().nullish(),
  /** USD the job cost, once known. */
  cost_usd: z.number().nullish(),
});

export type RecordMoney = z.output<typeof recordMoneySchema>;

/** `YYYY-MM-DD` of `date` in `timeZone` (default: this process's local zone). */
export function localDay(date: Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(date);
  const part = (type: string) => parts.find((entry) => entry.type === type)?.value ?? "00";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** What one record adds to its day's spending, and whether that figure is only an estimate or unknown. */
export function spentBy(record: RecordMoney): { amount: number; kind: "cost" | "estimate" | "unknown" } {
  if (typeof record.cost_usd === "number" && Number.isFinite(record.cost_usd))
    return { amount: Math.max(0, record.cost_usd), kind: "cost" };
  if (typeof record.estimate_usd === "number" && Number.isFinite(record.estimate_usd))
    return { amount: Math.max(0, record.estimate_usd), kind: "estimate" };
  return { amount: 0, kind: "unknown" };
}

export interface DaySpending {
  day: string;
  /** USD: recorded jobs of the day plus calls under way in this process. */
  spent: number;
  jobs: number;
  /** Jobs of the day whose cost is neither known nor estimated (counted as 0). */
  unknown: number;
}

export interface LedgerOptions {
  /** Money fields of every record that may belong to a day starting at `since` (a superset is fine). */
  records(since: Date): Promise<readonly unknown[]>;
  timeZone?: string | undefined;
  now?: () => Date;
}

export class DailyLedger {
  readonly #options: LedgerOptions;
  readonly #reservations = new Map<number, { day: string; amount: number }>();
  #nextReservation = 0;

  constructor(options: LedgerOptions) {
    this.#options = options;
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  /** Spending of the local day that contains now. */
  async today(): Promise<DaySpending> {
    const now = this.#now();
    const day = localDay(now, this.#options.timeZone);
    // A local day spans at most 26 hours around UTC: read records of the last 50 hours, keep the day's.
    const since = new Date(now.getTime() - 50 * 3600_000);
    let spent = 0;
    let jobs = 0;
    let unknown = 0;
    for (const raw of await this.#options.records(since)) {
      const parsed = recordMoneySchema.safeParse(raw);
      if (!parsed.success) continue;
      const submitted = new Date(parsed.data.submitted_at);
      if (Number.isNaN(submitted.getTime()) || localDay(submitted, this.#options.timeZone) !== day) continue;
      const share = spentBy(parsed.data);
      jobs++;
      spent += share.amount;
      if (share.kind === "unknown") unknown++;
    }
    for (const reservation of this.#reservations.values())
      if (reservation.day === day) spent += reservation.amount;
    return { day, spent, jobs, unknown };
  }

  /**
   * Holds `amount` against today until the call's record is written (or it failed before
   * sending). Returns the release function; call it exactly once.
   */
  reserve(amount: number): () => void {
    const id = this.#nextReservation++;
    this.#reservations.set(id, { day: localDay(this.#now(), this.#options.timeZone), amount });
    return () => {
      this.#reservations.delete(id);
    };
  }
}
