// Query-parameter parsing shared by the api.fal.ai routes: multi-valued ids, limit + opaque cursor
// paging, and ISO time windows. Errors answer 400 in the Platform envelope and return {ok: false}.
import type { Ctx } from "../core.js";
import { platformError } from "../http.js";

/** Repeated and comma-separated values of a query parameter. */
export const multi = (q: URLSearchParams, name: string): string[] =>
  q
    .getAll(name)
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);

type Paging = { ok: true; limit: number; offset: number } | { ok: false };

export function paging(ctx: Ctx, def: number, max = 100): Paging {
  const rawLimit = ctx.query.get("limit");
  let limit = def;
  if (rawLimit !== null) {
    limit = Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > max) {
      platformError(ctx.res, 400, "validation_error", `limit must be an integer between 1 and ${max}`);
      return { ok: false };
    }
  }
  let offset = 0;
  const cursor = ctx.query.get("cursor");
  if (cursor) {
    const decoded = Buffer.from(cursor, "base64").toString("utf8");
    offset = Number(decoded);
    if (!/^\d+$/.test(decoded) || !Number.isSafeInteger(offset)) {
      platformError(ctx.res, 400, "validation_error", "Invalid cursor");
      return { ok: false };
    }
  }
  return { ok: true, limit, offset };
}

export const cursorFor = (offset: number): string => Buffer.from(String(offset), "utf8").toString("base64");

/** One page of `items` in fal's `{…, next_cursor, has_more}` form, under `key`. */
export function page<T>(
  items: T[],
  pg: { limit: number; offset: number },
  key: string,
): Record<string, unknown> {
  const hasMore = pg.offset + pg.limit < items.length;
  return {
    [key]: items.slice(pg.offset, pg.offset + pg.limit),
    next_cursor: hasMore ? cursorFor(pg.offset + pg.limit) : null,
    has_more: hasMore,
  };
}

export const DAY_MS = 24 * 60 * 60_000;

type Window = { ok: true; start: number; end: number } | { ok: false };

/**
 * `start`/`end` (ISO 8601) on the fake clock: default the last `defaultMs` before now; a window
 * wider than `maxMs` or reversed is refused.
 */
export function timeWindow(ctx: Ctx, now: number, defaultMs: number, maxMs = 90 * DAY_MS): Window {
  const parse = (name: string): number | null | undefined => {
    const raw = ctx.query.get(name);
    if (raw === null) return null;
    const t = Date.parse(raw);
    return Number.isFinite(t) ? t : undefined;
  };
  const s = parse("start");
  const e = parse("end");
  if (s === undefined || e === undefined) {
    platformError(ctx.res, 400, "validation_error", "start and end must be ISO 8601 date-times");
    return { ok: false };
  }
  const end = e ?? now;
  const start = s ?? end - defaultMs;
  if (start > end) {
    platformError(ctx.res, 400, "validation_error", "start must be before end");
    return { ok: false };
  }
  if (end - start > maxMs) {
    platformError(ctx.res, 400, "validation_error", `the window may span at most ${maxMs / DAY_MS} days`);
    return { ok: false };
  }
  return { ok: true, start, end };
}
