import { z } from "zod";
import type { Config } from "../config.js";
import { FalApiError, FalNetworkError, NotFoundError } from "../errors.js";
import type { Secret } from "../secret.js";
import { searchDocs, type DocsSearchAnswer } from "./docs-search.js";
import type { FalHttpClient } from "./http.js";
import { parsePrices, pricesResponseSchema, type UnitPrice } from "./pricing.js";
import { TtlCache } from "../util/ttl-cache.js";

/**
 * fal's model catalog, schemas, prices and docs search, read through one in-memory cache.
 * Discovery tools ask the same questions over and over in a session (search, then schema, then
 * price of the same model); the cache keeps that from hitting fal each time.
 */

export const PLATFORM_API = "https://api.fal.ai/v1";
export const PUBLIC_OPENAPI_URL = "https://fal.ai/api/openapi/queue/openapi.json";

/** The page of a model on fal.ai (fal's own metadata.model_url points at the run host instead). */
export function modelPageUrl(endpointId: string): string {
  return `https://fal.ai/models/${endpointId}`;
}

// ---------------------------------------------------------------- response shapes

const metadataSchema = z.looseObject({
  display_name: z.string().nullish(),
  category: z.string().nullish(),
  description: z.string().nullish(),
  status: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
  updated_at: z.string().nullish(),
  thumbnail_url: z.string().nullish(),
  model_url: z.string().nullish(),
  date: z.string().nullish(),
  highlighted: z.boolean().nullish(),
  pinned: z.boolean().nullish(),
  kind: z.string().nullish(),
});

const rawModelSchema = z.looseObject({
  endpoint_id: z.string(),
  metadata: metadataSchema.nullish(),
  openapi: z.unknown().optional(),
});

const modelsResponseSchema = z.looseObject({
  models: z.array(rawModelSchema),
  next_cursor: z.string().nullish(),
  has_more: z.boolean().nullish(),
});

const openApiDocumentSchema = z.looseObject({
  paths: z.record(z.string(), z.unknown()).nullish(),
  components: z.looseObject({ schemas: z.record(z.string(), z.unknown()).nullish() }).nullish(),
  info: z.unknown().optional(),
});

const expansionErrorSchema = z.looseObject({
  error: z.looseObject({ code: z.string().nullish(), message: z.string().nullish() }),
});

/** An OpenAPI document of one endpoint, as fal publishes it (only the parts we read are typed). */
export type OpenApiDocument = z.infer<typeof openApiDocumentSchema>;

/** One catalog entry, flattened. Models without `metadata` get the id as name and nulls. */
export interface CatalogModel {
  endpoint_id: string;
  display_name: string;
  category: string | null;
  description: string;
  status: string | null;
  tags: string[];
  /** The model's page on fal.ai. */
  model_url: string;
  thumbnail_url: string | null;
  highlighted: boolean;
  pinned: boolean;
  /** Release date (ISO), when fal gives one. */
  date: string | null;
  updated_at: string | null;
  kind: string | null;
  /** False for endpoints without a registry entry. */
  has_metadata: boolean;
}

export interface ModelPage {
  models: CatalogModel[];
  next_cursor: string | null;
  has_more: boolean;
}

export interface SearchParams {
  query?: string | undefined;
  category?: string | undefined;
  /** "all" sends no status filter. */
  status?: "active" | "deprecated" | "all" | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface ModelSchemaAnswer {
  endpoint_id: string;
  /** Catalog entry, when the platform API answered (the public fallback has none). */
  model: CatalogModel | undefined;
  document: OpenApiDocument;
  source: "platform-api" | "public-openapi";
  /** Why the platform expansion was not used, when the public document answered. */
  fallbackReason: string | undefined;
}

function toCatalogModel(raw: z.infer<typeof rawModelSchema>): CatalogModel {
  const meta = raw.metadata ?? undefined;
  return {
    endpoint_id: raw.endpoint_id,
    display_name: meta?.display_name?.trim() || raw.endpoint_id,
    category: meta?.category ?? null,
    description: meta?.description ?? "",
    status: meta?.status ?? null,
    tags: meta?.tags ?? [],
    model_url: modelPageUrl(raw.endpoint_id),
    thumbnail_url: meta?.thumbnail_url ?? null,
    highlighted: meta?.highlighted ?? false,
    pinned: meta?.pinned ?? false,
    date: meta?.date ?? null,
    updated_at: meta?.updated_at ?? null,
    kind: meta?.kind ?? null,
    has_metadata: meta !== undefined,
  };
}

// ---------------------------------------------------------------- catalog

export interface CatalogOptions {
  http: FalHttpClient;
  config: Config;
  maxEntries?: number;
  now?: () => number;
}

type Query = Record<string, string | number | readonly string[] | undefined>;

export class Catalog {
  readonly #http: FalHttpClient;
  readonly #config: Config;
  readonly #cache: TtlCache<unknown>;
  /** The docs MCP tool name that worked last (fal renamed it once). */
  #docsToolName = "search_fal";

  constructor(options: CatalogOptions) {
    this.#http = options.http;
    this.#config = options.config;
    this.#cache = new TtlCache<unknown>({
      ttlMs: options.config.catalogTtlSeconds * 1000,
      maxEntries: options.maxEntries ?? 500,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /** Drops every cached answer. */
  clearCache(): void {
    this.#cache.clear();
  }

  #cached<T>(
    parts: unknown[],
    load: (signal: AbortSignal) => Promise<T>,
    signal: AbortSignal | undefined,
    keep?: (value: T) => boolean,
  ): Promise<T> {
    // The cache holds whatever the loader for this exact key returned: the key names the loader.
    return this.#cache.get(
      JSON.stringify(parts),
      load,
      signal,
      keep as ((value: unknown) => boolean) | undefined,
    ) as Promise<T>;
  }

  #getModels(query: Query, what: string, signal: AbortSignal): Promise<z.infer<typeof modelsResponseSchema>> {
    return this.#http
      .request({
        method: "GET",
        url: `${PLATFORM_API}/models`,
        what,
        // Optional here: a key only raises the rate limit.
        key: this.#config.falKey,
        query,
        idempotent: true,
        schema: modelsResponseSchema,
        signal,
      })
      .then((response) => response.data);
  }

  /** One page of `GET /v1/models` search results. */
  search(params: SearchParams, signal?: AbortSignal): Promise<ModelPage> {
    const query: Query = {
      q: params.query?.trim() || undefined,
      category: params.category?.trim() || undefined,
      status: params.status === "all" ? undefined : (params.status ?? "active"),
      limit: params.limit,
      cursor: params.cursor || undefined,
    };
    return this.#cached(
      ["search", query],
      async (loadSignal) => {
        const data = await this.#getModels(query, "the model catalog search", loadSignal);
        return {
          models: data.models.map(toCatalogModel),
          next_cursor: data.next_cursor ?? null,
          has_more: data.has_more ?? Boolean(data.next_cursor),
        };
      },
      signal,
    );
  }

  /** Catalog entries of the given ids, in the order asked; unknown ids are left out. */
  async find(endpointIds: readonly string[], signal?: AbortSignal): Promise<CatalogModel[]> {
    const ids = [...new Set(endpointIds)];
    const found = await this.#cached(
      ["find", ids],
      async (loadSignal) => {
        const data = await this.#getModels(
          { endpoint_id: ids, limit: ids.length },
          "the model catalog lookup",
          loadSignal,
        );
        return data.models.map(toCatalogModel);
      },
      signal,
    );
    return ids.flatMap((id) => found.filter((model) => model.endpoint_id === id));
  }

  /**
   * The OpenAPI document of one endpoint: the platform API's expansion first, fal's public
   * openapi.json when the expansion failed or the platform API could not be read.
   */
  modelSchema(endpointId: string, signal?: AbortSignal): Promise<ModelSchemaAnswer> {
    return this.#cached(
      ["schema", endpointId],
      (loadSignal) => this.#loadSchema(endpointId, loadSignal),
      signal,
    );
  }

  async #loadSchema(endpointId: string, signal: AbortSignal): Promise<ModelSchemaAnswer> {
    let model: CatalogModel | undefined;
    let fallbackReason: string;
    let platformError: Error | undefined;
    try {
      const data = await this.#getModels(
        { endpoint_id: [endpointId], expand: ["openapi-3.0"] },
        `the schema of ${endpointId}`,
        signal,
      );
      const raw = data.models.find((entry) => entry.endpoint_id === endpointId) ?? data.models[0];
      if (!raw) throw notFound(endpointId);
      model = toCatalogModel(raw);
      const expansionError = expansionErrorSchema.safeParse(raw.openapi);
      const document = openApiDocumentSchema.safeParse(raw.openapi);
      if (expansionError.success) {
        fallbackReason = `fal's schema expansion failed (${expansionError.data.error.code ?? "error"}${expansionError.data.error.message ? `: ${expansionError.data.error.message}` : ""})`;
      } else if (document.success && document.data.paths && document.data.components?.schemas) {
        return {
          endpoint_id: endpointId,
          model,
          document: document.data,
          source: "platform-api",
          fallbackReason: undefined,
        };
      } else {
        fallbackReason = "fal's catalog returned no schema for it";
      }
    } catch (error) {
      if (error instanceof NotFoundError || signal.aborted) throw error;
      // The platform API is down or unreadable: the public document may still answer.
      platformError = error instanceof Error ? error : new Error(String(error));
      fallbackReason = `fal's catalog API failed (${error instanceof Error ? error.message : String(error)})`;
    }
    try {
      const response = await this.#http.request({
        method: "GET",
        url: PUBLIC_OPENAPI_URL,
        what: `the public schema of ${endpointId}`,
        query: { endpoint_id: endpointId },
        idempotent: true,
        schema: openApiDocumentSchema,
        signal,
      });
      if (!response.data.paths || !response.data.components?.schemas) {
        throw new FalApiError({
          status: response.status,
          message: `fal's public schema of ${endpointId} has no paths or components.`,
          nextStep: `Read the model's API page instead: ${modelPageUrl(endpointId)}/api`,
        });
      }
      return {
        endpoint_id: endpointId,
        model,
        document: response.data,
        source: "public-openapi",
        fallbackReason,
      };
    } catch (error) {
      if (signal.aborted) throw error;
      if (error instanceof FalApiError && error.status === 404 && model === undefined)
        throw notFound(endpointId);
      if (error instanceof FalNetworkError && platformError !== undefined) throw platformError;
      const reason = error instanceof Error ? error.message : String(error);
      throw new FalApiError({
        status: error instanceof FalApiError ? error.status : 502,
        message: `Could not get the schema of ${endpointId}: ${fallbackReason}, and the public schema failed too (${reason})`,
        nextStep: `Try again in a moment; meanwhile the model's API page shows its inputs: ${modelPageUrl(endpointId)}/api (or ${modelPageUrl(endpointId)}/llms.txt).`,
      });
    }
  }

  /** Unit prices (key required; prices can reflect the account's discounts). */
  prices(endpointIds: readonly string[], key: Secret, signal?: AbortSignal): Promise<UnitPrice[]> {
    const ids = [...new Set(endpointIds)];
    return this.#cached(
      ["prices", ids],
      async (loadSignal) => {
        const prices: UnitPrice[] = [];
        let cursor: string | undefined;
        // fal pages this list too; 50 ids fit in one page in practice, a few pages are a guard.
        for (let page = 0; page < 5; page++) {
          const response = await this.#http.request({
            method: "GET",
            url: `${PLATFORM_API}/models/pricing`,
            what: "pricing",
            key,
            query: { endpoint_id: ids.join(","), cursor },
            idempotent: true,
            schema: pricesResponseSchema,
            signal: loadSignal,
          });
          const parsed = parsePrices(response.data);
          prices.push(...parsed.prices);
          if (!parsed.has_more || !parsed.next_cursor) break;
          cursor = parsed.next_cursor;
        }
        return prices;
      },
      signal,
    );
  }

  /**
   * Prices of the ids fal knows, and the ids it does not. fal may refuse a whole pricing request
   * for one unknown id (404); the catalog then tells which ids exist, and those are priced.
   */
  async pricesOf(
    endpointIds: readonly string[],
    key: Secret,
    signal?: AbortSignal,
  ): Promise<{ prices: UnitPrice[]; unknown: string[] }> {
    const ids = [...new Set(endpointIds)];
    try {
      const prices = await this.prices(ids, key, signal);
      const priced = new Set(prices.map((price) => price.endpoint_id));
      return { prices, unknown: ids.filter((id) => !priced.has(id)) };
    } catch (error) {
      if (!(error instanceof FalApiError && error.status === 404)) throw error;
      const known =
        ids.length > 1
          ? new Set((await this.find(ids, signal)).map((model) => model.endpoint_id))
          : new Set<string>();
      const unknown = ids.filter((id) => !known.has(id));
      // Every id exists, yet fal said 404: nothing to narrow down, report fal's answer.
      if (unknown.length === 0) throw error;
      if (known.size === 0) return { prices: [], unknown: ids };
      const prices = await this.prices([...known], key, signal);
      return { prices, unknown };
    }
  }

  /** Searches fal's documentation (docs MCP endpoint, llms.txt index as a fallback). */
  searchDocs(query: string, limit: number, signal?: AbortSignal): Promise<DocsSearchAnswer> {
    return this.#cached(
      ["docs", query.trim(), limit],
      (loadSignal) =>
        searchDocs({
          http: this.#http,
          query: query.trim(),
          limit,
          signal: loadSignal,
          timeoutMs: this.#config.requestTimeoutMs,
          toolName: this.#docsToolName,
          rememberToolName: (name) => {
            this.#docsToolName = name;
          },
        }),
      signal,
      // A fallback answer is kept only until the next call: the docs search may be back by then.
      (answer) => answer.source === "docs-search",
    );
  }
}

function notFound(endpointId: string): NotFoundError {
  return new NotFoundError(
    `fal has no model with endpoint_id "${endpointId}".`,
    "Check the spelling (ids look like fal-ai/flux/dev), or call search_models with a keyword to find the right endpoint_id.",
  );
}
