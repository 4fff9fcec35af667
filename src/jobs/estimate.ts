import { formatMoney, roundMoney, type UnitPrice } from "../fal/pricing.js";

/**
 * What a call will cost before it is sent: fal's unit price times the units read from the input
 * (images, seconds, megapixels, characters, …, by the endpoint's priced unit), asked of fal's
 * estimate endpoint where it answers and multiplied locally where it does not. When the units
 * cannot be read from the input, fal's historical average price per call is asked; when nothing
 * answers, the estimate is explicitly unknown. Nothing here sends anything: the caller passes
 * the fal calls in.
 */

export interface UnitCount {
  quantity: number;
  /** How the quantity was read, for the answer: "num_images 2", "duration 5 s × 1". */
  basis: string;
}

export type CostEstimate =
  | {
      known: true;
      /** USD (or `currency`). */
      amount: number;
      currency: string;
      /** How it was reached, in words. */
      basis: string;
      source: "fal-estimate" | "unit-price" | "fal-historical";
      unitPrice?: UnitPrice | undefined;
      units?: UnitCount | undefined;
    }
  | { known: false; reason: string; unitPrice?: UnitPrice | undefined };

/** fal's image_size presets (width × height). */
const IMAGE_SIZE_PRESETS: Record<string, [number, number]> = {
  square_hd: [1024, 1024],
  square: [512, 512],
  portrait_4_3: [768, 1024],
  portrait_16_9: [576, 1024],
  landscape_4_3: [1024, 768],
  landscape_16_9: [1024, 576],
};

const COUNT_FIELDS = ["num_images", "num_outputs", "num_videos", "num_samples", "batch_size", "n"];
const DURATION_FIELDS = ["duration", "duration_seconds", "seconds", "length_seconds", "audio_length"];
const TEXT_FIELDS = ["text", "input", "prompt", "script", "content"];

function positiveNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value > 0 ? value : undefined;
  if (typeof value === "string") {
    // "5", "5s", "10 seconds", "8.5"
    const match = /^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?)?\s*$/i.exec(value);
    const number = match ? Number(match[1]) : NaN;
    return Number.isFinite(number) && number > 0 ? number : undefined;
  }
  return undefined;
}

function firstField(input: Record<string, unknown>, names: readonly string[]): [string, number] | undefined {
  for (const name of names) {
    const value = positiveNumber(input[name]);
    if (value !== undefined) return [name, value];
  }
  return undefined;
}

/** How many outputs the call asks for: num_images and the like, 1 when absent. */
function outputCount(input: Record<string, unknown>): [number, string] {
  const found = firstField(input, COUNT_FIELDS);
  return found ? [Math.ceil(found[1]), `${found[0]} ${Math.ceil(found[1])}`] : [1, "1 output"];
}

/** Megapixels of one output from image_size (preset or {width, height}) or width/height fields. */
export function megapixelsOf(input: Record<string, unknown>): [number, string] | undefined {
  const size = input.image_size ?? input.size ?? input.resolution;
  let dims: [number, number] | undefined;
  if (typeof size === "string") {
    dims = IMAGE_SIZE_PRESETS[size];
    const match = dims ? undefined : /^(\d{2,5})\s*[x\u00d7*]\s*(\d{2,5})$/i.exec(size.trim());
    if (match) dims = [Number(match[1]), Number(match[2])];
  } else if (size && typeof size === "object" && !Array.isArray(size)) {
    const { width, height } = size as Record<string, unknown>;
    const w = positiveNumber(width);
    const h = positiveNumber(height);
    if (w && h) dims = [w, h];
  }
  if (!dims) {
    const w = positiveNumber(input.width);
    const h = positiveNumber(input.height);
    if (w && h) dims = [w, h];
  }
  if (!dims) return undefined;
  return [(dims[0] * dims[1]) / 1_000_000, `${dims[0]}×${dims[1]}`];
}

function secondsOf(input: Record<string, unknown>): [number, string] | undefined {
  const found = firstField(input, DURATION_FIELDS);
  if (found) return [found[1], `${found[0]} ${found[1]} s`];
  const frames = positiveNumber(input.num_frames);
  if (frames !== undefined) {
    const fps = positiveNumber(input.frames_per_second) ?? positiveNumber(input.fps);
    if (fps !== undefined) return [frames / fps, `num_frames ${frames} at ${fps} fps`];
  }
  return undefined;
}

function charactersOf(input: Record<string, unknown>): [number, string] | undefined {
  for (const name of TEXT_FIELDS) {
    const value = input[name];
    if (typeof value === "string" && value.length > 0)
      return [value.length, `${value.length} characters of ${name}`];
  }
  return undefined;
}

/**
 * The number of priced units a call asks for, read from its input (with the schema's defaults
 * filled in by the caller). Undefined when the unit cannot be read from an input (GPU seconds,
 * tokens, an unfamiliar unit), or the input does not say.
 */
export function unitsFromInput(unit: string, input: Record<string, unknown>): UnitCount | undefined {
  const text = unit.trim().toLowerCase();
  // "1000 characters", "1k characters", "per 1000 tokens": the unit covers several of the thing.
  const scaleMatch = /^(?:per\s+)?(\d+(?:\.\d+)?)(k|m)?\s+(.+)$/.exec(text);
  const scale = scaleMatch
    ? Number(scaleMatch[1]) * (scaleMatch[2] === "k" ? 1000 : scaleMatch[2] === "m" ? 1_000_000 : 1)
    : 1;
  const noun = (scaleMatch?.[3] ?? text).replace(/^per\s+/, "");
  const [count, countBasis] = outputCount(input);

  if (/gpu|compute|token/.test(noun)) return undefined;
  if (/^megapixels?$|^mp$/.test(noun)) {
    const mp = megapixelsOf(input);
    if (!mp) return undefined;
    return { quantity: (mp[0] * count) / scale, basis: `${mp[1]} (${round(mp[0])} MP) × ${countBasis}` };
  }
  if (
    /^(images?|videos?|outputs?|generations?|requests?|calls?|runs?|units?|3d models?|models?|meshes?)$/.test(
      noun,
    )
  ) {
    return { quantity: count / scale, basis: countBasis };
  }
  if (/^(seconds?|secs?|s)$/.test(noun) || /^(video |audio )?seconds?$/.test(noun)) {
    const seconds = secondsOf(input);
    if (!seconds) return undefined;
    return { quantity: (seconds[0] * count) / scale, basis: `${seconds[1]} × ${countBasis}` };
  }
  if (/^minutes?$/.test(noun)) {
    const seconds = secondsOf(input);
    if (!seconds) return undefined;
    return { quantity: ((seconds[0] / 60) * count) / scale, basis: `${seconds[1]} × ${countBasis}` };
  }
  if (/^frames?$/.test(noun)) {
    const frames = positiveNumber(input.num_frames);
    if (frames === undefined) return undefined;
    return { quantity: (frames * count) / scale, basis: `num_frames ${frames} × ${countBasis}` };
  }
  if (/^characters?$|^chars?$/.test(noun)) {
    const characters = charactersOf(input);
    if (!characters) return undefined;
    return { quantity: characters[0] / scale, basis: characters[1] };
  }
  return undefined;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The input with the schema's top-level defaults filled in where the caller left a field out. */
export function withDefaults(
  input: Record<string, unknown>,
  defaults: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (!defaults) return input;
  const out: Record<string, unknown> = { ...defaults };
  for (const [name, value] of Object.entries(input))
    if (value !== undefined && value !== null) out[name] = value;
  return out;
}

export interface EstimateSources {
  /** The endpoint's unit price; throws or returns undefined when fal has none. */
  unitPrice(): Promise<UnitPrice | undefined>;
  /** fal's estimate endpoint. */
  falEstimate(
    request:
      { kind: "unit_price"; unitQuantity: number } | { kind: "historical_api_price"; callQuantity: number },
  ): Promise<{ totalCost: number; currency: string }>;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The estimate of one call; never throws (an unknown estimate says why). */
export async function estimateCall(
  endpointId: string,
  input: Record<string, unknown>,
  sources: EstimateSources,
): Promise<CostEstimate> {
  let price: UnitPrice | undefined;
  let priceProblem: string | undefined;
  try {
    price = await sources.unitPrice();
    if (!price) priceProblem = `fal lists no unit price for ${endpointId}`;
  } catch (error) {
    priceProblem = `fal's pricing could not be read (${reasonOf(error)})`;
  }
  const units = price ? unitsFromInput(price.unit, input) : undefined;
  if (price && units) {
    try {
      const answer = await sources.falEstimate({ kind: "unit_price", unitQuantity: units.quantity });
      return {
        known: true,
        amount: roundMoney(answer.totalCost),
        currency: answer.currency,
        basis: `fal's estimate for ${round(units.quantity)} ${price.unit} (${units.basis})`,
        source: "fal-estimate",
        unitPrice: price,
        units,
      };
    } catch {
      return {
        known: true,
        amount: roundMoney(price.unit_price * units.quantity),
        currency: price.currency,
        basis: `${price.unit_price} ${price.currency} per ${price.unit} × ${round(units.quantity)} (${units.basis})`,
        source: "unit-price",
        unitPrice: price,
        units,
      };
    }
  }
  // The input does not tell how many units: fal's average price of one call is the next best.
  try {
    const answer = await sources.falEstimate({ kind: "historical_api_price", callQuantity: 1 });
    return {
      known: true,
      amount: roundMoney(answer.totalCost),
      currency: answer.currency,
      basis: `fal's historical average price of one call${price ? ` (priced per ${price.unit}; the input does not say how many)` : ""}`,
      source: "fal-historical",
      unitPrice: price,
    };
  } catch (error) {
    const why = price
      ? `it is priced per ${price.unit} (${price.unit_price} ${price.currency}) and the input does not say how many; fal's estimate did not answer (${reasonOf(error)})`
      : `${priceProblem ?? "no unit price"}, and fal's estimate did not answer (${reasonOf(error)})`;
    return { known: false, reason: why, unitPrice: price };
  }
}

/** "about $0.05 (0.025 USD per image × 2 (num_images 2))" or "unknown (…)" */
export function describeEstimate(estimate: CostEstimate): string {
  if (!estimate.known) return `unknown: ${estimate.reason}`;
  return `about ${formatMoney(estimate.amount, estimate.currency)} (${estimate.basis})`;
}
