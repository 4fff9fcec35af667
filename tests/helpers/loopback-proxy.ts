import http from "node:http";
import net from "node:net";

/**
 * A tiny forward proxy on loopback for the proxy tests: CONNECT tunnels and absolute-URI
 * requests, counted. It forwards only to the targets it is given (name → loopback port) and
 * refuses everything else, so nothing a test sends through it can leave the machine.
 */
export interface LoopbackProxy {
  url: string;
  /**
   * "CONNECT host:port", "GET http://host:port/path" (absolute-URI form), and for each request
   * seen inside a tunnel (the targets are plain http) "TUNNEL host:port POST /path".
   */
  readonly passed: string[];
  /** Requests for a target the proxy does not forward to. */
  readonly refused: string[];
  close(): Promise<void>;
}

export async function startLoopbackProxy(targets: Record<string, number>): Promise<LoopbackProxy> {
  const passed: string[] = [];
  const refused: string[] = [];
  const portFor = (hostPort: string) => targets[hostPort.toLowerCase()];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    const line = `${request.method} ${request.url}`;
    let target: URL;
    try {
      target = new URL(request.url ?? "");
    } catch {
      refused.push(line);
      response.writeHead(400).end("absolute URI expected");
      return;
    }
    const port = portFor(target.host);
    if (port === undefined || target.protocol !== "http:") {
      refused.push(line);
      response.writeHead(502).end("not forwarded");
      return;
    }
    passed.push(line);
    const upstream = http.request(
      {
        host: "127.0.0.1",
        port,
        method: request.method,
        path: `${target.pathname}${target.search}`,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on("error", () => response.destroy());
    request.pipe(upstream);
  });
  server.on("connect", (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const line = `CONNECT ${request.url}`;
    const port = portFor(request.url ?? "");
    if (port === undefined) {
      refused.push(line);
      client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
      return;
    }
    passed.push(line);
    const upstream = net.connect(port, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.on("data", (chunk: Buffer) => {
        for (const match of chunk.toString("latin1").matchAll(/^([A-Z]+) (\/\S*) HTTP\/1\.1\r$/gm))
          passed.push(`TUNNEL ${request.url} ${match[1]} ${match[2]}`);
      });
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    passed,
    refused,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
