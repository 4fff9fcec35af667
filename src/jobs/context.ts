import type { Config } from "../config.js";
import type { Catalog } from "../fal/catalog.js";
import type { Fal } from "../fal/index.js";
import type { InFlightSubmits } from "./in-flight.js";
import type { Money } from "./money.js";
import type { JobStore } from "./store.js";

export type LogLevel = "debug" | "info" | "warning" | "error";

/** What the job workflow needs from its caller (a tool call); no MCP types. */
export interface JobContext {
  readonly config: Config;
  /** HTTP to fal. */
  readonly fal: Fal;
  /** The durable job record. */
  readonly jobs: JobStore;
  /** Submit-and-record sections shutdown waits for (absent in tests that do not shut down). */
  readonly inFlight?: InFlightSubmits | undefined;
  /** Catalog, schemas, prices, docs search. */
  readonly catalog: Catalog;
  /** The money gate before every paid submit. */
  readonly money: Money;
  /** Who is calling, for approvals of paid calls; absent = a client that cannot show a form. */
  readonly caller?: CallerInfo | undefined;
  /** Fires when the caller stops waiting: stop waiting, never cancel a fal job. */
  readonly signal: AbortSignal;
  /** Mirrors a line to the client's MCP log (when it listens) and to stderr. */
  log(level: LogLevel, message: string): Promise<void>;
  /** Folders the client announced as MCP roots, or undefined when it does not support roots. */
  roots(): Promise<string[] | undefined>;
}

/** The client, as far as approvals of paid calls care. */
export interface CallerInfo {
  /** clientInfo.name as the client sent it. */
  readonly clientName: string | undefined;
  /** The client declared form elicitation (whether it really shows one is decided in jobs/). */
  readonly formElicitation: boolean;
  /** The answer to the approval form asked earlier in this call, with the call fingerprint it was asked for. */
  readonly elicited?:
    { action: "accept" | "decline" | "cancel"; fingerprint: string | undefined } | undefined;
}

/** Where progress goes (notifications/progress when the client asked for them). */
export interface ProgressSink {
  /** `progress` must increase. */
  progress(update: { progress: number; total?: number; message?: string }): Promise<void>;
}

/** progress must increase strictly: one counter per call. */
export class ProgressCounter {
  #value = 0;
  constructor(private readonly sink: ProgressSink) {}
  async step(message: string): Promise<void> {
    this.#value += 1;
    await this.sink.progress({ progress: this.#value, message });
  }
}

/** Keeps the record's status current; a failure to write it never fails the call. */
export async function recordStatus(
  context: JobContext,
  requestId: string,
  status: { status: string; queuePosition?: number | undefined },
): Promise<void> {
  await context.jobs
    .update(requestId, { status: status.status, queue_position: status.queuePosition ?? null })
    .catch(() => undefined);
}
