// Input validation of the fake's models: pydantic-style 422 `detail[]` entries, as fal's models
// answer them (fal-platform-api.md §12.1). Moved out of jobs.ts to keep that file short.
import type { FieldSpec, ValidationDetail } from "./types.js";
import { isObject } from "./http.js";

const errUrl = (type: string): string => `https://docs.fal.ai/errors/#${type}`;

function detail(
  loc: (string | number)[],
  type: string,
  msg: string,
  input: unknown,
  ctx?: Record<string, unknown>,
): ValidationDetail {
  const d: ValidationDetail = { loc, msg, type, url: errUrl(type), input };
  if (ctx) d.ctx = ctx;
  return d;
}

const quoteList = (values: (string | number)[]): string => {
  const q = values.map((v) => (typeof v === "string" ? `'${v}'` : String(v)));
  return q.length > 1 ? `${q.slice(0, -1).join(", ")} or ${q[q.length - 1]}` : (q[0] ?? "");
};

function checkType(field: FieldSpec, value: unknown, loc: (string | number)[]): ValidationDetail | null {
  switch (field.type) {
    case "string":
      return typeof value === "string"
        ? null
        : detail(loc, "string_type", "Input should be a valid string", value);
    case "integer":
      if (typeof value === "number" && Number.isInteger(value)) return null;
      if (typeof value === "number" && Number.isFinite(value))
        return detail(
          loc,
          "int_from_float",
          "Input should be a valid integer, got a number with a fractional part",
          value,
        );
      return detail(loc, "int_type", "Input should be a valid integer", value);
    case "number":
      return typeof value === "number" && Number.isFinite(value)
        ? null
        : detail(loc, "float_type", "Input should be a valid number", value);
    case "boolean":
      return typeof value === "boolean"
        ? null
        : detail(loc, "bool_type", "Input should be a valid boolean", value);
    case "array":
      return Array.isArray(value) ? null : detail(loc, "list_type", "Input should be a valid list", value);
    case "object":
      return isObject(value) ? null : detail(loc, "dict_type", "Input should be a valid dictionary", value);
  }
}

/** Validates a model input against the catalog field list; returns fal-style `detail[]` entries. */
export function validateInput(fields: FieldSpec[], input: unknown): ValidationDetail[] {
  if (!isObject(input)) {
    return [
      detail(
        ["body"],
        "model_attributes_type",
        "Input should be a valid dictionary or object to extract fields from",
        input,
      ),
    ];
  }
  const errors: ValidationDetail[] = [];
  for (const field of fields) {
    const loc = ["body", field.name];
    const value = input[field.name];
    if (value === undefined) {
      if (field.required) errors.push(detail(loc, "missing", "Field required", input));
      continue;
    }
    if (value === null) {
      if (!field.nullable) errors.push(checkType(field, value, loc)!);
      continue;
    }
    if (field.imageSize) {
      if (typeof value === "string") {
        if (field.enum && !field.enum.includes(value)) {
          const expected = quoteList(field.enum);
          errors.push(detail(loc, "literal_error", `Input should be ${expected}`, value, { expected }));
        }
      } else if (
        !isObject(value) ||
        !Number.isInteger(value.width) ||
        !Number.isInteger(value.height) ||
        (value.width as number) <= 0 ||
        (value.height as number) <= 0
      ) {
        errors.push(
          detail(
            [...loc, "ImageSize"],
            "model_type",
            "Input should be a valid dictionary or instance of ImageSize",
            value,
          ),
        );
      }
      continue;
    }
    const typeError = checkType(field, value, loc);
    if (typeError) {
      errors.push(typeError);
      continue;
    }
    if (field.enum && !field.enum.includes(value as string | number)) {
      const expected = quoteList(field.enum);
      errors.push(detail(loc, "literal_error", `Input should be ${expected}`, value, { expected }));
      continue;
    }
    if (typeof value === "number") {
      if (field.min !== undefined && value < field.min)
        errors.push(
          detail(loc, "greater_than_equal", `Input should be greater than or equal to ${field.min}`, value, {
            ge: field.min,
          }),
        );
      else if (field.max !== undefined && value > field.max)
        errors.push(
          detail(loc, "less_than_equal", `Input should be less than or equal to ${field.max}`, value, {
            le: field.max,
          }),
        );
    }
  }
  return errors;
}
