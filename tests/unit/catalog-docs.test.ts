import { describe, expect, it } from "vitest";
import {
  parseDocsContent,
  parseDocsIndex,
  parseDocsItem,
  pickSearchTool,
  searchDocsIndex,
  trimSnippet,
} from "../../src/fal/docs-search.js";
import { parseSseOrJson } from "../../src/util/json.js";

const ITEM = `Title: Asynchronous Inference
Link: https://fal.ai/docs/documentation/model-apis/inference/queue
Content: Asynchronous inference is the recommended way to call models on fal.

Status is IN_QUEUE, IN_PROGRESS or COMPLETED.
Title-like words inside content stay content.`;

describe("docs search parsing", () => {
  it("reads the first data: line of an SSE body", () => {
    const body = `event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"x"}]}}\n\n`;
    expect(parseSseOrJson(body)).toEqual({
      jsonrpc: "2.0",
      id: 1,
      result: { content: [{ type: "text", text: "x" }] },
    });
  });

  it("reads a plain JSON body, and gives undefined for garbage", () => {
    expect(
      parseSseOrJson('{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Tool x not found"}}'),
    ).toMatchObject({ error: { code: -32602 } });
    expect(parseSseOrJson("<html>502</html>")).toBeUndefined();
  });

  it("parses Title/Link and a multi-line Content", () => {
    const result = parseDocsItem(ITEM);
    expect(result?.title).toBe("Asynchronous Inference");
    expect(result?.link).toBe("https://fal.ai/docs/documentation/model-apis/inference/queue");
    expect(result?.snippet).toBe(
      "Asynchronous inference is the recommended way to call models on fal. Status is IN_QUEUE, IN_PROGRESS or COMPLETED. Title-like words inside content stay content.",
    );
  });

  it("falls back to the raw text when the markers are missing", () => {
    expect(parseDocsItem("Just some text\nover two lines")).toEqual({
      title: "Just some text",
      link: null,
      snippet: "Just some text over two lines",
    });
    expect(parseDocsItem("   ")).toBeUndefined();
  });

  it("splits several items in one text block and skips non-text content", () => {
    const results = parseDocsContent([
      {
        type: "text",
        text: `${ITEM}\nTitle: Webhooks\nLink: https://fal.ai/docs/webhooks\nContent: Add fal_webhook.`,
      },
      { type: "image", text: null },
    ]);
    expect(results.map((result) => result.title)).toEqual(["Asynchronous Inference", "Webhooks"]);
    expect(results[1]?.snippet).toBe("Add fal_webhook.");
  });

  it("trims snippets to about 400 characters at a word boundary", () => {
    const long = "word ".repeat(200);
    const snippet = trimSnippet(long);
    expect(snippet.length).toBeLessThanOrEqual(401);
    expect(snippet.endsWith("…")).toBe(true);
    expect(snippet).not.toMatch(/wor…$/);
    expect(trimSnippet("short")).toBe("short");
  });

  it("picks the search tool after a rename", () => {
    expect(pickSearchTool(["list_pages", "SearchFal"])).toBe("SearchFal");
    expect(pickSearchTool(["search_fal", "other_search"])).toBe("search_fal");
    expect(pickSearchTool(["list_pages"])).toBeUndefined();
  });
});

describe("llms.txt fallback", () => {
  const index = `# fal

> fal is a generative media platform.

## Docs

- [Asynchronous Inference](https://fal.ai/docs/queue.md): Submit requests to the queue, poll their status and fetch results.
- [Webhooks](https://fal.ai/docs/webhooks.md): Receive the result of a queue request by webhook.
- [File uploads and storage](https://fal.ai/docs/uploads.md): Upload files to the fal CDN.
not a link line
`;

  it("parses the index lines", () => {
    const entries = parseDocsIndex(index);
    expect(entries).toHaveLength(3);
    expect(entries[1]).toEqual({
      title: "Webhooks",
      link: "https://fal.ai/docs/webhooks.md",
      snippet: "Receive the result of a queue request by webhook.",
    });
  });

  it("ranks by keyword hits, titles first, and drops entries without a hit", () => {
    const entries = parseDocsIndex(index);
    expect(searchDocsIndex(entries, "webhook for the queue", 5).map((entry) => entry.title)).toEqual([
      "Webhooks",
      "Asynchronous Inference",
    ]);
    expect(searchDocsIndex(entries, "upload", 5).map((entry) => entry.title)).toEqual([
      "File uploads and storage",
    ]);
    expect(searchDocsIndex(entries, "the of", 5)).toEqual([]);
    expect(searchDocsIndex(entries, "queue", 1)).toHaveLength(1);
  });
});
