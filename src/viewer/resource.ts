import { brotliDecompressSync } from "node:zlib";
import { RESULT_VIEWER_HTML_BROTLI_BASE64 } from "./generated/result-viewer-html.js";

/**
 * The MCP Apps result viewer (mcp-notes.md §8), as plain data for the MCP layer, which registers
 * it: the `ui://` resource (`registerResource(name, RESULT_VIEWER_URI, {mimeType, _meta}, read)`
 * answering `resources/read` with `viewerResourceContents(options)`) and the tool `_meta` that
 * points run_model and get_job_result at it. Hosts without MCP Apps ignore both; every result stays
 * complete without the view (text + structuredContent).
 */

export const RESULT_VIEWER_URI = "ui://fal-mcp/result-viewer.html";
export const RESULT_VIEWER_NAME = "fal-mcp result viewer";
/** MCP Apps' MIME type for an HTML view. */
export const RESULT_VIEWER_MIME_TYPE = "text/html;profile=mcp-app";

/** fal's CDN (fal-platform-api.md §10.4: v3.fal.media, v3b.fal.media, fal.media), in the spec's origin/wildcard form. */
export const FAL_CDN_ORIGINS: readonly string[] = ["https://*.fal.media", "https://fal.media"];

/** The tools whose results the viewer shows. */
export const RESULT_VIEWER_TOOLS: readonly string[] = ["run_model", "get_job_result"];

/**
 * The `_meta` to add to those tools' definitions. Both spellings: the nested `ui.resourceUri` of
 * the current spec and the flat `ui/resourceUri` older hosts read (a working Claude Desktop report
 * set both, claude-ai-mcp#61).
 */
export const RESULT_VIEWER_TOOL_META = {
  ui: { resourceUri: RESULT_VIEWER_URI },
  "ui/resourceUri": RESULT_VIEWER_URI,
} as const;

export interface ViewerOptions {
  /**
   * FAL_MCP_BASE_URL when it is set (tests point it at the fake of fal on loopback). The view then
   * loads fal CDN media through the same redirect the server uses, and the CSP allows that origin
   * as well. Leave undefined in normal use: the CSP allows fal's CDN only.
   */
  baseUrl?: string | undefined;
}

/** The resource's `_meta`: CSP domains (media from fal's CDN only, no network calls) and a border. */
export function viewerResourceMeta(options: ViewerOptions = {}) {
  const redirect = options.baseUrl ? [new URL(options.baseUrl).origin] : [];
  return {
    ui: {
      csp: { resourceDomains: [...FAL_CDN_ORIGINS, ...redirect], connectDomains: [] as string[] },
      prefersBorder: true,
    },
  };
}

let html: string | undefined;

/** The viewer's single-file HTML, with the options the view reads at start. */
export function viewerHtml(options: ViewerOptions = {}): string {
  html ??= brotliDecompressSync(Buffer.from(RESULT_VIEWER_HTML_BROTLI_BASE64, "base64")).toString("utf8");
  // `<` escaped so no value can close the script element the options live in.
  const json = JSON.stringify(options.baseUrl ? { baseUrl: options.baseUrl } : {}).replace(/</g, "\\u003c");
  const marker = /(<script type="application\/json" id="fal-mcp-viewer-options">)[\s\S]*?(<\/script>)/;
  if (!marker.test(html)) throw new Error("The result viewer's HTML has no options element; rebuild it.");
  return html.replace(marker, (_match, open: string, close: string) => `${open}${json}${close}`);
}

/** The `resources/read` answer's content item for RESULT_VIEWER_URI. */
export function viewerResourceContents(options: ViewerOptions = {}) {
  return {
    uri: RESULT_VIEWER_URI,
    mimeType: RESULT_VIEWER_MIME_TYPE,
    text: viewerHtml(options),
    _meta: viewerResourceMeta(options),
  };
}
