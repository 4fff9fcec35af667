import { toNodeHandler } from "@modelcontextprotocol/node";
import {
  createMcpHandler,
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
  type AuthInfo,
} from "@modelcontextprotocol/server";
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer as createNodeServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "../config.js";
import { Secret } from "../secret.js";
import type { Services } from "../services.js";
import type { Logger } from "../util/log.js";
import { createServer } from "./server.js";

export interface HttpOptions {
  /** The server's config, with mode "http". */
  config: Config;
  /** Builds the services for one config (a caller's key) and logger; never shared across callers. */
  createServices: (config: Config, logger: Logger) => Services;
  /** The process logger; each caller gets a child that also masks that caller's key. */
  logger: Logger;
  /** Aborts open tool calls (stop waiting; fal jobs keep running) when the process stops. */
  stop: AbortSignal;
}

export interface HttpServing {
  /** The endpoint, e.g. http://127.0.0.1:8080/mcp. */
  url: string;
  /** Stops accepting, lets in-flight requests finish for up to `drainMs`, then cuts the rest. */
  close(drainMs: number): Promise<void>;
}

export const MCP_PATH = "/mcp";

const sha256 = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/** Constant-time equality of two strings (hashing first makes the lengths equal). */
export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

function jsonRpcError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return Response.json(
    { jsonrpc: "2.0", error: { code: -32001, message }, id: null },
    { status, headers: { "Cache-Control": "no-store", ...headers } },
  );
}

const unauthorized = (message: string): Response =>
  jsonRpcError(401, message, { "WWW-Authenticate": 'Bearer realm="fal-mcp"' });

/** The bearer token of `request`, or undefined when there is none. */
function bearerOf(request: Request): string | undefined {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return match?.[1];
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]";
}

/** The bound host as the URL parser writes a Host header's hostname (IPv6 in brackets). */
function hostnameForm(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host.toLowerCase();
}

/**
 * `fal-mcp http`: stateless Streamable HTTP at /mcp for both eras. Every request is checked for
 * Host (DNS rebinding), Origin and a bearer token before the SDK sees it; then a fresh MCP server
 * is built for it, with a fal client for the caller's own key (or the server's key behind
 * FAL_MCP_HTTP_TOKEN). Nothing about one caller outlives its request.
 */
export async function serveOnHttp({
  config,
  createServices,
  logger: log,
  stop,
}: HttpOptions): Promise<HttpServing> {
  const settings = config.http;
  const bound = hostnameForm(settings.host);
  const allowedHosts = [
    ...new Set([
      ...localhostAllowedHostnames(),
      ...(isWildcard(settings.host) ? [] : [bound]),
      ...settings.allowedHosts,
    ]),
  ];
  const allowedOrigins = [
    ...new Set([
      ...localhostAllowedOrigins(),
      ...(isWildcard(settings.host) ? [] : [bound]),
      ...settings.allowedOrigins,
    ]),
  ];
  // With a team token every caller uses the server's key: one fal client (and its caches) for all.
  const shared = settings.token ? createServices(config, log) : undefined;
  const servicesOf = new WeakMap<AuthInfo, Services>();

  const mcp = createMcpHandler(
    ({ era, authInfo }) => {
      const services = authInfo ? servicesOf.get(authInfo) : undefined;
      if (!services) throw new Error("fal-mcp http: request reached the MCP handler without authentication");
      return createServer({ config: services.config, services, era, stop });
    },
    {
      // Stream every answer (SSE) so progress reaches the client and keep-alive comments keep
      // proxies from cutting a long wait; JSON would drop mid-call notifications.
      responseMode: "sse",
      keepAliveMs: 15_000,
      maxRequestBodySize: settings.maxBodyBytes,
      onerror: (error) => log.debug("http request rejected", error.message),
    },
  );

  const handle = async (request: Request): Promise<Response> => {
    const rejected =
      hostHeaderValidationResponse(request, allowedHosts) ??
      originValidationResponse(request, allowedOrigins);
    if (rejected) return rejected;
    if (new URL(request.url).pathname !== MCP_PATH)
      return jsonRpcError(404, `Not found: the endpoint is ${MCP_PATH}`);
    const token = bearerOf(request);
    if (token === undefined) {
      return unauthorized(
        settings.token
          ? "Send Authorization: Bearer <the server's FAL_MCP_HTTP_TOKEN>."
          : "Send Authorization: Bearer <your fal key>.",
      );
    }
    let services: Services;
    if (shared) {
      if (!sameToken(token, settings.token!.reveal())) return unauthorized("The bearer token is not valid.");
      services = shared;
    } else {
      // The caller's key, for this request only: a fresh config, services and a logger that masks
      // that key, all dropped afterwards.
      const callerLog = log.child();
      callerLog.redactSecret(token);
      services = createServices({ ...config, falKey: new Secret(token), falKeySource: "FAL_KEY" }, callerLog);
    }
    const authInfo: AuthInfo = { token: "<redacted>", clientId: "fal-mcp-http", scopes: [] };
    servicesOf.set(authInfo, services);
    return mcp.fetch(request, { authInfo });
  };

  const node = toNodeHandler({ fetch: handle }, { maxRequestBodySize: settings.maxBodyBytes });
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const server: Server = createNodeServer((req, res) => {
    inFlight += 1;
    res.on("close", () => {
      inFlight -= 1;
      if (inFlight === 0) drained?.();
    });
    res.setHeader("X-Accel-Buffering", "no");
    node(req, res).catch((error: unknown) => {
      log.error("http request failed", error);
      if (!res.headersSent) res.writeHead(500).end();
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${hostnameForm(isWildcard(settings.host) ? "127.0.0.1" : settings.host)}:${address.port}${MCP_PATH}`;

  return {
    url,
    async close(drainMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => (drained = resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, drainMs).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
      await mcp.close();
    },
  };
}
