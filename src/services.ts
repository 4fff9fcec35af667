import path from "node:path";
import { createHash } from "node:crypto";
import type { Config } from "./config.js";
import { Catalog } from "./fal/catalog.js";
import { createFal, type Fal } from "./fal/index.js";
import { InFlightSubmits } from "./jobs/in-flight.js";
import { estimateCost, type EstimateAnswer } from "./fal/billing.js";
import { DailyLedger } from "./jobs/ledger.js";
import { Money } from "./jobs/money.js";
import type { PendingApprovals } from "./jobs/spend-gate.js";
import { JobStore } from "./jobs/store.js";
import { CallCounter } from "./util/call-counter.js";
import type { Logger } from "./util/log.js";
import { TtlCache } from "./util/ttl-cache.js";

/**
 * What one server works with, as named services rather than one catch-all: the tools and the
 * job workflow take the one they need. Built by the entry point (and by tests, on the fake of
 * fal); the server factory receives it.
 */
export interface Services {
  readonly config: Config;
  /** This server's logger: its secrets and level belong to it alone. */
  readonly logger: Logger;
  /** HTTP to fal: key, JSON client, official client, redirected fetch. */
  readonly fal: Fal;
  /** Catalog, schemas, prices and docs search, cached in memory for the server's lifetime. */
  readonly catalog: Catalog;
  /** The durable record of submitted jobs (FAL_MCP_STATE_DIR/jobs). */
  readonly jobs: JobStore;
  /** Submit-and-record sections in flight: shutdown waits for them (src/index.ts). */
  readonly inFlight: InFlightSubmits;
  /** Tool calls running (the MCP layer counts them): the job store blocks on a write only when alone. */
  readonly calls: CallCounter;
  /** The money gate before every paid submit: schema check, estimate, caps, approvals. */
  readonly money: Money;
}

export interface CreateServicesOptions {
  config: Config;
  logger: Logger;
  /** The fetch to send requests with; defaults to the platform's. Tests inject their own. */
  fetch?: typeof fetch | undefined;
  /** Approvals offered to callers, shared across the per-request services of HTTP mode. */
  approvals?: PendingApprovals | undefined;
}

export function createServices({ config, logger, fetch, approvals }: CreateServicesOptions): Services {
  // The key this server sends is masked in everything its logger and its redactor see: logs,
  // results, records, saved files (whoever built the services: the entry point, HTTP per caller, tests).
  logger.redactSecret(config.falKey?.reveal());
  const fal = createFal({ config, fetch });
  const catalog = new Catalog({ http: fal.http, config });
  // The record is redacted like every log line: fal may echo the key in an output or a URL.
  const calls = new CallCounter();
  const jobs = new JobStore(config.stateDir, logger, logger.redactor, {
    mayBlock: () => calls.running <= 1,
  });
  return {
    config,
    logger,
    fal,
    catalog,
    jobs,
    inFlight: new InFlightSubmits(),
    calls,
    money: createMoney(config, fal, catalog, jobs, approvals),
  };
}

function createMoney(
  config: Config,
  fal: Fal,
  catalog: Catalog,
  jobs: JobStore,
  approvals: PendingApprovals | undefined,
): Money {
  const estimates = new TtlCache<EstimateAnswer>({ ttlMs: config.catalogTtlSeconds * 1000, maxEntries: 200 });
  return new Money({
    settings: config.money,
    // HTTP mode keeps nothing on disk: there is no record to count a day from. Without a daily
    // cap nothing reads the day's spending, so no call pays for summing it (the records still
    // carry estimate and cost, so a cap set later counts the whole day).
    ledger:
      config.mode === "http" || config.money.maxCostPerDay === undefined
        ? undefined
        : new DailyLedger({
            records: (since) => jobs.recordsSince(since),
            holdsDirectory: path.join(config.stateDir, "spend-holds"),
          }),
    approvals,
    // An approval holds for the caller it was offered to (HTTP callers bring their own keys).
    principal: config.falKey ? createHash("sha256").update(config.falKey.reveal()).digest("hex") : "",
    sources: {
      schema: async (endpointId, signal) => (await catalog.modelSchema(endpointId, signal)).document,
      unitPrice: async (endpointId, signal) => {
        const found = await catalog.pricesOf([endpointId], fal.requireKey("Pricing"), signal);
        return found.prices.find((price) => price.endpoint_id === endpointId);
      },
      // fal's estimate follows the unit price, so it is kept as long as prices are: a repeated
      // call of the same size costs no extra round trip before its submit.
      falEstimate: (endpointId, request, signal) =>
        estimates.get(
          JSON.stringify([endpointId, request]),
          (loadSignal) =>
            estimateCost(
              { http: fal.http, key: fal.requireKey("Estimating a cost"), signal: loadSignal },
              { ...request, endpointId },
            ),
          signal,
        ),
    },
  });
}
