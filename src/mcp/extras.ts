import type { McpServer } from "@modelcontextprotocol/server";
import type { Config } from "../config.js";
import { prompts } from "../prompts/index.js";
import {
  RESULT_VIEWER_MIME_TYPE,
  RESULT_VIEWER_NAME,
  RESULT_VIEWER_TOOL_META,
  RESULT_VIEWER_TOOLS,
  RESULT_VIEWER_URI,
  viewerResourceContents,
  viewerResourceMeta,
  type ViewerOptions,
} from "../viewer/resource.js";

/**
 * What the server offers beside its tools: the MCP Apps result viewer (a `ui://` resource that
 * hosts with MCP Apps render for run_model and get_job_result results; others ignore it) and the
 * prompts for common flows (Claude Desktop lists them in its "+" menu).
 */
export function registerExtras(server: McpServer, config: Config): void {
  // The redirect origin joins the viewer's CSP only when fal traffic is redirected (a fake of fal).
  const viewer: ViewerOptions = config.baseUrl ? { baseUrl: config.baseUrl } : {};
  server.registerResource(
    RESULT_VIEWER_NAME,
    RESULT_VIEWER_URI,
    { mimeType: RESULT_VIEWER_MIME_TYPE, _meta: viewerResourceMeta(viewer) },
    async () => ({ contents: [viewerResourceContents(viewer)] }),
  );
  for (const prompt of prompts) {
    server.registerPrompt(
      prompt.name,
      { title: prompt.title, description: prompt.description, argsSchema: prompt.argsSchema },
      (args) => ({ messages: prompt.messages(args) }),
    );
  }
}

/** The `_meta` of a tool's definition in tools/list: the viewer's resource for the tools it shows. */
export function toolMeta(toolName: string): Record<string, unknown> | undefined {
  return RESULT_VIEWER_TOOLS.includes(toolName) ? { ...RESULT_VIEWER_TOOL_META } : undefined;
}
