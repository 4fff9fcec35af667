import { z } from "zod";
import { defineTool, READ_ONLY, orNull } from "./define.js";

export const searchDocs = defineTool({
  name: "search_docs",
  title: "Search fal documentation",
  description:
    "Search fal.ai's documentation (queue and webhooks, authentication, file uploads, model parameters, limits, errors, serverless) and get titles, links and snippets. " +
    "Use it for how-to questions about fal itself rather than about one model's inputs (get_model_schema covers those). Free; no key needed.",
  inputSchema: z.strictObject({
    query: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .describe('What to look for, e.g. "queue webhooks", "upload files", "rate limits". 1–500 characters.'),
    limit: z.number().int().min(1).max(20).default(5).describe("Most results to return, 1–20. Default 5."),
  }),
  outputSchema: z.object({
    results: z.array(
      z.object({
        title: z.string(),
        link: orNull(z.string()).describe("URL of the docs page; append .md for its Markdown."),
        snippet: z.string().describe("The matching passage, trimmed to about 400 characters."),
      }),
    ),
    source: z
      .enum(["docs-search", "llms.txt"])
      .describe(
        '"docs-search": fal\'s docs search; "llms.txt": keyword match over the docs index because the search was unreachable.',
      ),
  }),
  annotations: READ_ONLY,
  async handler(args, context) {
    const answer = await context.catalog.searchDocs(args.query, args.limit, context.signal);
    if (answer.source === "llms.txt") {
      await context.log(
        "warning",
        `fal's docs search was unreachable (${answer.fallbackReason ?? "unknown reason"}); answered from the docs index.`,
      );
    }
    const lines: string[] = [];
    if (answer.results.length === 0) {
      lines.push(`No fal docs found for "${args.query}". Try other words, or browse https://fal.ai/docs.`);
    } else {
      lines.push(
        `${answer.results.length} fal docs result${answer.results.length === 1 ? "" : "s"} for "${args.query}":`,
      );
      for (const [index, result] of answer.results.entries()) {
        lines.push(`${index + 1}. ${result.title}${result.link ? ` — ${result.link}` : ""}`);
        if (result.snippet) lines.push(`   ${result.snippet}`);
      }
    }
    if (answer.source === "llms.txt")
      lines.push(
        "(fal's docs search was unreachable: these are keyword matches from the docs index, https://fal.ai/docs/llms.txt.)",
      );
    return { structuredContent: { results: answer.results, source: answer.source }, text: lines.join("\n") };
  },
});
