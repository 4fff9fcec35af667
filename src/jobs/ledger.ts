import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

/**
 * Today's spending, for FAL_MCP_MAX_COST_PER_DAY. The day is the user's local day (the time zone
 * of this process, as the user's clock shows it). The sum is read from the durable job record,
 * so it holds across restarts and across processes sharing the state folder. A call that passed
 * the gate but is not recorded yet is held as a reservation: in memory for this process, and as
 * a small hold file under the state folder for the others. The hold is written BEFORE the
 * spending is read, so two calls at once (in one process or two) cannot both slip under the cap:
 * at worst both see each other and one is refused that would have fitted.
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
  /** Folder of the hold files other processes sharing the state folder see; none: in memory only. */
  holdsDirectory?: string | undefined;
  timeZone?: string | undefined;
  now?: () => Date;
}

/** A call's amount held against its day until it is recorded. */
export interface Reservation {
  readonly id: number;
  /** Call after the call's record is written (or it failed before sending); later calls do nothing. */
  release(): Promise<void>;
}

/** A hold older than this belongs to a process that died mid-call (a submit takes far less). */
const STALE_HOLD_MS = 6 * 3600_000;
/** More hold files than this are not read (they would be calls under way at once). */
const MAX_HOLD_FILES = 1000;

const holdSchema = z.object({ day: z.string(), amount: z.number().finite().nonnegative() });

export class DailyLedger {
  readonly #options: LedgerOptions;
  readonly #reservations = new Map<number, { day: string; amount: number }>();
  #nextReservation = 0;
  /** This process's hold files start with it; they are counted from memory, not read back. */
  readonly #token = randomBytes(6).toString("hex");

  constructor(options: LedgerOptions) {
    this.#options = options;
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  /** Spending of the local day that contains now, without the reservation `except` (the caller's own). */
  async today(options: { except?: Reservation | undefined } = {}): Promise<DaySpending> {
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
    for (const [id, reservation] of this.#reservations)
      if (reservation.day === day && id !== options.except?.id) spent += reservation.amount;
    spent += await this.#othersHeld(day);
    return { day, spent, jobs, unknown };
  }

  /**
   * Holds `amount` against today until the call's record is written (or it failed before
   * sending); other processes sharing the state folder see it once this resolves.
   */
  async reserve(amount: number): Promise<Reservation> {
    const id = this.#nextReservation++;
    const day = localDay(this.#now(), this.#options.timeZone);
    this.#reservations.set(id, { day, amount });
    const file = await this.#writeHold(id, day, amount);
    let released = false;
    return {
      id,
      release: async () => {
        if (released) return;
        released = true;
        this.#reservations.delete(id);
        if (file) await fs.rm(file, { force: true }).catch(() => {});
      },
    };
  }

  async #writeHold(id: number, day: string, amount: number): Promise<string | undefined> {
    const directory = this.#options.holdsDirectory;
    if (!directory || amount <= 0) return undefined;
    const file = path.join(directory, `${this.#token}-${id}.json`);
    // Written aside and renamed, so another process never reads half a hold.
    const temp = path.join(directory, `.${this.#token}-${id}.tmp`);
    try {
      await fs.mkdir(directory, { recursive: true });
      await fs.writeFile(temp, JSON.stringify({ day, amount }));
      await fs.rename(temp, file);
      return file;
    } catch {
      // An unwritable state folder: the in-memory hold still guards this process, and the job
      // record (which counts for everyone) cannot be written either.
      await fs.rm(temp, { force: true }).catch(() => {});
      return undefined;
    }
  }

  /** The day's amounts held by other processes' calls under way. */
  async #othersHeld(day: string): Promise<number> {
    const directory = this.#options.holdsDirectory;
    if (!directory) return 0;
    const names = await fs.readdir(directory).catch(() => [] as string[]);
    let held = 0;
    for (const name of names.slice(0, MAX_HOLD_FILES)) {
      if (!name.endsWith(".json") || name.startsWith(".") || name.startsWith(`${this.#token}-`)) continue;
      const file = path.join(directory, name);
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat) continue; // released meanwhile
      // File times are the wall clock's, whatever clock the ledger is given.
      if (Date.now() - stat.mtimeMs > STALE_HOLD_MS) {
        await fs.rm(file, { force: true }).catch(() => {});
        continue;
      }
      const text = await fs.readFile(file, "utf8").catch(() => undefined);
      let parsed;
      try {
        parsed = text === undefined ? undefined : holdSchema.safeParse(JSON.parse(text));
      } catch {
        parsed = undefined;
      }
      if (parsed?.success && parsed.data.day === day) held += parsed.data.amount;
    }
    return held;
  }
}
