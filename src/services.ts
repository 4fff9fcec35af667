import path from "node:path";
import { createHash } from "node:crypto";
import type { Config } from "./config.js";
import { Catalog } from "./fal/catalog.js";
import { createFal, type Fal } from "./fal/index.js";
import { InFlightSubmits } from "./jobs/in-flight.js";
import { estimateCost } from "./fal/billing.js";
import { DailyLedger } from "./jobs/ledger.js";
import { Money } from "./jobs/money.js";
import type { PendingApprovals } from "./jobs/spend-gate.js";
import { JobStore } from "./jobs/store.js";
import type { Logger } from "./util/log.js";

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
  const jobs = new JobStore(config.stateDir, logger, logger.redactor);
  return {
    config,
    logger,
    fal,
    catalog,
    jobs,
    inFlight: new InFlightSubmits(),
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
  return new Money({
    settings: config.money,
    // HTTP mode keeps nothing on disk: there is no record to count a day from.
    ledger:
      config.mode === "http"
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
      falEstimate: (endpointId, request, signal) =>
        estimateCost(
          { http: fal.http, key: fal.requireKey("Estimating a cost"), signal },
          { ...request, endpointId },
        ),
    },
  });
}
