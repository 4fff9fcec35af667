import { describe, expect, it } from "vitest";
import {
  InputRejectedError,
  InputValidators,
  formatProblems,
  toJsonSchema,
} from "../../src/jobs/validate-input.js";
import { CATALOG } from "../fake-fal/catalog.js";
import { buildOpenApi } from "../fake-fal/openapi.js";

const flux = CATALOG.find((spec) => spec.endpoint_id === "fal-ai/flux/dev")!;
const document = buildOpenApi(flux);

describe("InputValidators against a fal-shaped OpenAPI document", () => {
  const validators = new InputValidators();

  it("accepts a valid input, including a local path where a URL is expected", () => {
    expect(validators.check(document, "fal-ai/flux/dev", { prompt: "a fox", num_images: 2 })).toEqual({
      status: "valid",
    });
    expect(
      validators.check(document, "fal-ai/flux/dev", {
        prompt: "a fox",
        image_size: { width: 800, height: 600 },
      }),
    ).toEqual({ status: "valid" });
  });

  it("names an unknown field and lists the fields the endpoint takes", () => {
    const check = validators.check(document, "fal-ai/flux/dev", { prompt: "a fox", num_imgs: 2 });
    expect(check.status).toBe("invalid");
    if (check.status !== "invalid") return;
    expect(check.problems[0]?.field).toBe("num_imgs");
    expect(check.problems[0]?.message).toContain("not a field");
    expect(check.problems[0]?.message).toContain("num_images");
  });

  it("names a missing required field, a wrong type, a bound and an enum violation with its allowed values", () => {
    const check = validators.check(document, "fal-ai/flux/dev", {
      num_images: 99,
      guidance_scale: "high",
      image_size: "huge",
    });
    expect(check.status).toBe("invalid");
    if (check.status !== "invalid") return;
    const byField = Object.fromEntries(check.problems.map((problem) => [problem.field, problem]));
    expect(byField.prompt?.message).toContain("required");
    expect(byField.num_images?.message).toMatch(/<=/);
    expect(byField.guidance_scale?.message).toContain("number");
    expect(byField.image_size?.allowed).toContain("landscape_4_3");
    const text = new InputRejectedError("fal-ai/flux/dev", check.problems).message;
    expect(text).toContain("- image_size: is not one of the allowed values. Allowed:");
    expect(text).toContain('"square_hd"');
    expect(formatProblems(check.problems)).toContain("- prompt: is required and missing.");
  });

  it("checks a local file reference as the CDN URL it becomes, and still refuses a bad URL", () => {
    const uriDoc = {
      paths: {},
      components: {
        schemas: {
          EditInput: {
            type: "object",
            required: ["image_url"],
            properties: { image_url: { type: "string", format: "uri" } },
          },
        },
      },
    };
    expect(validators.check(uriDoc, "x/edit", { image_url: "/Users/me/cat.png" }).status).toBe("valid");
    expect(validators.check(uriDoc, "x/edit", { image_url: "file:///Users/me/cat.png" }).status).toBe(
      "valid",
    );
    const bad = validators.check(uriDoc, "x/edit", { image_url: "not a url" });
    expect(bad.status).toBe("invalid");
    if (bad.status === "invalid") expect(bad.problems[0]?.message).toContain("uri");
  });

  it("reports the schema defaults for the cost estimate", () => {
    const compiled = validators.compile(document, "fal-ai/flux/dev");
    expect(compiled.defaults.num_images).toBe(1);
    expect(compiled.fields).toContain("prompt");
  });

  it("does not block a call when the schema cannot be read or compiled", () => {
    expect(validators.check({ paths: {} }, "x/y", { a: 1 }).status).toBe("unchecked");
    const broken = {
      paths: {},
      components: {
        schemas: { XYInput: { type: "object", properties: { a: { $ref: "#/components/schemas/Missing" } } } },
      },
    };
    const check = validators.check(broken, "x/y", { a: 1 });
    expect(check.status).toBe("unchecked");
    if (check.status === "unchecked") expect(check.reason).toContain("could not be compiled");
  });

  it("keeps a bounded number of compiled validators", () => {
    const small = new InputValidators({ maxEntries: 3 });
    for (const spec of CATALOG.slice(0, 8)) small.compile(buildOpenApi(spec), spec.endpoint_id);
    expect(small.size).toBe(3);
  });

  it("finds the validator of a document object seen before, and compiles again one that was evicted", () => {
    const small = new InputValidators({ maxEntries: 1 });
    const fluxDocument = buildOpenApi(flux);
    const first = small.compile(fluxDocument, "fal-ai/flux/dev");
    expect(small.compile(fluxDocument, "fal-ai/flux/dev")).toBe(first);
    // The same schema in a new object (the catalog refreshed it) still finds it by its content.
    expect(small.compile(buildOpenApi(flux), "fal-ai/flux/dev")).toBe(first);
    const other = CATALOG.find((spec) => spec.endpoint_id === "fake/instant")!;
    small.compile(buildOpenApi(other), other.endpoint_id);
    const again = small.compile(fluxDocument, "fal-ai/flux/dev");
    expect(again).not.toBe(first);
    expect(small.size).toBe(1);
    expect(small.check(fluxDocument, "fal-ai/flux/dev", { prompt: "a fox", num_imgs: 2 }).status).toBe(
      "invalid",
    );
  });

  it("compiles every endpoint of the fake catalog", () => {
    for (const spec of CATALOG)
      expect(() => validators.compile(buildOpenApi(spec), spec.endpoint_id)).not.toThrow();
  });
});

describe("toJsonSchema (OpenAPI 3.0 → JSON Schema 2020-12)", () => {
  it("turns nullable into a null type, boolean exclusive bounds into numbers, component refs into $defs", () => {
    expect(
      toJsonSchema({
        type: "integer",
        nullable: true,
        minimum: 0,
        exclusiveMinimum: true,
        example: 3,
        "x-fal": 1,
        items: { $ref: "#/components/schemas/A" },
      }),
    ).toEqual({ type: ["integer", "null"], exclusiveMinimum: 0, items: { $ref: "#/$defs/A" } });
  });
});
