import { z } from "zod";
import { FalApiError, FalNetworkError, FalResponseError } from "../errors.js";
import type { FalHttpClient } from "./http.js";

/**
 * Searches fal's documentation through the docs site's MCP endpoint, called the way fal's own CLI
 * does: one session-less JSON-RPC `tools/call`, answered as SSE or plain JSON. When that endpoint
 * cannot be reached, a keyword search over the docs index (llms.txt) answers instead.
 */

export const DOCS_MCP_URL = "https://docs.fal.ai/mcp";
export const DOCS_INDEX_URL = "https://fal.ai/docs/llms.txt";
const SNIPPET_CHARS = 400;

export interface DocsResult {
  title: string;
  link: string | null;
  snippet: string;
}

export interface DocsSearchAnswer {
  results: DocsResult[];
  source: "docs-search" | "llms.txt";
  /** Why the fallback answered, when it did. */
  fallbackReason?: string;
}

const jsonRpcResponseSchema = z.looseObject({
  result: z
    .looseObject({
      content: z.array(z.looseObject({ type: z.string().nullish(), text: z.string().nullish() })).nullish(),
      isError: z.boolean().nullish(),
      tools: z.array(z.looseObject({ name: z.string() })).nullish(),
    })
    .nullish(),
  error: z.looseObject({ code: z.number().nullish(), message: z.string().nullish() }).nullish(),
});

type JsonRpcResponse = z.infer<typeof jsonRpcResponseSchema>;

/** Trims to about `max` characters at a word boundary, with an ellipsis when cut. */
export function trimSnippet(text: string, max = SNIPPET_CHARS): string {
  const clean = text.replace(/\s+/g, " ").trim();
  if (clean.length <= max) return clean;
  const cut = clean.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/**
 * Parses one text item of the docs tool: `Title:` and `Link:` lines, then `Content:` running to
 * the end (several lines). Text without the markers becomes a result of its own.
 */
export function parseDocsItem(text: string): DocsResult | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  const title = /^\s*Title:\s*(.*)$/m.exec(trimmed)?.[1]?.trim();
  const link = /^\s*Link:\s*(\S*)\s*$/m.exec(trimmed)?.[1]?.trim();
  const contentIndex = trimmed.search(/^\s*Content:/m);
  const content = contentIndex >= 0 ? trimmed.slice(contentIndex).replace(/^\s*Content:\s*/, "") : undefined;
  if (!title && !link && content === undefined) {
    const firstLine = trimmed.split(/\r?\n/)[0] ?? "";
    return { title: trimSnippet(firstLine, 120), link: null, snippet: trimSnippet(trimmed) };
  }
  return {
    title: title || (link ?? "fal docs"),
    link: link || null,
    snippet: trimSnippet(content ?? ""),
  };
}

/** The results in a `tools/call` answer. Several `Title:` blocks inside one item are split. */
export function parseDocsContent(
  content: readonly { type?: string | null; text?: string | null }[],
): DocsResult[] {
  const results: DocsResult[] = [];
  for (const item of content) {
    if (item.type && item.type !== "text") continue;
    const text = item.text ?? "";
    const blocks = text.split(/\r?\n(?=\s*Title:)/);
    for (const block of blocks) {
      const result = parseDocsItem(block);
      if (result) results.push(result);
    }
  }
  return results;
}

/** Picks the search tool of a `tools/list` answer: an exact `search_fal`, else any name containing "search". */
export function pickSearchTool(names: readonly string[]): string | undefined {
  return names.find((name) => name === "search_fal") ?? names.find((name) => /search/i.test(name));
}

/** An `llms.txt` line: `- [Title](https://link): description`. */
export function parseDocsIndex(text: string): DocsResult[] {
  const results: DocsResult[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*[-*]\s*\[([^\]]+)\]\(([^)\s]+)\)\s*:?\s*(.*)$/.exec(line);
    if (!match) continue;
    results.push({ title: match[1]!.trim(), link: match[2]!.trim(), snippet: trimSnippet(match[3] ?? "") });
  }
  return results;
}

const STOP_WORDS = new Set([
  "a",
  "an",
  "and",
  "are",
  "as",
  "at",
  "be",
  "by",
  "can",
  "do",
  "does",
  "for",
  "from",
  "how",
  "i",
  "in",
  "is",
  "it",
  "of",
  "on",
  "or",
  "the",
  "to",
  "use",
  "using",
  "what",
  "when",
  "with",
  "my",
  "me",
  "fal",
]);

export function keywords(text: string): string[] {
  return [
    ...new Set(
      text
        .toLowerCase()
        .split(/[^a-z0-9]+/)
        .filter((word) => word.length > 1 && !STOP_WORDS.has(word)),
    ),
  ];
}

/** Ranks index entries by keyword hits (title counts double); entries without a hit are dropped. */
export function searchDocsIndex(entries: readonly DocsResult[], query: string, limit: number): DocsResult[] {
  const words = keywords(query);
  if (words.length === 0) return [];
  const scored = entries.map((entry, index) => {
    const title = entry.title.toLowerCase();
    const body = `${entry.snippet} ${entry.link ?? ""}`.toLowerCase();
    let score = 0;
    for (const word of words) {
      if (title.includes(word)) score += 2;
      if (body.includes(word)) score += 1;
    }
    return { entry, score, index };
  });
  return scored
    .filter((item) => item.score > 0)
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, limit)
    .map((item) => item.entry);
}

export interface SearchDocsOptions {
  http: FalHttpClient;
  query: string;
  limit: number;
  signal: AbortSignal;
  /** Time budget of the index download (FAL_MCP_REQUEST_TIMEOUT_MS). */
  timeoutMs: number;
  /** The tool name to try first. */
  toolName: string;
  /** Called when `tools/list` revealed a new name that worked, so later calls use it directly. */
  rememberToolName(name: string): void;
}

let nextRpcId = 1;

async function rpc(
  http: FalHttpClient,
  method: string,
  params: unknown,
  signal: AbortSignal,
): Promise<JsonRpcResponse> {
  const response = await http.request({
    method: "POST",
    url: DOCS_MCP_URL,
    what: "fal's docs search",
    body: { jsonrpc: "2.0", id: nextRpcId++, method, params },
    headers: { accept: "application/json, text/event-stream" },
    // A search changes nothing: safe to retry.
    idempotent: true,
    responseFormat: "sse-or-json",
    schema: jsonRpcResponseSchema,
    signal,
  });
  return response.data;
}

function rpcFailure(answer: JsonRpcResponse): string | undefined {
  if (answer.error) return answer.error.message ?? `JSON-RPC error ${answer.error.code ?? ""}`.trim();
  if (answer.result?.isError) {
    return (
      (answer.result.content ?? [])
        .map((item) => item.text ?? "")
        .join(" ")
        .trim() || "the docs tool reported an error"
    );
  }
  if (!answer.result) return "the answer has neither result nor error";
  return undefined;
}

async function searchViaMcp(options: SearchDocsOptions): Promise<DocsResult[]> {
  const { http, signal, query } = options;
  let answer = await rpc(http, "tools/call", { name: options.toolName, arguments: { query } }, signal);
  let failure = rpcFailure(answer);
  if (failure !== undefined) {
    // The tool may have been renamed (fal did it once): ask for the list once and retry.
    const list = await rpc(http, "tools/list", {}, signal);
    const name = pickSearchTool((list.result?.tools ?? []).map((tool) => tool.name));
    if (!name)
      throw new FalResponseError(`fal's docs search failed (${failure}) and offers no search tool any more.`);
    answer = await rpc(http, "tools/call", { name, arguments: { query } }, signal);
    failure = rpcFailure(answer);
    if (failure !== undefined) throw new FalResponseError(`fal's docs search failed: ${failure}.`);
    options.rememberToolName(name);
  }
  return parseDocsContent(answer.result?.content ?? []).slice(0, options.limit);
}

export async function searchDocs(options: SearchDocsOptions): Promise<DocsSearchAnswer> {
  let mcpError: unknown;
  try {
    return { results: await searchViaMcp(options), source: "docs-search" };
  } catch (error) {
    if (options.signal.aborted) throw error;
    mcpError = error;
  }
  const reason = mcpError instanceof Error ? mcpError.message : String(mcpError);
  try {
    const { data: text } = await options.http.request({
      method: "GET",
      url: DOCS_INDEX_URL,
      what: "fal's docs index",
      idempotent: true,
      responseFormat: "text",
      schema: z.string(),
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    const results = searchDocsIndex(parseDocsIndex(text), options.query, options.limit);
    return { results, source: "llms.txt", fallbackReason: reason };
  } catch (error) {
    if (options.signal.aborted) throw error;
    const indexReason = error instanceof Error ? error.message : String(error);
    const message = `fal's documentation search is unreachable: ${reason}; the docs index failed too (${indexReason}).`;
    const nextStep =
      "Try again in a moment, or read fal's documentation directly at https://fal.ai/docs (index: https://fal.ai/docs/llms.txt).";
    if (error instanceof FalNetworkError || mcpError instanceof FalNetworkError)
      throw new FalNetworkError(
        message,
        error instanceof FalNetworkError ? error.kind : "connection",
        nextStep,
      );
    throw new FalApiError({ status: error instanceof FalApiError ? error.status : 502, message, nextStep });
  }
}
