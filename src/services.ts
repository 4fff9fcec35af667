import type { Config } from "./config.js";
import { Catalog } from "./fal/catalog.js";
import { createFal, type Fal } from "./fal/index.js";
import { InFlightSubmits } from "./jobs/in-flight.js";
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
}

export interface CreateServicesOptions {
  config: Config;
  logger: Logger;
  /** The fetch to send requests with; defaults to the platform's. Tests inject their own. */
  fetch?: typeof fetch | undefined;
}

export function createServices({ config, logger, fetch }: CreateServicesOptions): Services {
  // The key this server sends is masked in everything its logger and its redactor see: logs,
  // results, records, saved files (whoever built the services: the entry point, HTTP per caller, tests).
  logger.redactSecret(config.falKey?.reveal());
  const fal = createFal({ config, fetch });
  return {
    config,
    logger,
    fal,
    catalog: new Catalog({ http: fal.http, config }),
    // The record is redacted like every log line: fal may echo the key in an output or a URL.
    jobs: new JobStore(config.stateDir, logger, logger.redactor),
    inFlight: new InFlightSubmits(),
  };
}
