import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { prompts } from "../../src/prompts/index.js";

/** fal's hosted Run MCP tool names (fal-platform-api.md §15.3): the prompts must speak these. */
const FAL_TOOLS = [
  "search_models",
  "get_model_schema",
  "get_pricing",
  "search_docs",
  "recommend_model",
  "run_model",
  "submit_job",
  "check_job",
  "get_job_result",
  "cancel_job",
  "upload_file",
];

const byName = (name: string) => {
  const prompt = prompts.find((candidate) => candidate.name === name);
  if (!prompt) throw new Error(`no prompt ${name}`);
  return prompt;
};

/** Builds a prompt's text from raw (string) arguments, parsed by its own schema as the SDK would. */
function build(name: string, args: Record<string, string>): string {
  const prompt = byName(name);
  const messages = prompt.messages(prompt.argsSchema.parse(args));
  expect(messages).toHaveLength(1);
  expect(messages[0]!.role).toBe("user");
  return messages[0]!.content.text;
}

/** The first fal tool each numbered step names ("1. get_model_schema for …"), in step order. */
function stepTools(text: string): (string | undefined)[] {
  return text
    .split("\n")
    .filter((line) => /^\d+\. /.test(line))
    .map((line) => toolOrder(line)[0]);
}

/** The fal tool names in `text`, in the order they first appear. */
function toolOrder(text: string): string[] {
  const found = [...text.matchAll(/\b[a-z]+(?:_[a-z]+)+\b/g)].map((match) => match[0]);
  return [...new Set(found.filter((word) => FAL_TOOLS.includes(word)))];
}

describe("MCP prompts", () => {
  it("have unique snake_case names, titles and descriptions, and string arguments", () => {
    expect(prompts.map((prompt) => prompt.name)).toEqual(["product_shot", "animate_photo", "compare_models"]);
    for (const prompt of prompts) {
      expect(prompt.name).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(prompt.title.length).toBeGreaterThan(3);
      expect(prompt.description.length).toBeGreaterThan(20);
      for (const [field, schema] of Object.entries<z.ZodType>(prompt.argsSchema.shape)) {
        expect(schema.description, `${prompt.name}.${field}`).toBeTruthy();
        // MCP prompt arguments are strings: a non-string schema could never be satisfied.
        expect(schema.safeParse("text").success, field).toBe(true);
      }
    }
  });

  it("product_shot: recommend, schema, price, run; with a photo, image editing and the local file", () => {
    const text = build("product_shot", { product: "a matte black mug" });
    expect(text).toContain("a matte black mug");
    expect(stepTools(text)).toEqual([
      "recommend_model",
      "get_model_schema",
      "get_pricing",
      "run_model",
      "check_job",
      undefined,
    ]);
    expect(text).not.toContain("undefined");
    const withPhoto = build("product_shot", {
      product: "a mug",
      photo_path: "/Users/me/mug.jpg",
      setting: "on marble",
    });
    expect(withPhoto).toContain("/Users/me/mug.jpg");
    expect(withPhoto).toContain("on marble");
    expect(withPhoto).toContain("image-editing");
    expect(toolOrder(withPhoto)).toContain("upload_file");
  });

  it("animate_photo: submits once and follows the job to its result", () => {
    const text = build("animate_photo", {
      photo_path: "/tmp/cat.png",
      motion: "slow zoom",
      duration_seconds: "5",
    });
    expect(text).toContain("/tmp/cat.png");
    expect(text).toContain("slow zoom");
    expect(text).toContain("5 seconds");
    expect(stepTools(text)).toEqual([
      "search_models",
      "get_model_schema",
      "get_pricing",
      "submit_job",
      "check_job",
      "get_job_result",
      undefined,
    ]);
    expect(text).toMatch(/do not submit twice/);
    // A URL needs no upload step.
    expect(toolOrder(build("animate_photo", { photo_path: "https://example.com/cat.png" }))).not.toContain(
      "upload_file",
    );
    expect(() => build("animate_photo", {})).toThrow();
  });

  it("compare_models: one pricing call for all endpoints before any run", () => {
    const text = build("compare_models", {
      prompt: "a red fox in snow",
      models: "fal-ai/flux/dev,fal-ai/recraft-v3",
    });
    expect(text).toContain('"a red fox in snow"');
    expect(text).toContain("fal-ai/flux/dev,fal-ai/recraft-v3");
    expect(stepTools(text)).toEqual(["get_model_schema", "get_pricing", "run_model", undefined]);
    expect(build("compare_models", { prompt: "x", category: "text-to-video" })).toContain("text-to-video");
    expect(build("compare_models", { prompt: "x" })).toContain("text-to-image");
  });

  it("every prompt asks for the price and the user's go-ahead before a paid call, and names only fal's tools", () => {
    const samples: Record<string, Record<string, string>> = {
      product_shot: { product: "a mug" },
      animate_photo: { photo_path: "/tmp/a.png" },
      compare_models: { prompt: "a fox" },
    };
    for (const prompt of prompts) {
      const text = build(prompt.name, samples[prompt.name]!);
      expect(text, prompt.name).toMatch(/get_pricing[^\n]*wait for my go-ahead/);
      const snake = [...text.matchAll(/\b[a-z]+_[a-z_]+\b/g)].map((match) => match[0]);
      for (const word of snake.filter(
        (w) => w.endsWith("_model") || w.endsWith("_job") || w.startsWith("get_"),
      ))
        expect(FAL_TOOLS, `${prompt.name}: ${word}`).toContain(word);
    }
  });
});
