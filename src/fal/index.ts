import type { FalClient } from "@fal-ai/client";
import type { Config } from "../config.js";
import { MissingKeyError } from "../errors.js";
import type { Secret } from "../secret.js";
import type { Logger } from "../util/log.js";
import { Catalog } from "./catalog.js";
import { createOfficialClient, submitOnceFetch } from "./client.js";
import { FalHttpClient } from "./http.js";
import { JobStore } from "../jobs/store.js";
import { redirectingFetch } from "./redirect.js";

/**
 * Everything fal-mcp knows about fal, behind one object that the server receives as a
 * dependency. Tests build it on a fake of fal; nothing here imports the MCP SDK.
 */
export interface Fal {
  readonly config: Config;
  /** This server's logger: its secrets and level belong to it alone. */
  readonly logger: Logger;
  /** fetch with the upstream redirect applied: for uploads and downloads. */
  readonly fetch: typeof fetch;
  /** Our typed JSON client for the APIs the official client does not cover. */
  readonly http: FalHttpClient;
  /** Catalog, schemas, prices and docs search, cached in memory for the server's lifetime. */
  readonly catalog: Catalog;
  /** The durable record of submitted jobs (FAL_MCP_STATE_DIR/jobs). */
  readonly jobs: JobStore;
  /** The key, or a MissingKeyError naming `what` needs it. */
  requireKey(what: string): Secret;
  /** The official client (queue, storage), created on first use. */
  officialClient(): Promise<FalClient>;
}

export interface CreateFalOptions {
  config: Config;
  logger: Logger;
  /** The fetch to send requests with; defaults to the platform's. Tests inject their own. */
  fetch?: typeof fetch;
}

export function createFal({ config, logger, fetch: baseFetch = globalThis.fetch }: CreateFalOptions): Fal {
  const fetch = redirectingFetch(config.baseUrl, baseFetch);
  const http = new FalHttpClient({ fetch, timeoutMs: config.requestTimeoutMs });
  let official: Promise<FalClient> | undefined;
  return {
    config,
    logger,
    fetch,
    http,
    catalog: new Catalog({ http, config }),
    jobs: new JobStore(config.stateDir, logger),
    requireKey(what) {
      if (!config.falKey) throw new MissingKeyError(what);
      return config.falKey;
    },
    officialClient() {
      official ??= createOfficialClient({
        key: () => config.falKey,
        fetch: submitOnceFetch(redirectingFetch(config.baseUrl, baseFetch)),
      });
      return official;
    },
  };
}
