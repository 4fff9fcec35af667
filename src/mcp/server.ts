import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  McpServer,
  inputRequired,
  inputResponse,
  type CallToolResult,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { fileURLToPath } from "node:url";
import type { Config } from "../config.js";
import { errorText } from "../errors.js";
import { writeResultFile } from "../files/result-file.js";
import type { Services } from "../services.js";
import { joinSignals } from "../util/abort.js";
import { budgetFor } from "../util/result-budget.js";
import { guardResult } from "./result-guard.js";
import { isRecord } from "../util/json.js";
import { ApprovalElicitation } from "../jobs/money.js";
import { REQUIRES_USER_INTERACTION_META } from "../jobs/spend-gate.js";
import type { CallerInfo } from "../jobs/context.js";
import type { ToolContext, ToolDefinition } from "../tools/define.js";
import { tools as registry } from "../tools/index.js";
import { VERSION } from "../version.js";
import { registerExtras, toolMeta } from "./extras.js";

const APPROVAL_KEY = "approve_paid_call";
const APPROVAL_FORM = {
  type: "object" as const,
  properties: { approve: { type: "boolean" as const, title: "Run this paid job", default: false } },
  required: ["approve"],
};

/** The user's answer to the approval form, when this call is the retry that carries it. */
function approvalAnswer(ctx: ServerContext): CallerInfo["elicited"] {
  const view = inputResponse(ctx.mcpReq.inputResponses, APPROVAL_KEY);
  if (view.kind !== "elicit") return undefined;
  const state = ctx.mcpReq.requestState<unknown>();
  const fingerprint = typeof state === "string" ? state : undefined;
  const action = view.action === "accept" && view.content?.approve !== true ? "decline" : view.action;
  return { action, fingerprint };
}

/** A tool's `_meta`: the viewer's, and with FAL_MCP_CONFIRM=always the approval key Claude Code honours. */
function metaOf(tool: ToolDefinition, config: Config): Record<string, unknown> | undefined {
  const meta = { ...toolMeta(tool.name) };
  if (tool.paid && config.money.confirm.mode === "always") meta[REQUIRES_USER_INTERACTION_META] = true;
  return Object.keys(meta).length > 0 ? meta : undefined;
}

/** The protocol era of one connection (stdio) or request (HTTP), as the SDK's serving entry decided it. */
export type Era = "legacy" | "modern";

export interface CreateServerOptions {
  config: Config;
  services: Services;
  era: Era;
  /** Aborts every tool call's signal when the process shuts down. */
  stop?: AbortSignal;
  /** Defaults to the full registry; tests may pass a subset. */
  tools?: readonly ToolDefinition[];
}

type LogLevel = "debug" | "info" | "warning" | "error";
const SEVERITY: Record<string, number> = {
  debug: 0,
  info: 1,
  notice: 2,
  warning: 3,
  error: 4,
  critical: 5,
  alert: 6,
  emergency: 7,
};

const INSTRUCTIONS = `fal-mcp gives you fal.ai's generative-media models (image, video, audio, speech, 3D, training).
Typical flow: search_models or recommend_model to pick an endpoint, get_model_schema for its inputs, get_pricing for its cost, then run_model (waits up to a time limit and saves results to the user's disk) or submit_job + check_job for long jobs such as video. A run_model that is still running returns a request_id: call check_job with it later; the job keeps running and is never lost. Local file paths in model inputs are uploaded automatically; upload_file does it explicitly. search_docs searches fal's documentation.`;

const INSTRUCTIONS_HTTP = `fal-mcp gives you fal.ai's generative-media models (image, video, audio, speech, 3D, training).
Typical flow: search_models or recommend_model to pick an endpoint, get_model_schema for its inputs, get_pricing for its cost, then run_model (waits up to a time limit) or submit_job + check_job for long jobs such as video. A run_model that is still running returns a request_id: call check_job with it and the endpoint_id later; the job keeps running. This server is remote: it cannot read local files; pass URLs, base64 data URIs, or upload first. search_docs searches fal's documentation.`;

/**
 * Builds one MCP server instance from the tool registry, for one era. `serveStdio` calls it once per
 * connection and `createMcpHandler` once per HTTP request, so it must stay cheap and touch no
 * process state: the fal client, caches and the job record come in through `services`.
 */
export function createServer({
  config,
  services,
  era,
  stop,
  tools = registry,
}: CreateServerOptions): McpServer {
  // This server's own logger (secrets, level), handed down with the services.
  const log = services.logger;
  const redact = (text: string): string => log.redact(text);
  const server = new McpServer(
    { name: "fal-mcp", title: "fal.ai", version: VERSION },
    {
      capabilities: { logging: {} },
      instructions: config.mode === "http" ? INSTRUCTIONS_HTTP : INSTRUCTIONS,
      // Bounds the work of validating hostile argument objects (deeply nested or huge).
      maxToolInputElements: 10_000,
    },
  );
  const stopSignal = stop ?? new AbortController().signal;

  // 2025 era: the SDK sends every log line until the client sets a level; some clients (the AI SDK)
  // raise each unsolicited notifications/message as an error, so nothing goes out before setLevel.
  let legacyLogLevel: string | undefined;
  if (era === "legacy") {
    server.server.setRequestHandler("logging/setLevel", async (request) => {
      legacyLogLevel = request.params.level;
      return {};
    });
  }

  // Roots exist only in the 2025 era over stdio (2026 has no server-to-client requests; HTTP has no return path).
  let cachedRoots: Promise<string[] | undefined> | undefined;
  const rootsAvailable = era === "legacy" && config.mode !== "http";
  if (rootsAvailable) {
    server.server.setNotificationHandler("notifications/roots/list_changed", async () => {
      cachedRoots = undefined;
    });
  }
  const roots = (): Promise<string[] | undefined> => {
    if (!rootsAvailable || !server.server.getClientCapabilities()?.roots) return Promise.resolve(undefined);
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

  /** The client as approvals care: its name and whether it declared form elicitation. */
  const callerFor = (ctx: ServerContext): CallerInfo => {
    // 2026 era: per request, in the envelope; 2025 era: from initialize.
    const envelope: Record<string, unknown> = isRecord(ctx.mcpReq.envelope) ? ctx.mcpReq.envelope : {};
    const info: unknown = envelope[CLIENT_INFO_META_KEY] ?? server.server.getClientVersion();
    const capabilities: unknown =
      envelope[CLIENT_CAPABILITIES_META_KEY] ?? server.server.getClientCapabilities();
    const elicitation = isRecord(capabilities) ? capabilities.elicitation : undefined;
    // `elicitation: {}` means form mode (2025-06 clients); newer ones say `form`. Stateless 2025
    // HTTP has no way to ask mid-call, so there the confirm path is used.
    const form =
      isRecord(elicitation) &&
      (elicitation.form !== undefined || elicitation.url === undefined) &&
      !(era === "legacy" && config.mode === "http");
    return {
      clientName: isRecord(info) && typeof info.name === "string" ? info.name : undefined,
      formElicitation: form,
      elicited: approvalAnswer(ctx),
    };
  };

  /** The one place the SDK's request context becomes the SDK-free ToolContext. */
  const contextFor = (ctx: ServerContext, signal: AbortSignal): ToolContext => {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    let lastProgress = -Infinity;
    return {
      config,
      fal: services.fal,
      jobs: services.jobs,
      inFlight: services.inFlight,
      catalog: services.catalog,
      money: services.money,
      caller: callerFor(ctx),
      signal,
      async progress(update) {
        if (progressToken === undefined || update.progress <= lastProgress) return;
        lastProgress = update.progress;
        await ctx.mcpReq
          .notify({
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
      async log(level: LogLevel, message) {
        const text = redact(message);
        log[level === "warning" ? "warn" : level](text);
        if (era === "legacy") {
          if (legacyLogLevel === undefined || (SEVERITY[level] ?? 0) < (SEVERITY[legacyLogLevel] ?? 0))
            return;
        }
        // Modern era: the SDK sends only when the request carried a log level, at or above it.
        await ctx.mcpReq
          .log(level, text, "fal-mcp")
          .catch((error: unknown) => log.debug("log notification not sent", error));
      },
      roots,
    };
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
        ...(metaOf(tool, config) ? { _meta: metaOf(tool, config) } : {}),
      },
      // The one error boundary: typed errors become isError results that say what to do next.
      async (args: unknown, ctx: ServerContext): Promise<CallToolResult> => {
        const leave = services.calls.enter();
        try {
          let output;
          // The call stops waiting when the client cancels it or the process shuts down.
          const stopWaiting = joinSignals([ctx.mcpReq.signal, stopSignal]);
          try {
            output = await tool.handler(args as never, contextFor(ctx, stopWaiting.signal));
          } catch (error) {
            if (!(error instanceof ApprovalElicitation)) throw error;
            // Ask with a form; the client calls again with the answer (2025 connections: the SDK's
            // shim sends elicitation/create and re-enters). requestState binds it to these arguments.
            return inputRequired({
              inputRequests: {
                [APPROVAL_KEY]: inputRequired.elicit({
                  message: error.question,
                  requestedSchema: APPROVAL_FORM,
                }),
              },
              requestState: error.fingerprint,
            }) as unknown as CallToolResult;
          } finally {
            stopWaiting.release();
          }
          // The last step before anything leaves: the key out of all of it (strings and keys,
          // encoded forms too), depth bounded, and the whole result within the client's budget.
          // What does not fit is kept in full in a file (stdio; fal-mcp http writes nothing).
          const guarded = await guardResult(
            {
              text: output.text,
              structuredContent: output.structuredContent,
              images: (output.extraContent ?? []).filter((item) => item.type === "image"),
            },
            {
              redactor: log.redactor,
              budget: budgetFor(config.maxResultBytes),
              spill:
                config.mode === "http"
                  ? undefined
                  : (json) => writeResultFile(config.outputDir, tool.name, json),
            },
          );
          return {
            content: [
              { type: "text", text: guarded.text },
              ...guarded.images.map((image) => ({ type: "image" as const, ...image })),
            ],
            structuredContent: guarded.structuredContent,
          };
        } catch (error) {
          const text = redact(errorText(error));
          log.warn(`${tool.name} failed: ${text.split("\n")[0] ?? ""}`);
          if (!(error instanceof Error) || !("nextStep" in error))
            log.debug(`${tool.name} unexpected error`, (error as Error)?.stack);
          return { isError: true, content: [{ type: "text", text }] };
        } finally {
          leave();
        }
      },
    );
  }
  registerExtras(server, config);
  return server;
}
