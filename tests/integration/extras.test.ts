import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { startHarness, type Harness } from "../helpers/harness.js";

/** The result viewer (MCP Apps) and the prompts, as a real client sees them in both eras. */
let fake: FakeFal;
const harnesses: Record<string, Harness> = {};

beforeAll(async () => {
  fake = await startFakeFal();
  harnesses.legacy = await startHarness({ baseUrl: fake.url, era: "legacy" });
  harnesses.modern = await startHarness({ baseUrl: fake.url, era: "2026-07-28" });
});

afterAll(async () => {
  for (const harness of Object.values(harnesses)) await harness.close();
  await fake?.close();
});

describe.each(["legacy", "modern"])("viewer and prompts (%s era)", (era) => {
  it("lists the ui:// viewer and reads it as an MCP App whose CSP allows fal's CDN and the redirect only", async () => {
    const { client } = harnesses[era]!;
    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toEqual(["ui://fal-mcp/result-viewer.html"]);
    const read = await client.readResource({ uri: "ui://fal-mcp/result-viewer.html" });
    const [contents] = read.contents;
    expect(contents?.mimeType).toBe("text/html;profile=mcp-app");
    expect(contents && "text" in contents ? contents.text : "").toContain("<html");
    const csp = (
      contents?._meta as { ui?: { csp?: { resourceDomains?: string[]; connectDomains?: string[] } } }
    )?.ui?.csp;
    expect(csp?.resourceDomains).toEqual([
      "https://*.fal.media",
      "https://fal.media",
      new URL(fake.url).origin,
    ]);
    expect(csp?.connectDomains).toEqual([]);
  });

  it("points run_model at the viewer and leaves tools it does not show alone", async () => {
    const { tools } = await harnesses[era]!.client.listTools();
    const meta = (name: string) => tools.find((tool) => tool.name === name)?._meta;
    expect(meta("run_model")).toMatchObject({ ui: { resourceUri: "ui://fal-mcp/result-viewer.html" } });
    expect(meta("search_models")?.ui).toBeUndefined();
  });

  it("lists the three prompts and builds one that names the tools in order", async () => {
    const { client } = harnesses[era]!;
    const { prompts } = await client.listPrompts();
    expect(prompts.map((prompt) => prompt.name)).toEqual(["product_shot", "animate_photo", "compare_models"]);
    const shot = prompts.find((prompt) => prompt.name === "product_shot")!;
    const args = Object.fromEntries(
      (shot.arguments ?? []).filter((a) => a.required).map((a) => [a.name, "a red mug"]),
    );
    const got = await client.getPrompt({ name: "product_shot", arguments: args });
    const text = got.messages
      .map((message) => (message.content.type === "text" ? message.content.text : ""))
      .join("\n");
    expect(text.indexOf("get_pricing")).toBeGreaterThan(-1);
    expect(text.indexOf("get_pricing")).toBeLessThan(text.lastIndexOf("run_model"));
  });
});
