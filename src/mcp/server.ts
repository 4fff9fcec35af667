import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  RootsListChangedNotificationSchema,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
} from "@modelcontextprotocol/sdk/types.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import { fileURLToPath } from "node:url";
import type { Config } from "../config.js";
import { errorText } from "../errors.js";
import type { Services } from "../services.js";
import { ApprovalElicitation } from "../jobs/money.js";
import { REQUIRES_USER_INTERACTION_META } from "../jobs/spend-gate.js";
import type { CallerInfo } from "../jobs/context.js";
import type { ToolContext, ToolDefinition } from "../tools/define.js";
import { tools as registry } from "../tools/index.js";
import { VERSION } from "../version.js";

export interface CreateServerOptions {
  config: Config;
  services: Services;
  /** Defaults to the full registry; tests may pass a subset. */
  tools?: readonly ToolDefinition[];
}

export interface FalMcpServer {
  server: McpServer;
  /** Stops the server's work (open waits end) and closes the transport. */
  close(): Promise<void>;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const INSTRUCTIONS = `fal-mcp gives you fal.ai's generative-media models (image, video, audio, speech, 3D, training).
Typical flow: search_models or recommend_model to pick an endpoint, get_model_schema for its inputs, get_pricing for its cost, then run_model (waits up to a time limit and saves results to the user's disk) or submit_job + check_job for long jobs such as video. A run_model that is still running returns a request_id: call check_job with it later; the job keeps running and is never lost. Local file paths in model inputs are uploaded automatically; upload_file does it explicitly. search_docs searches fal's documentation.`;

function lazyJsonSchemaValidator(): jsonSchemaValidator {
  let validator: AjvJsonSchemaValidator | undefined;
  return { getValidator: (schema) => (validator ??= new AjvJsonSchemaValidator()).getValidator(schema) };
}

/** Builds the MCP server from the tool registry. Touches no process state. */
export function createServer({ config, services, tools = registry }: CreateServerOptions): FalMcpServer {
  // This server's own logger (secrets, level), handed down with the services.
  const log = services.logger;
  const redact = (text: string) => log.redact(text);
  const server = new McpServer(
    { name: "fal-mcp", title: "fal.ai", version: VERSION },
    {
      capabilities: { logging: {} },
      instructions: INSTRUCTIONS,
      // Bounds the work of validating hostile argument objects (deeply nested or huge).
      maxToolInputElements: 10_000,
      // The SDK builds an ajv instance per server for elicitation replies, which fal-mcp never
      // requests; building it on first use keeps it (and ajv's loading) out of start-up.
      jsonSchemaValidator: lazyJsonSchemaValidator(),
    },
  );
  const stopAll = new AbortController();
  let cachedRoots: Promise<string[] | undefined> | undefined;

  server.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    cachedRoots = undefined;
  });

  const roots = (): Promise<string[] | undefined> => {
    if (!server.server.getClientCapabilities()?.roots) return Promise.resolve(undefined);
    cachedRoots ??= server.server
      .listRoots(undefined, { timeout: 5_000 })
      .then((result) =>
        result.roots.flatMap((root) => {
          try {
            return root.uri.startsWith("file:") ? [fileURLToPath(root.uri)] : [];
          } catch {
            return [];
          }
        }),
      )
      .catch((error: unknown) => {
        log.warn("the client announced roots but listing them failed; using the configured folders", error);
        cachedRoots = undefined;
        return undefined;
      });
    return cachedRoots;
  };

  const callerFor = (elicited?: CallerInfo["elicited"]): CallerInfo => {
    const capabilities = server.server.getClientCapabilities();
    // `elicitation: {}` means form mode (2025-06 clients); newer ones say `form`.
    const elicitation = capabilities?.elicitation as { form?: unknown; url?: unknown } | undefined;
    return {
      clientName: server.server.getClientVersion()?.name,
      formElicitation:
        elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined),
      elicited,
    };
  };

  const contextFor = (extra: Extra, elicited?: CallerInfo["elicited"]): ToolContext => {
    const progressToken = extra._meta?.progressToken;
    let lastProgress = -Infinity;
    return {
      config,
      fal: services.fal,
      jobs: services.jobs,
      catalog: services.catalog,
      money: services.money,
      caller: callerFor(elicited),
      signal: AbortSignal.any([extra.signal, stopAll.signal]),
      async progress(update) {
        if (progressToken === undefined || update.progress <= lastProgress) return;
        lastProgress = update.progress;
        await extra
          .sendNotification({
            method: "notifications/progress",
            params: {
              progressToken,
              progress: update.progress,
              ...(update.total !== undefined ? { total: update.total } : {}),
              ...(update.message !== undefined ? { message: redact(update.message) } : {}),
            },
          })
          .catch((error: unknown) => log.debug("progress notification not sent", error));
      },
      async log(level, message) {
        const text = redact(message);
        log[level === "warning" ? "warn" : level](text);
        if (!server.isConnected()) return;
        await server
          .sendLoggingMessage({ level, logger: "fal-mcp", data: text }, extra.sessionId)
          .catch((error: unknown) => log.debug("log notification not sent", error));
      },
      roots,
    };
  };

  /** Asks the user with a form; undefined when the client did not answer usably. */
  const askApproval = async (question: string, extra: Extra): Promise<"accept" | "decline" | "cancel"> => {
    const answer = await server.server.elicitInput(
      {
        message: question,
        requestedSchema: {
          type: "object",
          properties: { approve: { type: "boolean", title: "Run this paid job", default: false } },
          required: ["approve"],
        },
      },
      { signal: extra.signal, timeout: 10 * 60_000 },
    );
    if (answer.action !== "accept") return answer.action;
    return answer.content?.approve === true ? "accept" : "decline";
  };

  // FAL_MCP_READ_ONLY=1: only tools that change nothing (on fal, on disk, in money) are listed.
  const listed = config.readOnly ? tools.filter((tool) => tool.annotations.readOnlyHint) : tools;
  for (const tool of listed) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        outputSchema: tool.outputSchema,
        annotations: { title: tool.title, ...tool.annotations },
        // FAL_MCP_CONFIRM=always: Claude Code then asks the user before every call of a paid tool.
        ...(tool.paid && config.money.confirm.mode === "always"
          ? { _meta: { [REQUIRES_USER_INTERACTION_META]: true } }
          : {}),
      },
      // The one error boundary: typed errors become isError results that say what to do next.
      async (args: unknown, extra: Extra): Promise<CallToolResult> => {
        try {
          let output;
          try {
            output = await tool.handler(args as never, contextFor(extra));
          } catch (error) {
            if (!(error instanceof ApprovalElicitation)) throw error;
            // The approval form, then the same call again with the answer bound to these arguments.
            const action = await askApproval(error.question, extra).catch(() => undefined);
            if (action === undefined) throw error;
            output = await tool.handler(
              args as never,
              contextFor(extra, { action, fingerprint: error.fingerprint }),
            );
          }
          return {
            content: [{ type: "text", text: redact(output.text) }, ...(output.extraContent ?? [])],
            structuredContent: output.structuredContent,
          };
        } catch (error) {
          const text = redact(errorText(error));
          log.warn(`${tool.name} failed: ${text.split("\n")[0] ?? ""}`);
          if (!(error instanceof Error) || !("nextStep" in error))
            log.debug(`${tool.name} unexpected error`, (error as Error)?.stack);
          return { isError: true, content: [{ type: "text", text }] };
        }
      },
    );
  }

  return {
    server,
    async close() {
      stopAll.abort(new Error("fal-mcp is shutting down"));
      await server.close();
    },
  };
}
