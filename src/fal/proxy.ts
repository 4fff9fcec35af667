// Static: the bundle must hold no import() (the launcher's code-cached script cannot serve one on
// Node 20), and both are loaded at start-up anyway.
import http from "node:http";
import https from "node:https";
import type { ProxyConfig } from "../config.js";

/**
 * The outbound proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY), for every request fal-mcp sends:
 * fetch goes through undici's EnvHttpProxyAgent, the node:http(s) upload PUTs through
 * http(s)-proxy-agent. Both load only when a proxy is set, so a start without one costs nothing.
 *
 * The network guard is not this module's business and is not weakened by it: a URL is checked
 * (its host resolved here and refused when private) before any request, proxied or not, and
 * NO_PROXY only chooses the route. The residual limit: with a proxy, the proxy resolves the host
 * again and may get a different answer than the guard did.
 */

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

/**
 * The proxy URL for `url`, or undefined to connect directly: undici's EnvHttpProxyAgent rules,
 * mirrored so the PUTs route exactly as fetch does (NO_PROXY entries split on commas or spaces,
 * `*` for all, `host:port`, a leading `.` or `*.` matches subdomains; https falls back to the
 * http proxy).
 */
export function proxyFor(url: URL, proxy: ProxyConfig | undefined): string | undefined {
  if (!proxy) return undefined;
  const chosen = url.protocol === "https:" ? (proxy.httpsProxy ?? proxy.httpProxy) : proxy.httpProxy;
  if (!chosen) return undefined;
  if (proxy.noProxy === "*") return undefined;
  const hostname = url.host.replace(/:\d*$/, "").toLowerCase();
  const port = Number.parseInt(url.port, 10) || DEFAULT_PORTS[url.protocol] || 0;
  for (const raw of proxy.noProxy.split(/[,\s]/)) {
    if (!raw) continue;
    const parsed = /^(.+):(\d+)$/.exec(raw);
    const entryHost = (parsed?.[1] ?? raw).replace(/^\*?\./, "").toLowerCase();
    const entryPort = parsed?.[2] ? Number.parseInt(parsed[2], 10) : 0;
    if (entryPort && entryPort !== port) continue;
    if (hostname === entryHost || hostname.endsWith(`.${entryHost}`)) return undefined;
  }
  return chosen;
}

/** A fetch that sends every request through the configured proxy (undici's own fetch and agent). */
export function proxiedFetch(proxy: ProxyConfig): typeof fetch {
  let loaded:
    Promise<{ fetch: typeof import("undici").fetch; dispatcher: import("undici").Dispatcher }> | undefined;
  const load = () =>
    (loaded ??= import("undici").then((undici) => ({
      fetch: undici.fetch,
      // Empty strings, not undefined: undefined would make undici read process.env itself.
      dispatcher: new undici.EnvHttpProxyAgent({
        httpProxy: proxy.httpProxy ?? "",
        httpsProxy: proxy.httpsProxy ?? "",
        noProxy: proxy.noProxy,
      }),
    })));
  return async (input, init) => {
    const { fetch: undiciFetch, dispatcher } = await load();
    // undici's fetch knows its own Request class only: pass the platform's as URL + init.
    if (input instanceof Request) {
      const request = input;
      const body = request.body ?? undefined;
      return await undiciFetch(request.url, {
        method: request.method,
        headers: request.headers,
        signal: request.signal,
        redirect: request.redirect,
        ...(body ? { body, duplex: "half" } : {}),
        ...(init as object),
        dispatcher,
      } as Parameters<typeof undiciFetch>[1]);
    }
    return await undiciFetch(input, {
      ...(init as object),
      dispatcher,
    });
  };
}

/**
 * A one-request agent that tunnels through `via` with CONNECT, for an http or an https target (as
 * undici's agent does for fetch), for the guarded GET: each request has its own agent, destroyed
 * with its connection, so a refused or capped download never leaves a socket behind.
 */
export async function tunnelAgent(via: string): Promise<http.Agent> {
  const { HttpsProxyAgent } = await import("https-proxy-agent");
  return new HttpsProxyAgent(via, { keepAlive: false });
}

export interface PutAgents {
  /** The agent for a PUT to `target` (direct or through the proxy). */
  agentFor(target: URL): http.Agent;
  destroy(): void;
}

/** Keep-alive agents for the upload PUTs, through the proxy where proxyFor says so. */
export async function createPutAgents(
  proxy: ProxyConfig | undefined,
  options: { maxSockets: number },
): Promise<PutAgents> {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
  const direct = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  const proxied = new Map<string, http.Agent>();
  const all: http.Agent[] = [direct.http, direct.https];
  let modules: Promise<[typeof import("http-proxy-agent"), typeof import("https-proxy-agent")]> | undefined;
  if (proxy) modules = Promise.all([import("http-proxy-agent"), import("https-proxy-agent")]);
  const [httpProxyAgent, httpsProxyAgent] = modules ? await modules : [undefined, undefined];
  return {
    agentFor(target) {
      const secure = target.protocol === "https:";
      const via = proxyFor(target, proxy);
      if (!via || !httpProxyAgent || !httpsProxyAgent) return secure ? direct.https : direct.http;
      const key = `${secure ? "https" : "http"} ${via}`;
      let agent = proxied.get(key);
      if (!agent) {
        // https: a CONNECT tunnel; http: the absolute-URI form, as undici's agent does for fetch.
        agent = secure
          ? new httpsProxyAgent.HttpsProxyAgent(via, agentOptions)
          : new httpProxyAgent.HttpProxyAgent(via, agentOptions);
        proxied.set(key, agent);
        all.push(agent);
      }
      return agent;
    },
    destroy() {
      for (const agent of all) agent.destroy();
    },
  };
}
